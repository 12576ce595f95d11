"""fork() while other threads are inside LifoQueue/PriorityQueue operations:
the child can use the queue at once, with its timeouts honoured."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Callable

import pytest

import ringq

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()"),
    # 3.12+ warns about forking a process that has threads; that is the point.
    pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning"),
]

CHILD_LIMIT_S = 20.0


def in_child(check: Callable[[], None]) -> int:
    """Forks; the child runs check() and exits 0 if it returned, 1 if it
    raised. Returns the exit code, or -1 if the child hung (then killed)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            check()
            code = 0
        except BaseException as exc:  # noqa: BLE001 - reported, then exit 1
            print(f"child: {exc!r}", file=sys.stderr, flush=True)
        finally:
            os._exit(code)
    deadline = time.monotonic() + CHILD_LIMIT_S
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.005)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return -1


def use(q: Any) -> None:
    """What the child does: every operation, each bounded in time."""
    q.maxsize = 0  # no consumer here: make room for what follows
    q.put(10**6, timeout=5)
    assert q.qsize() >= 1
    q.get(timeout=5)
    q.put_many([1, 2], timeout=5)
    assert len(q.get_many(2, timeout=5)) >= 1
    q.shutdown(immediate=True)


def test_child_takes_over_a_heap_owned_by_a_parent_thread() -> None:
    """A parent thread owns the heap (stuck in a comparison) when the
    process forks; in the child that thread doesn't exist, and the heap
    must not stay owned by it."""
    q = ringq.PriorityQueue()
    inside, release = threading.Event(), threading.Event()
    parent = os.getpid()

    class Stuck:
        def __lt__(self, other: Any) -> bool:
            if os.getpid() == parent:  # the child compares at once
                inside.set()
                release.wait(60)
            return False

        def __gt__(self, other: Any) -> bool:
            return True

    q.put(Stuck())
    t = threading.Thread(target=q.put, args=(Stuck(),))
    t.start()
    assert inside.wait(60)
    try:
        assert in_child(lambda: use(q)) == 0
    finally:
        release.set()
        t.join(60)
    assert q.qsize() == 2


@pytest.mark.parametrize("kind", ["LifoQueue", "PriorityQueue"])
def test_fork_under_traffic(kind: str) -> None:
    q = getattr(ringq, kind)(64)
    stop = threading.Event()

    class Yielding(int):
        def __lt__(self, other: Any) -> bool:
            time.sleep(0)  # lets other threads run while this one owns the heap
            return int(self) < int(other)

    def producer() -> None:
        i = 0
        while not stop.is_set():
            try:
                q.put(Yielding(i), timeout=0.05)
            except ringq.Full:
                pass
            i += 1

    def consumer() -> None:
        while not stop.is_set():
            try:
                q.get(timeout=0.05)
            except ringq.Empty:
                pass

    threads = [threading.Thread(target=f) for f in (producer, producer, consumer, consumer)]
    for t in threads:
        t.start()
    try:
        codes = [in_child(lambda: use(q)) for _ in range(200)]
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert codes.count(-1) == 0, "a child hung"
    assert codes == [0] * len(codes)
