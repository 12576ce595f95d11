"""A process pool on two queues: worker processes take CPU-bound tasks from
one queue and put results on another.

Threads cannot run Python code in parallel (they share one GIL), so
CPU-bound Python work goes to processes, and the queues between them carry
every task and every result. When tasks are small, the queue's cost per
message decides whether the pool is faster than one process at all. The
same code runs on ``multiprocessing.Queue`` or on ``ringq.ProcessQueue``;
only the constructor changes. Pick one with ``--impl``:

    python examples/python/process_pool.py --impl ringq
    python examples/python/process_pool.py --impl multiprocessing

It prints how long the pool took, how long the same work takes in this
process alone, and the speed-up (above 1 is faster than one process). It
also prints the CPU time each used, which on a busy machine, where the
workers may not get a core each, says more than the clock.

How this version avoids the usual ways such a pool hangs or loses work:

- Tasks and results travel on separate queues, so a worker never takes
  back a result as if it were a task.
- The main process keeps at most ``WINDOW`` tasks in flight: it puts
  tasks while fewer are out, and otherwise takes a result. Bounded queues
  (``ringq.ProcessQueue`` always is) then cannot fill up in a cycle,
  with the workers waiting to put results while the main process waits
  to put tasks.
- Each worker stops at its own sentinel (one ``None`` per worker).
- A task that raises is reported as a result; the worker carries on.
- The workers are joined only after every result was read:
  ``multiprocessing.Queue`` keeps a worker alive until its feeder thread
  has flushed what it put, so joining first can deadlock.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from typing import Any, Optional, Protocol, TypeVar

T = TypeVar("T")


class ProcessQueue(Protocol[T]):
    """What the pool needs of a queue: the multiprocessing.Queue interface."""

    def put(self, obj: T, block: bool = True, timeout: Optional[float] = None) -> None: ...
    def get(self, block: bool = True, timeout: Optional[float] = None) -> T: ...
    def close(self) -> None: ...


# A task: (index, first, count); None tells one worker to stop.
Task = Optional[tuple[int, int, int]]
# A result: (index, value, error). A worker that stops sends one last
# result with index STOPPED and its CPU time in microseconds as the value.
Result = tuple[int, Optional[int], Optional[str]]
STOPPED = -1

# The most tasks out at once: fewer than either queue holds (ringq's
# default 1024), so neither can fill up.
WINDOW = 512


def work(first: int, count: int) -> int:
    """The CPU-bound job: the total length of the Collatz sequences of
    first, first + 1, ..., first + count - 1."""
    if first < 0:
        raise ValueError(f"no Collatz sequence for {first}")
    total = 0
    for n in range(max(first, 1), first + count):
        steps = 0
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
        total += steps
    return total


def worker(tasks: ProcessQueue[Task], results: ProcessQueue[Result]) -> None:
    while True:
        task = tasks.get()
        if task is None:
            results.put((STOPPED, int(time.process_time() * 1e6), None))
            break
        index, first, count = task
        try:
            results.put((index, work(first, count), None))
        except Exception as exc:  # report, don't die: the pool waits for it
            results.put((index, None, f"{type(exc).__name__}: {exc}"))
    results.close()


def make_tasks(n_tasks: int, size: int) -> list[tuple[int, int, int]]:
    tasks = [(i, i * size, size) for i in range(n_tasks)]
    tasks[n_tasks // 2] = (n_tasks // 2, -1, size)  # one task fails on purpose
    return tasks


def make_queue(impl: str, ctx: Any) -> Any:
    if impl == "ringq":
        import ringq

        return ringq.ProcessQueue()
    return ctx.Queue()


def run_pool(impl: str, n_workers: int, tasks: list[tuple[int, int, int]]) -> tuple[list[Result], float]:
    """Runs the tasks on n_workers processes; returns the results by index,
    and the CPU time the workers and this process spent, in seconds."""
    cpu_start = time.process_time()
    ctx = multiprocessing.get_context()
    task_queue: ProcessQueue[Task] = make_queue(impl, ctx)
    result_queue: ProcessQueue[Result] = make_queue(impl, ctx)
    workers = [ctx.Process(target=worker, args=(task_queue, result_queue)) for _ in range(n_workers)]
    for w in workers:
        w.start()

    results: list[Result] = []
    sent = 0
    while len(results) < len(tasks):
        if sent < len(tasks) and sent - len(results) < WINDOW:
            task_queue.put(tasks[sent])
            sent += 1
        else:
            results.append(result_queue.get())
    for _ in workers:
        task_queue.put(None)
    cpu = time.process_time() - cpu_start
    for _ in workers:
        index, worker_cpu, _ = result_queue.get()
        assert index == STOPPED and worker_cpu is not None
        cpu += worker_cpu / 1e6
    for w in workers:
        w.join()
        assert w.exitcode == 0, f"a worker failed with exit code {w.exitcode}"
    results.sort(key=lambda r: r[0])
    return results, cpu


def run_serially(tasks: list[tuple[int, int, int]]) -> list[Result]:
    results: list[Result] = []
    for index, first, count in tasks:
        try:
            results.append((index, work(first, count), None))
        except ValueError as exc:
            results.append((index, None, f"{type(exc).__name__}: {exc}"))
    return results


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=["ringq", "multiprocessing"], default="ringq")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=4, help="numbers per task: the smaller, the more the queue matters")
    args = parser.parse_args(argv)

    tasks = make_tasks(args.tasks, args.size)
    start, cpu_start = time.perf_counter(), time.process_time()
    expected = run_serially(tasks)
    serial, serial_cpu = time.perf_counter() - start, time.process_time() - cpu_start

    start = time.perf_counter()
    results, pooled_cpu = run_pool(args.impl, args.workers, tasks)
    pooled = time.perf_counter() - start

    assert [r[0] for r in results] == list(range(args.tasks)), "a task was lost or duplicated"
    assert results == expected, "a result differs from the serial run"
    failures = sum(1 for r in results if r[2] is not None)
    print(
        f"{args.impl}: {args.tasks} tasks of {args.size} numbers on {args.workers} worker processes "
        f"in {pooled:.2f} s ({pooled_cpu:.2f} s of CPU); one process alone: {serial:.2f} s "
        f"({serial_cpu:.2f} s of CPU); speed-up {serial / pooled:.2f}x "
        f"({failures} task failed as planned)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
