"""Process -> coroutine benchmark: a ProcessQueue's async_get against the
same queue's blocking get.

A forked producer process puts MESSAGES messages (``bytes`` of 64 bytes,
pickled by put()), then an end marker. The consumer, in this process, is
one of:

- ``get()``                 a plain loop of blocking get() calls (the thread
                            API: spin, then sleep on the futex)
- ``async_get asyncio``     one coroutine awaiting async_get() on asyncio's
                            default loop (the wait goes through the queue's
                            readiness descriptor and the loop's add_reader)
- ``async_get uvloop``      the same on uvloop, when it is installed
- ``async_get_many``        one coroutine awaiting async_get_many(256)

The producer builds its messages before the clock starts and waits on a
barrier; the consumer's clock runs from the barrier to the end marker.
Rounds are interleaved (each case once per round, in a shuffled order). The
table reports the median nanoseconds per message and the median of the
paired ratios against ``get()`` in the same round (above 1: slower than the
blocking get).

    python benches/python/bench_process_aio.py [--rounds 7] [--messages 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import random
import statistics
import sys
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional

import ringq

SIZE = 64
BATCH = 256
FORK = mp.get_context("fork")


def producer(q: Any, count: int, barrier: Any) -> None:
    messages = [i.to_bytes(8, "little") * (SIZE // 8) for i in range(count)]
    barrier.wait()
    for m in messages:
        q.put(m)
    q.put(None)


def consume_blocking(q: Any) -> int:
    n = 0
    while q.get() is not None:
        n += 1
    return n


async def consume_async(q: Any) -> int:
    n = 0
    while await q.async_get() is not None:
        n += 1
    return n


async def consume_async_many(q: Any) -> int:
    n = 0
    while True:
        for m in await q.async_get_many(BATCH):
            if m is None:
                return n
            n += 1


def uvloop_runner() -> Optional[Callable[[Awaitable[int]], int]]:
    try:
        import uvloop
    except ImportError:
        return None

    def run(main: Awaitable[int]) -> int:
        loop = uvloop.new_event_loop()
        try:
            return loop.run_until_complete(main)
        finally:
            loop.close()

    return run


def cases() -> Dict[str, Callable[[Any], int]]:
    out: Dict[str, Callable[[Any], int]] = {
        "get()": consume_blocking,
        "async_get asyncio": lambda q: asyncio.run(consume_async(q)),
        "async_get_many asyncio": lambda q: asyncio.run(consume_async_many(q)),
    }
    uv = uvloop_runner()
    if uv is None:
        print("uvloop is not installed: its rows are left out", file=sys.stderr)
    else:
        out["async_get uvloop"] = lambda q: uv(consume_async(q))
    return out


def run_once(consume: Callable[[Any], int], count: int) -> float:
    q = ringq.ProcessQueue()
    barrier = FORK.Barrier(2)
    p = FORK.Process(target=producer, args=(q, count, barrier))
    p.start()
    barrier.wait()
    start = time.perf_counter_ns()
    got = consume(q)
    elapsed = time.perf_counter_ns() - start
    p.join()
    if got != count:
        raise SystemExit(f"received {got} messages of {count}")
    return elapsed / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    table = cases()
    samples: Dict[str, List[float]] = {name: [] for name in table}
    rng = random.Random(0)
    for _ in range(args.rounds):
        order = list(table)
        rng.shuffle(order)
        for name in order:
            samples[name].append(run_once(table[name], args.messages))
    base = samples["get()"]
    print(
        f"\nProcessQueue, 1 producer process -> 1 consumer, {SIZE} B messages, "
        f"{args.messages} per round, {args.rounds} rounds (median ns per message)"
    )
    print(f"{'consumer':<26}{'ns/msg':>10}{'vs get()':>12}")
    for name, values in samples.items():
        ratio = statistics.median(v / b for v, b in zip(values, base))
        print(f"{name:<26}{statistics.median(values):>10.0f}{ratio:>11.2f}x")


if __name__ == "__main__":
    main()
