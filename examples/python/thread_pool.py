"""A thread pool on queues: workers take tasks from one queue and put
results on another.

The same code runs on the standard library's queue module or on ringq;
only the import changes (``import ringq as queue``). Pick one with
``--impl``:

    python examples/python/thread_pool.py --impl ringq
    python examples/python/thread_pool.py --impl stdlib --stop sentinel

The usual way this example goes wrong, and what this version does instead:

- Tasks and results travel on *separate* queues. With one shared queue a
  worker can take back a result (or another worker's sentinel) as if it
  were a task.
- Workers stop cleanly: either one sentinel per worker (``--stop
  sentinel``), or ``tasks.shutdown()`` (``--stop shutdown``), after which a
  worker's ``get()`` raises ShutDown once the queue is drained. The
  standard library has ``Queue.shutdown`` from Python 3.13 on; before that
  ``--impl stdlib`` falls back to sentinels.
- ``task_done()`` is called for every item taken, in a ``finally``, so
  ``join()`` cannot hang when a task raises; the failure is reported as a
  result instead of killing the worker.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional, Protocol, TypeVar

T = TypeVar("T")


class TaskQueue(Protocol[T]):
    """What the pool needs of a queue: the queue.Queue interface."""

    def put(self, item: T, block: bool = True, timeout: Optional[float] = None) -> None: ...
    def get(self, block: bool = True, timeout: Optional[float] = None) -> T: ...
    def task_done(self) -> None: ...
    def join(self) -> None: ...


@dataclass(frozen=True)
class Task:
    index: int
    argument: int


@dataclass(frozen=True)
class Result:
    index: int
    value: Optional[int]
    error: Optional[str] = None


# The sentinel: a task slot holding None tells one worker to stop.
Job = Optional[Task]


def work(argument: int) -> int:
    """The job each task runs: a little pure-Python arithmetic."""
    if argument % 97 == 96:
        raise ValueError(f"cannot handle {argument}")
    total = 0
    for k in range(argument % 50):
        total += k * k
    return total


def worker(
    tasks: TaskQueue[Job],
    results: TaskQueue[Result],
    job: Callable[[int], int],
    shut_down: type[BaseException],
) -> None:
    while True:
        try:
            task = tasks.get()
        except shut_down:
            return  # shutdown() was called and the queue is drained
        try:
            if task is None:
                return  # our sentinel
            try:
                results.put(Result(task.index, job(task.argument)))
            except Exception as exc:  # report, don't die: join() must not hang
                results.put(Result(task.index, None, f"{type(exc).__name__}: {exc}"))
        finally:
            tasks.task_done()


def run_pool(module: Any, n_workers: int, n_tasks: int, stop: str) -> list[Result]:
    """Runs n_tasks through n_workers threads; returns results by index."""
    tasks: TaskQueue[Job] = module.Queue(maxsize=2 * n_workers)
    results: TaskQueue[Result] = module.Queue()
    shut_down: type[BaseException] = getattr(module, "ShutDown", type("NeverRaised", (Exception,), {}))
    threads = [
        threading.Thread(target=worker, args=(tasks, results, work, shut_down), name=f"worker-{i}")
        for i in range(n_workers)
    ]
    for thread in threads:
        thread.start()

    for index in range(n_tasks):
        tasks.put(Task(index, index * 7))  # blocks while the workers are behind
    tasks.join()  # every task has been processed (task_done called)

    if stop == "shutdown":
        tasks.shutdown()  # type: ignore[attr-defined]
    else:
        for _ in threads:
            tasks.put(None)
    for thread in threads:
        thread.join()

    collected = [results.get() for _ in range(n_tasks)]
    collected.sort(key=lambda r: r.index)
    return collected


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=["ringq", "stdlib"], default="ringq")
    parser.add_argument("--stop", choices=["shutdown", "sentinel"], default="shutdown")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=10_000)
    args = parser.parse_args(argv)

    module = importlib.import_module("ringq" if args.impl == "ringq" else "queue")
    stop = args.stop
    if stop == "shutdown" and not hasattr(module.Queue, "shutdown"):
        print(f"{args.impl}: Queue.shutdown needs Python 3.13; stopping with sentinels")
        stop = "sentinel"

    results = run_pool(module, args.workers, args.tasks, stop)

    assert [r.index for r in results] == list(range(args.tasks)), "a task was lost or duplicated"
    failures = [r for r in results if r.error is not None]
    for r in results:
        if r.error is None:
            assert r.value == work(r.index * 7)
    print(
        f"{args.impl}: {len(results)} tasks on {args.workers} workers, "
        f"{len(failures)} failed as expected, stopped by {stop}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
