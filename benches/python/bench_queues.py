"""Python queue benchmark: ringq against the standard library.

Implementations (the orjson pattern: one table, parametrized over them):

- ``stdlib Queue``        queue.Queue
- ``stdlib SimpleQueue``  queue.SimpleQueue
- ``ringq Queue``         ringq.Queue
- ``ringq SimpleQueue``   ringq.SimpleQueue
- ``ringq SPSCQueue``     ringq.SPSCQueue (one producer, one consumer only)
- ``ringq batch``         ringq.Queue driven by put_many/get_many (and
                          task_done(count) in the pool)

Workloads:

- ``1 thread``  one thread puts a block of items, then gets them back
- ``1p -> 1c``  one producer thread, one consumer thread
- ``4p -> 4c``  four producer threads, four consumer threads
- ``pool+join`` a main thread feeds a pool of four workers, then waits for
  them: ``task_done``/``join`` on the Queue kinds, sentinels and
  ``Thread.join`` on the SimpleQueue kinds (which have no ``join``)

Rounds are interleaved across implementations (every implementation runs
each workload once per round, in a shuffled order) so that drift in the
machine's load hits all of them alike. The table reports the median of
the rounds in nanoseconds per item, and the median of the *paired* ratios
(each round's time divided by the baseline's time in the same round) to
queue.Queue and to queue.SimpleQueue: below 1 means cheaper per item.

Then each performance target is printed with MET or MISS, judged on those
paired ratios. Threaded consumers always block in get() (a consumer that
spins on get(False) would measure the interpreter's switch interval, not
the queue).

    python benches/python/bench_queues.py [--rounds 7] [--out chart.png]
"""

from __future__ import annotations

import argparse
import os
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

BLOCK = 256  # batch size, and the block the single-thread workload cycles
# maxsize of the Queue kinds and the SPSC queue: room for many batches, so
# producers rarely block, as with the (unbounded) SimpleQueue baselines.
CAPACITY = 1 << 16


@dataclass(frozen=True)
class Impl:
    name: str
    make: Callable[[], Any]
    batch: bool = False  # drive it with put_many/get_many
    has_join: bool = False  # task_done/join
    multi: bool = True  # may have several producers or consumers
    # queue.Queue is so much slower that a share of the items is enough to
    # measure it; the result is per item either way.
    share: float = 1.0


IMPLS = [
    Impl("stdlib Queue", lambda: queue.Queue(CAPACITY), has_join=True, share=0.1),
    Impl("stdlib SimpleQueue", queue.SimpleQueue),
    Impl("ringq Queue", lambda: ringq.Queue(CAPACITY), has_join=True),
    Impl("ringq SimpleQueue", ringq.SimpleQueue),
    Impl("ringq SPSCQueue", lambda: ringq.SPSCQueue(CAPACITY), multi=False),
    Impl("ringq batch", lambda: ringq.Queue(CAPACITY), batch=True, has_join=True),
]
BASELINES = ("stdlib Queue", "stdlib SimpleQueue")


def run_threads(targets: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def single_thread(impl: Impl, n: int) -> float:
    q = impl.make()
    block = list(range(BLOCK))
    rounds = n // BLOCK
    start = time.perf_counter()
    if impl.batch:
        for _ in range(rounds):
            q.put_many(block)
            q.get_many(BLOCK)
    else:
        put, get = q.put, q.get
        for _ in range(rounds):
            for x in block:
                put(x)
            for _ in block:
                get()
    return time.perf_counter() - start


def producers_consumers(impl: Impl, n: int, n_producers: int, n_consumers: int) -> float:
    """Each producer puts its share, then the main thread puts one stop
    sentinel (None) per consumer."""
    q = impl.make()
    per = n // n_producers
    items = list(range(per))
    counts = [0] * n_consumers

    def producer() -> None:
        if impl.batch:
            for s in range(0, per, BLOCK):
                q.put_many(items[s : s + BLOCK])
        else:
            put = q.put
            for x in items:
                put(x)

    def consumer(c: int) -> None:
        got = 0
        if impl.batch:
            while True:
                batch = q.get_many(BLOCK)
                # The stop sentinels come after every item, so a batch that
                # holds one ends with it (and scanning each batch would cost
                # a comparison per item).
                if batch[-1] is None:
                    stops = batch.count(None)
                    got += len(batch) - stops
                    if stops > 1:
                        q.put_many([None] * (stops - 1))  # the others' sentinels
                    break
                got += len(batch)
        else:
            get = q.get
            while get() is not None:
                got += 1
        counts[c] = got

    consumers = [threading.Thread(target=consumer, args=(c,)) for c in range(n_consumers)]
    start = time.perf_counter()
    for t in consumers:
        t.start()
    run_threads([producer] * n_producers)
    for _ in consumers:
        q.put(None)
    for t in consumers:
        t.join()
    elapsed = time.perf_counter() - start
    assert sum(counts) == per * n_producers, (impl.name, sum(counts))
    return elapsed


def pool_with_join(impl: Impl, n: int, workers: int = 4) -> float:
    q = impl.make()
    items = list(range(n))
    done = [0] * workers

    def worker(w: int) -> None:
        count = 0
        if impl.batch:
            while True:
                batch = q.get_many(BLOCK)
                # Sentinels come last (see producers_consumers).
                stops = batch.count(None) if batch[-1] is None else 0
                count += len(batch) - stops
                q.task_done(len(batch))  # ringq extension: a batch at once
                if stops:
                    if stops > 1:
                        q.put_many([None] * (stops - 1))
                    break
        elif impl.has_join:
            get, task_done = q.get, q.task_done
            while (x := get()) is not None:
                count += 1
                task_done()
            task_done()
        else:
            get = q.get
            while get() is not None:
                count += 1
        done[w] = count

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    if impl.batch:
        for s in range(0, n, BLOCK):
            q.put_many(items[s : s + BLOCK])
        q.join()
    elif impl.has_join:
        put = q.put
        for x in items:
            put(x)
        q.join()
    else:
        put = q.put
        for x in items:
            put(x)
    for _ in threads:
        q.put(None)
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    assert sum(done) == n, (impl.name, sum(done))
    return elapsed


@dataclass(frozen=True)
class Workload:
    name: str
    items: int
    run: Callable[[Impl, int], float]
    applies: Callable[[Impl], bool]


WORKLOADS = [
    # Threaded runs must last many GIL switch intervals (5 ms) to measure
    # the steady state rather than who got the GIL first: about 10-20 of
    # them at the queues' speed.
    Workload("1 thread", 400_000, single_thread, lambda i: True),
    Workload("1p -> 1c", 1_000_000, lambda i, n: producers_consumers(i, n, 1, 1), lambda i: True),
    Workload("4p -> 4c", 1_000_000, lambda i, n: producers_consumers(i, n, 4, 4), lambda i: i.multi),
    Workload("pool+join", 1_000_000, pool_with_join, lambda i: i.multi),
]


Samples = dict[tuple[str, str], list[float]]


def measure(rounds: int, scale: float) -> Samples:
    """Nanoseconds per item for each (workload, implementation), one
    sample per round."""
    samples: Samples = {}
    rng = random.Random(12345)
    # A warm-up round, not recorded: imports, allocator, branch predictors,
    # and the one-time costs of the first wait in the process.
    for w in WORKLOADS:
        for impl in IMPLS:
            if w.applies(impl):
                w.run(impl, max(BLOCK * 16, int(w.items * scale * impl.share) // 10))
    for r in range(rounds):
        for w in WORKLOADS:
            order = [impl for impl in IMPLS if w.applies(impl)]
            rng.shuffle(order)
            for impl in order:
                n = max(BLOCK * 16, int(w.items * scale * impl.share) // (4 * BLOCK) * (4 * BLOCK))
                seconds = w.run(impl, n)
                samples.setdefault((w.name, impl.name), []).append(seconds * 1e9 / n)
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return samples


def medians(samples: Samples) -> dict[tuple[str, str], float]:
    return {key: statistics.median(values) for key, values in samples.items()}


def paired_ratio(samples: Samples, workload: str, impl: str, baseline: str) -> Optional[float]:
    """The median over rounds of impl's time / baseline's time in the same
    round; None if either did not run."""
    mine = samples.get((workload, impl))
    base = samples.get((workload, baseline))
    if not mine or not base:
        return None
    return statistics.median(a / b for a, b in zip(mine, base))


def print_table(samples: Samples) -> None:
    results = medians(samples)
    header = f"{'workload':<10} {'implementation':<19} {'ns/item':>9} {'/ Queue':>9} {'/ SimpleQ':>10}"
    print(header)
    print("-" * len(header))
    for w in WORKLOADS:
        for impl in IMPLS:
            ns = results.get((w.name, impl.name))
            if ns is None:
                print(f"{w.name:<10} {impl.name:<19} {'n/a':>9}")
                continue
            vq = paired_ratio(samples, w.name, impl.name, BASELINES[0])
            vs = paired_ratio(samples, w.name, impl.name, BASELINES[1])
            cq = f"{vq:8.3f}x" if vq is not None else ""
            cs = f"{vs:9.3f}x" if vs is not None else ""
            print(f"{w.name:<10} {impl.name:<19} {ns:9.0f} {cq:>9} {cs:>10}")
        print()


@dataclass(frozen=True)
class Target:
    """impl's time per item, as a paired ratio to baseline's, is at most
    `at_most` in `workload`."""

    workload: str
    impl: str
    baseline: str
    at_most: float
    label: str


def targets() -> list[Target]:
    sq, q = BASELINES[1], BASELINES[0]
    out = []
    for w in ("1 thread", "1p -> 1c"):
        out.append(Target(w, "ringq SimpleQueue", sq, 0.8, "SimpleQueue <= 0.8x queue.SimpleQueue"))
    for w in ("4p -> 4c", "pool+join"):
        out.append(Target(w, "ringq SimpleQueue", sq, 1.0, "SimpleQueue <= 1.0x queue.SimpleQueue"))
    for w in ("1 thread", "1p -> 1c", "4p -> 4c", "pool+join"):
        out.append(Target(w, "ringq Queue", sq, 0.9, f"Queue({CAPACITY}) <= 0.9x queue.SimpleQueue"))
        out.append(Target(w, "ringq Queue", q, 0.1, f"Queue({CAPACITY}) >= 10x queue.Queue"))
    out.append(Target("1p -> 1c", "ringq SPSCQueue", sq, 0.7, "SPSCQueue <= 0.7x queue.SimpleQueue"))
    for w in ("1p -> 1c", "4p -> 4c"):
        out.append(Target(w, "ringq batch", sq, 1 / 3, "put_many/get_many >= 3x queue.SimpleQueue"))
    return out


def print_targets(samples: Samples) -> int:
    """Prints each target with MET or MISS; returns how many were missed."""
    missed = 0
    print("targets (median of paired ratios, time per item):")
    for t in targets():
        ratio = paired_ratio(samples, t.workload, t.impl, t.baseline)
        if ratio is None:
            verdict, shown = "MISS", "did not run"
        else:
            verdict = "MET " if ratio <= t.at_most else "MISS"
            shown = f"{ratio:.3f}x (limit {t.at_most:.3f}x)"
        missed += verdict == "MISS"
        print(f"  {verdict} {t.workload:<10} {t.label:<45} {shown}")
    return missed


def draw_chart(samples: Samples, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = medians(samples)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig, ax = plt.subplots(figsize=(11, 5.5))
    width = 0.8 / len(IMPLS)
    for k, impl in enumerate(IMPLS):
        xs, ys = [], []
        for i, w in enumerate(WORKLOADS):
            ns = results.get((w.name, impl.name))
            if ns is not None:
                xs.append(i + (k - (len(IMPLS) - 1) / 2) * width)
                ys.append(ns)
        bars = ax.bar(xs, ys, width, label=impl.name)
        ax.bar_label(bars, labels=[f"{y:.0f}" for y in ys], fontsize=6, rotation=90, padding=2)
    ax.set_xticks(range(len(WORKLOADS)), [w.name for w in WORKLOADS])
    ax.set_yscale("log")
    ax.set_ylim(top=max(results.values()) * 4)  # room for the bar labels
    ax.set_ylabel("ns per item (median, log scale; lower is better)")
    ax.set_title(
        f"Python queues: ringq vs queue (CPython {platform.python_version()}, {os.cpu_count()} CPUs)"
    )
    ax.legend(fontsize=8, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the item counts")
    parser.add_argument("--out", default=os.path.join("benches", "results", "python.png"))
    args = parser.parse_args(argv)

    print(
        f"CPython {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{args.rounds} rounds (median), switch interval {sys.getswitchinterval() * 1e3:.0f} ms",
        flush=True,
    )
    started = time.perf_counter()
    samples = measure(args.rounds, args.scale)
    print()
    print_table(samples)
    missed = print_targets(samples)
    print()
    try:
        draw_chart(samples, args.out)
        print(f"chart: {os.path.abspath(args.out)}")
    except ImportError:
        # The numbers above are the result; the chart is a view of them.
        print("no chart: matplotlib is not installed here (make bench-python installs it)")
    print(f"took {time.perf_counter() - started:.0f} s; {missed} target(s) missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
