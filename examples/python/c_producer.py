"""A Python consumer for a C producer, through one shared-memory queue.

The Python process creates a named ``ringq.ProcessQueue``; a separate
program written in C (``examples/c/shm_producer.c``) opens it by name with
``ringq_shm_open``, pushes raw byte messages and closes the queue. Python
takes them with ``get_bytes`` (no pickle: the bytes are exactly what C
pushed) until the close, which reaches it as ``ringq.ShutDown``:

    make build-c-examples
    python examples/python/c_producer.py --producer target/c/shm_producer

It checks that every message arrived once and in order, and prints the
rate. The same queue works the other way round, and between any mix of C,
Rust and Python processes.
"""

from __future__ import annotations

import argparse
import os
import queue
import subprocess
import sys
import time

import ringq


def consume(producer: str, count: int) -> int:
    name = f"ringq-example-{os.getpid()}"
    # Named, so that an unrelated program can open it; the name goes when
    # this object does.
    jobs: ringq.ProcessQueue[object] = ringq.ProcessQueue(1024, name=name, max_message_size=64)
    start = time.perf_counter()
    proc = subprocess.Popen([producer, name, str(count)])
    received = 0
    try:
        while True:
            try:
                message = jobs.get_bytes(timeout=1.0)
            except queue.Empty:
                # A producer that died before closing would leave us
                # waiting for ever: look at it now and then.
                if proc.poll() not in (None, 0):
                    print(f"c_producer: the producer failed ({proc.returncode})", file=sys.stderr)
                    return 1
                continue
            except ringq.ShutDown:
                break
            expected = f"job {received}".encode()
            if message != expected:
                print(f"c_producer: got {message!r}, expected {expected!r}", file=sys.stderr)
                return 1
            received += 1
    finally:
        proc.wait()
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or received != count:
        print(f"c_producer: {received} of {count} messages, producer exit {proc.returncode}", file=sys.stderr)
        return 1
    print(f"python: {received} messages from C, in order, {elapsed * 1e9 / max(received, 1):.0f} ns each")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--producer", default="target/c/shm_producer", help="the compiled C producer")
    parser.add_argument("--count", type=int, default=100_000, help="how many messages C sends")
    args = parser.parse_args()
    return consume(args.producer, args.count)


if __name__ == "__main__":
    sys.exit(main())
