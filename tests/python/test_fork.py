"""fork() under traffic: a child can use every queue, whatever the parent's
threads were doing at the moment of the fork (blocked in put, get or join,
or in the middle of an operation), and its timeouts are honoured.

Each child runs under a watchdog: one that does not finish in time is
killed and counted as a hang, so a regression fails the test instead of
hanging it.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
import time
import traceback
import warnings
from typing import Any, Callable

import pytest

import ringq

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

FORKS = int(os.environ.get("RINGQ_TEST_FORKS", "200"))
# Children that run at once; each forks from the busy parent.
BATCH = 8
# A child that takes longer than this is hung (its own timeouts are 5 ms).
CHILD_DEADLINE = 20.0


class Traffic:
    """Threads that keep every queue busy, blocked, or both."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        # Busy queues: producers and consumers that often wait.
        self.bounded = ringq.Queue(4)
        self.growing = ringq.Queue()
        self.simple = ringq.SimpleQueue()
        self.spsc = ringq.SPSCQueue(4)
        # Queues whose threads are always blocked.
        self.full = ringq.Queue(2)
        self.full.put(0)
        self.full.put(1)
        self.empty = ringq.Queue(2)
        self.joined = ringq.Queue()
        self.joined.put("never done")
        self.spsc_full = ringq.SPSCQueue(1)
        self.spsc_full.put(0)
        self.spsc_empty = ringq.SPSCQueue(1)

    def queues(self) -> dict[str, Any]:
        return {
            "bounded": self.bounded,
            "growing": self.growing,
            "simple": self.simple,
            "spsc": self.spsc,
            "full": self.full,
            "empty": self.empty,
            "joined": self.joined,
            "spsc_full": self.spsc_full,
            "spsc_empty": self.spsc_empty,
        }

    def spawn(self, target: Callable[[], None]) -> None:
        t = threading.Thread(target=target, daemon=True)
        self.threads.append(t)
        t.start()

    def start(self) -> None:
        stop = self.stop

        def producer(q: Any, batch: bool = False) -> Callable[[], None]:
            def run() -> None:
                i = 0
                while not stop.is_set():
                    if q.qsize() > 100:  # unbounded queues: keep them small
                        time.sleep(0.001)
                        continue
                    try:
                        if batch:
                            q.put_many(range(i, i + 3), timeout=0.02)
                        else:
                            q.put(i, timeout=0.02)
                    except (queue.Full, ringq.ShutDown):
                        pass
                    i += 3
            return run

        def consumer(q: Any, batch: bool = False) -> Callable[[], None]:
            def run() -> None:
                while not stop.is_set():
                    try:
                        if batch:
                            q.get_many(3, timeout=0.02)
                        else:
                            q.get(timeout=0.02)
                    except (queue.Empty, ringq.ShutDown):
                        pass
            return run

        def blocked(call: Callable[[], Any]) -> Callable[[], None]:
            def run() -> None:
                while not stop.is_set():
                    try:
                        call()
                    except (queue.Empty, queue.Full):
                        pass
            return run

        for q in (self.bounded, self.growing, self.simple):
            self.spawn(producer(q))
            self.spawn(producer(q, batch=True))
            self.spawn(consumer(q))
            self.spawn(consumer(q, batch=True))
        self.spawn(producer(self.spsc))
        self.spawn(consumer(self.spsc))
        self.spawn(blocked(lambda: self.full.put(2, timeout=0.5)))
        self.spawn(blocked(lambda: self.empty.get(timeout=0.5)))
        self.spawn(blocked(lambda: self.spsc_full.put(1, timeout=0.5)))
        self.spawn(blocked(lambda: self.spsc_empty.get(timeout=0.5)))
        # join() has no timeout: this one stays blocked until the end.
        self.spawn(self.joined.join)

    def finish(self) -> None:
        self.stop.set()
        self.joined.task_done()
        for t in self.threads:
            t.join(30)
            assert not t.is_alive(), "a traffic thread did not stop"


def check_queue(name: str, q: Any) -> None:
    """What a child does with each queue: everything must work, and every
    timeout must be honoured."""
    spsc = isinstance(q, ringq.SPSCQueue)
    # Drain what the parent left, without waiting.
    for _ in range(100_000):
        try:
            q.get_nowait()
        except queue.Empty:
            break
    else:
        raise AssertionError(f"{name}: could not drain")
    start = time.monotonic()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.005)
    assert time.monotonic() - start < 5, f"{name}: get timeout not honoured"
    q.put("a", timeout=1)
    assert q.get(timeout=1) == "a"
    q.put_many(["b"], timeout=1)
    assert q.get_many(5, timeout=1) == ["b"]
    if isinstance(q, ringq.Queue) or spsc:
        while True:
            try:
                q.put_nowait("fill")
            except queue.Full:
                break
            if q.qsize() > 1000:
                break
        if q.maxsize > 0:
            start = time.monotonic()
            with pytest.raises(queue.Full):
                q.put("x", timeout=0.005)
            assert time.monotonic() - start < 5, f"{name}: put timeout not honoured"
        q.shutdown()
        with pytest.raises(ringq.ShutDown):
            q.put("late")
    if isinstance(q, ringq.Queue):
        while q.unfinished_tasks:
            q.task_done()
        q.join()


def child(queues: dict[str, Any]) -> int:
    try:
        for name, q in queues.items():
            check_queue(name, q)
        fresh = ringq.Queue(2)
        fresh.put(1)
        assert fresh.get(timeout=1) == 1
    except BaseException:  # noqa: BLE001 - reported through the exit code
        traceback.print_exc()
        return 1
    return 0


def reap(pid: int, deadline: float) -> str:
    """Waits for a child until `deadline`; kills it if it is still running.
    Returns "ok", "failed" or "hung"."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return "ok" if os.waitstatus_to_exitcode(status) == 0 else "failed"
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "hung"
        time.sleep(0.002)


@pytest.mark.skipif(sys.version_info < (3, 9), reason="waitstatus_to_exitcode")
def test_children_use_every_queue_after_fork_under_traffic() -> None:
    traffic = Traffic()
    traffic.start()
    outcomes: dict[str, int] = {"ok": 0, "failed": 0, "hung": 0}
    try:
        with warnings.catch_warnings():
            # 3.12+ warns that forking a threaded process may deadlock the
            # child: that is what this test is about.
            warnings.simplefilter("ignore", DeprecationWarning)
            forked = 0
            while forked < FORKS:
                pids = []
                for _ in range(min(BATCH, FORKS - forked)):
                    # Vary the moment of the fork relative to the traffic.
                    time.sleep(0.0005 * (forked % 7))
                    pid = os.fork()
                    if pid == 0:
                        os._exit(child(traffic.queues()))
                    pids.append(pid)
                    forked += 1
                deadline = time.monotonic() + CHILD_DEADLINE
                for pid in pids:
                    outcomes[reap(pid, deadline)] += 1
    finally:
        traffic.finish()
    assert outcomes == {"ok": FORKS, "failed": 0, "hung": 0}
