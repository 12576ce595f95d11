"""LifoQueue and PriorityQueue benchmark: ringq against the standard library.

Implementations (one table, parametrized over them):

- ``stdlib LifoQueue``      queue.LifoQueue (a list in a threading.Condition)
- ``ringq LifoQueue``       ringq.LifoQueue
- ``stdlib PriorityQueue``  queue.PriorityQueue (heapq in a threading.Condition)
- ``ringq PriorityQueue``   ringq.PriorityQueue

Workloads, each with ``put``/``get`` one item at a time:

- ``1 thread``  one thread puts a block of items, then gets them back
- ``1p -> 1c``  one producer thread, one consumer thread
- ``4p -> 4c``  four producer threads, four consumer threads

Items are ints; the priority queues get them in a shuffled order, the
same for both implementations. Consumers take a fixed share each, so no
sentinel has to sort last. Every implementation moves the same number of
items through a queue of the same maxsize (1024): a get from a heap costs
more the more items wait in it, so a producer that outruns its consumer
must not make the faster implementation's heaps deeper than the other's.

Rounds are interleaved (every implementation runs each workload once per
round, in a shuffled order). The table reports the median ns per item of
each implementation and the median of the paired ratios (stdlib / ringq,
both from the same round), and checks the target: ringq at least 10 times
faster per item than its standard-library counterpart.

    python benches/python/bench_lifo_priority.py [--rounds 5] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import platform
import queue
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import ringq

BLOCK = 256  # the block the single-thread workload cycles
MAXSIZE = 1024  # see above: bounds the heaps' depth alike
TARGET = 10.0  # ringq must be at least this many times faster per item


@dataclass(frozen=True)
class Impl:
    name: str
    kind: str  # "LifoQueue" or "PriorityQueue"
    make: Callable[[], Any]


# Every implementation moves the same number of items: how deep a heap gets
# (and so what a get costs) depends on how many items wait in it.
IMPLS = [
    Impl("stdlib LifoQueue", "LifoQueue", lambda: queue.LifoQueue(MAXSIZE)),
    Impl("ringq LifoQueue", "LifoQueue", lambda: ringq.LifoQueue(MAXSIZE)),
    Impl("stdlib PriorityQueue", "PriorityQueue", lambda: queue.PriorityQueue(MAXSIZE)),
    Impl("ringq PriorityQueue", "PriorityQueue", lambda: ringq.PriorityQueue(MAXSIZE)),
]
KINDS = ["LifoQueue", "PriorityQueue"]


def shuffled(n: int, seed: int) -> list[int]:
    items = list(range(n))
    random.Random(seed).shuffle(items)
    return items


def single_thread(impl: Impl, n: int) -> float:
    q = impl.make()
    block = shuffled(BLOCK, 1)
    put, get = q.put, q.get
    start = time.perf_counter()
    for _ in range(n // BLOCK):
        for x in block:
            put(x)
        for _ in block:
            get()
    return time.perf_counter() - start


def producers_consumers(impl: Impl, n: int, n_producers: int, n_consumers: int) -> float:
    q = impl.make()
    per_producer = n // n_producers
    per_consumer = per_producer * n_producers // n_consumers
    inputs = [shuffled(per_producer, p) for p in range(n_producers)]
    got = [0] * n_consumers

    def producer(p: int) -> None:
        put = q.put
        for x in inputs[p]:
            put(x)

    def consumer(c: int) -> None:
        get = q.get
        for _ in range(per_consumer):
            get()
        got[c] = per_consumer

    threads = [threading.Thread(target=consumer, args=(c,)) for c in range(n_consumers)]
    threads += [threading.Thread(target=producer, args=(p,)) for p in range(n_producers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    assert sum(got) == per_producer * n_producers and q.empty(), impl.name
    return elapsed


@dataclass(frozen=True)
class Workload:
    name: str
    items: int
    run: Callable[[Impl, int], float]


WORKLOADS = [
    # Threaded runs last many GIL switch intervals (5 ms), so they measure
    # the steady state rather than who got the GIL first.
    Workload("1 thread", 100_000, single_thread),
    Workload("1p -> 1c", 100_000, lambda i, n: producers_consumers(i, n, 1, 1)),
    Workload("4p -> 4c", 100_000, lambda i, n: producers_consumers(i, n, 4, 4)),
]


def measure(rounds: int, scale: float) -> dict[tuple[str, str], list[float]]:
    """ns per item of every round, for each (workload, implementation)."""
    samples: dict[tuple[str, str], list[float]] = {}
    rng = random.Random(12345)

    def items(w: Workload, impl: Impl, fraction: float = 1.0) -> int:
        n = int(w.items * scale * fraction)
        return max(BLOCK * 4, n // (4 * BLOCK) * (4 * BLOCK))

    for w in WORKLOADS:  # warm-up, not recorded
        for impl in IMPLS:
            w.run(impl, items(w, impl, 0.1))
    for r in range(rounds):
        for w in WORKLOADS:
            order = list(IMPLS)
            rng.shuffle(order)
            for impl in order:
                n = items(w, impl)
                samples.setdefault((w.name, impl.name), []).append(w.run(impl, n) * 1e9 / n)
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return samples


def report(samples: dict[tuple[str, str], list[float]]) -> bool:
    """Prints the table; returns whether every target was met."""
    header = (
        f"{'workload':<10} {'class':<14} {'stdlib ns':>10} {'ringq ns':>9} "
        f"{'speed-up':>9} {'(min..max)':>14}  target >= {TARGET:.0f}x"
    )
    print(header)
    print("-" * len(header))
    all_met = True
    for w in WORKLOADS:
        for kind in KINDS:
            theirs = samples[(w.name, f"stdlib {kind}")]
            ours = samples[(w.name, f"ringq {kind}")]
            ratios = [t / o for t, o in zip(theirs, ours)]  # paired by round
            ratio = statistics.median(ratios)
            met = ratio >= TARGET
            all_met &= met
            print(
                f"{w.name:<10} {kind:<14} {statistics.median(theirs):10.0f} {statistics.median(ours):9.0f} "
                f"{ratio:8.1f}x {min(ratios):6.1f}..{max(ratios):<6.1f}  {'MET' if met else 'MISS'}"
            )
    return all_met


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the item counts")
    args = parser.parse_args(argv)

    print(
        f"CPython {platform.python_version()} on {platform.machine()}, "
        f"{args.rounds} rounds (median; speed-up = median of paired stdlib/ringq ratios)",
        flush=True,
    )
    started = time.perf_counter()
    samples = measure(args.rounds, args.scale)
    print()
    all_met = report(samples)
    print(f"\nall targets {'MET' if all_met else 'not met'}; took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
