"""asyncio benchmark: ringq's async methods against the async queues.

Implementations (the orjson pattern: one table, parametrized over them):

- ``ringq Queue``    ringq.Queue: put/get in threads, async_put/async_get
                     in coroutines, on the same object
- ``asyncio Queue``  asyncio.Queue (coroutines only)
- ``janus``          janus.Queue: sync_q in threads, async_q in coroutines
- ``culsans``        culsans.Queue: sync_q in threads, async_q in coroutines

A peer that is not installed is left out, and the benchmark says so.

Workloads, one producer and one consumer, maxsize 1024:

- ``thread -> coro``  a thread puts, a coroutine awaits each get
- ``coro -> thread``  a coroutine awaits each put, a thread gets
- ``coro -> coro``    two coroutines on one loop

Each workload runs on asyncio's own loop, and again on uvloop's when uvloop
is installed (otherwise its rows are left out, and the benchmark says so).

Rounds are interleaved across implementations and loops (each runs each
workload on each loop once per round, in a shuffled order) so that drift in
the machine's load hits all of them alike. The table reports the median of
the rounds in nanoseconds per item, and the median of the *paired* ratios
(each round's time divided by a peer's time on the same loop in the same
round): how many times faster ringq is than that peer.

    python benches/python/bench_aio.py [--rounds 7] [--items 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import ringq

MAXSIZE = 1024


@dataclass(frozen=True)
class Impl:
    name: str
    # Makes the queue; called inside the running loop (janus needs one).
    make: Callable[[], Any]
    # (queue) -> the thread side's put and get
    sync_put: Optional[Callable[[Any], Callable[[Any], None]]]
    sync_get: Optional[Callable[[Any], Callable[[], Any]]]
    # (queue) -> the coroutine side's put and get
    async_put: Callable[[Any], Callable[[Any], Any]]
    async_get: Callable[[Any], Callable[[], Any]]
    close: Callable[[Any], Any] = lambda q: None


def implementations() -> tuple[list[Impl], list[str]]:
    impls = [
        Impl(
            "ringq Queue",
            lambda: ringq.Queue(MAXSIZE),
            lambda q: q.put,
            lambda q: q.get,
            lambda q: q.async_put,
            lambda q: q.async_get,
        ),
        Impl(
            "asyncio Queue",
            lambda: asyncio.Queue(MAXSIZE),
            None,
            None,
            lambda q: q.put,
            lambda q: q.get,
        ),
    ]
    missing = []
    for peer in ("janus", "culsans"):
        try:
            module = importlib.import_module(peer)
        except ImportError:
            missing.append(peer)
            continue
        impls.append(
            Impl(
                peer,
                lambda module=module: module.Queue(MAXSIZE),
                lambda q: q.sync_q.put,
                lambda q: q.sync_q.get,
                lambda q: q.async_q.put,
                lambda q: q.async_q.get,
                lambda q: q.close(),
            )
        )
    return impls, missing


async def thread_to_coro(impl: Impl, n: int) -> float:
    assert impl.sync_put is not None
    q = impl.make()
    put, get = impl.sync_put(q), impl.async_get(q)

    def produce() -> None:
        for i in range(n):
            put(i)

    start = time.perf_counter()
    producer = threading.Thread(target=produce)
    producer.start()
    for _ in range(n):
        await get()
    elapsed = time.perf_counter() - start
    producer.join()
    impl.close(q)
    return elapsed


async def coro_to_thread(impl: Impl, n: int) -> float:
    assert impl.sync_get is not None
    q = impl.make()
    put, get = impl.async_put(q), impl.sync_get(q)
    done = threading.Event()

    def consume() -> None:
        for _ in range(n):
            get()
        done.set()

    start = time.perf_counter()
    consumer = threading.Thread(target=consume)
    consumer.start()
    for i in range(n):
        await put(i)
    await asyncio.get_running_loop().run_in_executor(None, done.wait)
    elapsed = time.perf_counter() - start
    consumer.join()
    impl.close(q)
    return elapsed


async def coro_to_coro(impl: Impl, n: int) -> float:
    q = impl.make()
    put, get = impl.async_put(q), impl.async_get(q)

    async def produce() -> None:
        for i in range(n):
            await put(i)

    async def consume() -> None:
        for _ in range(n):
            await get()

    start = time.perf_counter()
    await asyncio.gather(produce(), consume())
    elapsed = time.perf_counter() - start
    impl.close(q)
    return elapsed


WORKLOADS: dict[str, Callable[[Impl, int], Any]] = {
    "thread -> coro": thread_to_coro,
    "coro -> thread": coro_to_thread,
    "coro -> coro": coro_to_coro,
}


def loops() -> tuple[dict[str, Callable[[Any], Any]], list[str]]:
    """The event loops to run each workload on: name -> run(coroutine)."""
    runners: dict[str, Callable[[Any], Any]] = {"asyncio": asyncio.run}
    try:
        import uvloop
    except ImportError:
        return runners, ["uvloop"]
    runners["uvloop"] = uvloop.run
    return runners, []


def applies(impl: Impl, workload: str) -> bool:
    return workload == "coro -> coro" or impl.sync_put is not None


# (workload, loop, implementation) -> ns/item, one per round
Samples = dict[tuple[str, str, str], list[float]]


def measure(impls: list[Impl], runners: dict[str, Callable[[Any], Any]], rounds: int, n: int) -> Samples:
    samples: Samples = {}
    rng = random.Random(0)
    for r in range(rounds):
        plan = [(w, loop, i) for w in WORKLOADS for loop in runners for i in impls if applies(i, w)]
        rng.shuffle(plan)
        for workload, loop, impl in plan:
            seconds = runners[loop](WORKLOADS[workload](impl, n))
            samples.setdefault((workload, loop, impl.name), []).append(seconds / n * 1e9)
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    return samples


def paired(samples: Samples, workload: str, loop: str, impl: str, peer: str) -> Optional[float]:
    ours, theirs = samples.get((workload, loop, impl)), samples.get((workload, loop, peer))
    if not ours or not theirs:
        return None
    return statistics.median(t / o for o, t in zip(ours, theirs))


def report(impls: list[Impl], runners: dict[str, Callable[[Any], Any]], samples: Samples) -> None:
    names = [i.name for i in impls]
    peers = [p for p in names if p != "ringq Queue"]
    head = f"{'workload':16} {'loop':8} {'implementation':16} {'ns/item':>10}" + "".join(
        f" {'x ' + p:>16}" for p in peers
    )
    print(head)
    print("-" * len(head))
    for workload in WORKLOADS:
        for loop in runners:
            for name in names:
                if (workload, loop, name) not in samples:
                    continue
                median = statistics.median(samples[(workload, loop, name)])
                line = f"{workload:16} {loop:8} {name:16} {median:10.0f}"
                for peer in peers:
                    ratio = paired(samples, workload, loop, "ringq Queue", peer) if name == "ringq Queue" else None
                    line += f" {ratio:16.1f}" if ratio is not None else f" {'':16}"
                print(line)
    print()
    print("x PEER: the median of the paired ratios PEER time / ringq time on the same loop (higher is faster).")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args(argv)
    impls, missing = implementations()
    runners, missing_loops = loops()
    for peer in missing:
        print(f"{peer} is not installed: left out", file=sys.stderr)
    for loop in missing_loops:
        print(f"{loop} is not installed: its rows are left out", file=sys.stderr)
    samples = measure(impls, runners, args.rounds, args.items)
    report(impls, runners, samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
