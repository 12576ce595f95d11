"""The thread pool of thread_pool.py, fed from RabbitMQ.

The worker loop is the one of thread_pool.py: ``task = tasks.get()``, the
work, ``tasks.task_done()``. One line picks where the tasks come from:

    tasks = ringq.Queue(maxsize=8)                                  # this process
    tasks = ringq.amqp.Consumer(url, "jobs", accept_pickle=True)   # RabbitMQ

With the broker, ``task_done()`` is the ack, sent only after the work: a
worker (or the whole process) that dies mid-task leaves its message
unacked, and the broker delivers it again, to this pool or another. The
tasks come from amqp_producer.py, or, when run as below, from a publisher
in this process:

    python examples/python/amqp_pool.py --url amqp://guest:guest@127.0.0.1:5672/%2f

Needs a RabbitMQ broker at the URL (``make test-amqp`` starts one).
"""

from __future__ import annotations

import argparse
import sys
import threading
import uuid
from typing import Any, Optional

import ringq
import ringq.amqp

from amqp_producer import publish


def work(argument: int) -> int:
    """The job each task runs: a little pure-Python arithmetic."""
    total = 0
    for k in range(argument % 50):
        total += k * k
    return total


def worker(tasks: Any, results: "ringq.Queue[tuple[int, int]]") -> None:
    while True:
        try:
            msg = tasks.get()
        except ringq.ShutDown:
            return  # tasks.close(): nothing more will come
        try:
            index, argument = msg.value
            results.put((index, work(argument)))
        finally:
            tasks.task_done()  # the ack: after the work, whatever happened


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2f")
    parser.add_argument("--queue", default=f"ringq-example-{uuid.uuid4().hex[:8]}")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=2000)
    args = parser.parse_args(argv)

    # The one line that changes from thread_pool.py:
    tasks = ringq.amqp.Consumer(args.url, args.queue, accept_pickle=True, durable=False)
    results: ringq.Queue[tuple[int, int]] = ringq.Queue()
    threads = [threading.Thread(target=worker, args=(tasks, results)) for _ in range(args.workers)]
    for thread in threads:
        thread.start()

    publish(args.url, args.queue, args.tasks)  # amqp_producer.py, here in-process
    collected = sorted(results.get(timeout=60) for _ in range(args.tasks))
    tasks.join()  # every task acked
    tasks.close()  # the workers' get() raises ShutDown
    for thread in threads:
        thread.join()

    assert [i for i, _ in collected] == list(range(args.tasks)), "a task was lost or duplicated"
    assert all(value == work(i * 7) for i, value in collected)
    print(f"amqp: {len(collected)} tasks from RabbitMQ queue {args.queue!r} on {args.workers} workers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
