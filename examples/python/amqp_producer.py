"""Publishes tasks for amqp_pool.py to a RabbitMQ queue, with publisher
confirms: when it returns, the broker has every task.

    python examples/python/amqp_producer.py --url amqp://guest:guest@127.0.0.1:5672/%2f --queue jobs
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

import ringq.amqp


def publish(url: str, queue: str, n_tasks: int) -> None:
    """Publishes tasks (index, argument) to `queue` through the default
    exchange, and waits for the broker's confirms."""
    with ringq.amqp.Publisher(url, routing_key=queue) as publisher:
        for index in range(n_tasks):
            publisher.put((index, index * 7))  # waits while 256 are unconfirmed
        publisher.flush(timeout=60)  # raises PublishError for any refused


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2f")
    parser.add_argument("--queue", default="jobs")
    parser.add_argument("--tasks", type=int, default=2000)
    args = parser.parse_args(argv)
    publish(args.url, args.queue, args.tasks)
    print(f"published {args.tasks} tasks to {args.queue!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
