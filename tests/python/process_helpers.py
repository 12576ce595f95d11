"""Helpers for the ProcessQueue tests: worker functions that child processes
run (importable, so the spawn and forkserver start methods can find them),
unique segment names, and a look at /dev/shm."""

from __future__ import annotations

import itertools
import os
import time
from typing import Any, Callable

import ringq

SHM_DIR = "/dev/shm"
# Every named segment these tests create starts with this prefix, so the
# leak checks look only at their own names on a machine shared with others.
PREFIX = f"ringq-pytest-{os.getpid()}-"
_counter = itertools.count()

# The longest any test waits for a child process or a message; only a
# failing test ever gets near it.
HANG_GUARD_S = 120.0


def unique_name() -> str:
    return f"{PREFIX}{next(_counter)}"


def leftover_segments(prefix: str = PREFIX) -> list[str]:
    """Our names still present in /dev/shm."""
    return sorted(n for n in os.listdir(SHM_DIR) if n.startswith(prefix))


def wait_until(condition: Callable[[], bool], what: str, limit: float = HANG_GUARD_S) -> None:
    """Polls `condition` until it holds; fails after `limit` seconds (a hang
    guard, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def process_state(pid: int) -> str:
    """The state letter of a process in /proc (R, S, T for stopped, ...)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


# --- child process bodies ------------------------------------------------


def echo_doubled(jobs: Any, results: Any) -> None:
    """Gets numbers until None, puts each doubled; then puts None."""
    for x in iter(jobs.get, None):
        results.put(x * 2)
    results.put(None)


def produce(q: Any, producer: int, count: int) -> None:
    """Puts (producer, seq) for seq in range(count)."""
    for seq in range(count):
        q.put((producer, seq))


def produce_in_batches(q: Any, producer: int, count: int, batch: int) -> None:
    seq = 0
    while seq < count:
        n = min(batch, count - seq)
        q.put_many([(producer, s) for s in range(seq, seq + n)])
        seq += n


def consume_until_none(q: Any, results: Any) -> None:
    """Gets items until None and forwards each to `results`; then None."""
    while True:
        item = q.get(timeout=HANG_GUARD_S)
        if item is None:
            break
        results.put(item)
    results.put(None)


def consume_batches_until_none(q: Any, results: Any) -> None:
    """As consume_until_none, with get_many/put_many. End markers come last;
    one batch may hold several, and those beyond the first go back for the
    other consumers."""
    while True:
        items = q.get_many(16, timeout=HANG_GUARD_S)
        markers = items.count(None)
        results.put_many([i for i in items if i is not None])
        if markers:
            for _ in range(markers - 1):
                q.put(None)
            break
    results.put(None)


def do_tasks(q: ringq.JoinableProcessQueue[Any], done: Any) -> None:
    """Gets tasks until None, reports each to `done`, then marks it done."""
    while True:
        task = q.get(timeout=HANG_GUARD_S)
        if task is not None:
            done.put(task)
        q.task_done()
        if task is None:
            return


def put_bytes_then_get(q: ringq.ProcessQueue[Any], data: bytes) -> None:
    q.put_bytes(data)


def use_received_queue(inbox: Any, results: Any) -> None:
    """Gets a queue from `inbox`, then a message from that queue."""
    inner = inbox.get(timeout=HANG_GUARD_S)
    results.put((type(inner).__name__, inner.get(timeout=HANG_GUARD_S)))


def report_name_and_state(q: ringq.ProcessQueue[Any], results: Any) -> None:
    """Reports what the child sees of the queue it was given."""
    results.put((type(q).__name__, q.name, q.maxsize, q.max_message_size, q.get()))
