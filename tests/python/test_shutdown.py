"""Queue.shutdown() with the semantics of Python 3.13's queue.Queue.

On Python 3.13+ each test also runs against the standard library; before
that only ringq runs, checked against the documented 3.13 behaviour.
"""

from __future__ import annotations

import queue
import sys
import threading
from types import ModuleType

import pytest

import ringq
from conftest import STDLIB_HAS_SHUTDOWN, run_threads, wait_until_parked


def test_shutdown_class() -> None:
    assert issubclass(ringq.ShutDown, Exception)
    if STDLIB_HAS_SHUTDOWN:
        assert ringq.ShutDown is queue.ShutDown  # type: ignore[attr-defined]
    else:
        assert ringq.ShutDown.__module__ == "ringq"
    assert ringq.Empty is queue.Empty
    assert ringq.Full is queue.Full


def test_put_after_shutdown(shutdown_mod: ModuleType) -> None:
    q = shutdown_mod.Queue()
    assert not q.is_shutdown
    q.shutdown()
    assert q.is_shutdown
    with pytest.raises(shutdown_mod.ShutDown):
        q.put(1)
    with pytest.raises(shutdown_mod.ShutDown):
        q.put_nowait(1)
    with pytest.raises(shutdown_mod.ShutDown):
        q.put(1, timeout=-1)  # ShutDown comes before the timeout check
    assert q.unfinished_tasks == 0


def test_get_drains_then_raises(shutdown_mod: ModuleType) -> None:
    q = shutdown_mod.Queue(4)
    for i in range(3):
        q.put(i)
    q.shutdown()
    assert [q.get(), q.get_nowait(), q.get(timeout=1)] == [0, 1, 2]
    with pytest.raises(shutdown_mod.ShutDown):
        q.get()
    with pytest.raises(shutdown_mod.ShutDown):
        q.get_nowait()
    with pytest.raises(shutdown_mod.ShutDown):
        q.get(timeout=-1)  # ShutDown comes before the timeout check
    # The tasks are still unfinished until task_done().
    assert q.unfinished_tasks == 3
    for _ in range(3):
        q.task_done()
    q.join()


def test_negative_timeout_with_items_after_shutdown(shutdown_mod: ModuleType) -> None:
    q = shutdown_mod.Queue()
    q.put(1)
    q.shutdown()
    with pytest.raises(ValueError):
        q.get(timeout=-1)


def test_shutdown_wakes_blocked_getters(shutdown_mod: ModuleType) -> None:
    q = shutdown_mod.Queue()
    raised: list[BaseException] = []
    started = threading.Barrier(5)

    def getter() -> None:
        started.wait()
        try:
            q.get()
        except shutdown_mod.ShutDown as exc:
            raised.append(exc)

    threads = [threading.Thread(target=getter) for _ in range(4)]
    for t in threads:
        t.start()
    started.wait()
    wait_until_parked(q, getters=4)  # the wake-up must find them asleep
    q.shutdown()
    for t in threads:
        t.join(60)
    assert len(raised) == 4


def test_shutdown_wakes_blocked_putters(shutdown_mod: ModuleType) -> None:
    q = shutdown_mod.Queue(1)
    q.put(0)
    raised: list[BaseException] = []
    started = threading.Barrier(3)

    def putter() -> None:
        started.wait()
        try:
            q.put(1)
        except shutdown_mod.ShutDown as exc:
            raised.append(exc)

    threads = [threading.Thread(target=putter) for _ in range(2)]
    for t in threads:
        t.start()
    started.wait()
    wait_until_parked(q, putters=2)  # the wake-up must find them asleep
    q.shutdown()
    for t in threads:
        t.join(60)
    assert len(raised) == 2
    assert q.unfinished_tasks == 1  # only the item that got in
    assert q.get() == 0


def test_immediate_drains_and_releases_join(shutdown_mod: ModuleType) -> None:
    q = shutdown_mod.Queue()
    for i in range(5):
        q.put(i)
    joined = threading.Event()

    def joiner() -> None:
        q.join()
        joined.set()

    t = threading.Thread(target=joiner)
    t.start()
    q.shutdown(immediate=True)
    t.join(60)
    assert joined.is_set()
    assert q.qsize() == 0 and q.empty()
    assert q.unfinished_tasks == 0
    with pytest.raises(shutdown_mod.ShutDown):
        q.get_nowait()
    with pytest.raises(shutdown_mod.ShutDown):
        q.get()


def test_immediate_keeps_tasks_already_taken(shutdown_mod: ModuleType) -> None:
    q = shutdown_mod.Queue()
    for i in range(3):
        q.put(i)
    assert q.get() == 0  # taken, not done
    q.shutdown(immediate=True)
    # Two were drained; the taken one still counts until task_done().
    assert q.unfinished_tasks == 1
    q.task_done()
    assert q.unfinished_tasks == 0
    q.join()


def test_immediate_after_all_done(shutdown_mod: ModuleType) -> None:
    q = shutdown_mod.Queue()
    q.put(1)
    q.get()
    q.task_done()
    q.put(2)
    q.shutdown(immediate=True)
    assert q.unfinished_tasks == 0
    q.join()


def test_shutdown_twice(shutdown_mod: ModuleType) -> None:
    q = shutdown_mod.Queue()
    q.put(1)
    q.shutdown()
    q.shutdown()
    assert q.get() == 1
    q.shutdown(immediate=True)
    with pytest.raises(shutdown_mod.ShutDown):
        q.get()


def test_shutdown_stops_a_pool(shutdown_mod: ModuleType) -> None:
    tasks = shutdown_mod.Queue(8)
    done: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            try:
                item = tasks.get()
            except shutdown_mod.ShutDown:
                return
            with lock:
                done.append(item)
            tasks.task_done()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(500):
        tasks.put(i)
    tasks.shutdown()
    for t in threads:
        t.join(60)
    assert sorted(done) == list(range(500))
    tasks.join()


def test_ringq_shutdown_under_load() -> None:
    """Producers and consumers racing a shutdown: every item that a put
    accepted is delivered exactly once, and every thread ends."""
    q = ringq.Queue(4)
    accepted: list[list[int]] = [[] for _ in range(3)]
    received: list[list[int]] = [[] for _ in range(3)]

    def producer(p: int) -> None:
        i = 0
        while True:
            item = p * 1_000_000 + i
            try:
                q.put(item)
            except ringq.ShutDown:
                return
            accepted[p].append(item)
            i += 1

    def consumer(c: int) -> None:
        while True:
            try:
                received[c].append(q.get())
            except ringq.ShutDown:
                return

    def stopper() -> None:
        while sum(map(len, received)) < 2000:
            threading.Event().wait(0.001)
        q.shutdown()

    run_threads(
        [lambda p=p: producer(p) for p in range(3)]  # type: ignore[misc]
        + [lambda c=c: consumer(c) for c in range(3)]  # type: ignore[misc]
        + [stopper]
    )
    assert sorted(x for r in received for x in r) == sorted(x for a in accepted for x in a)


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="own class only before 3.13")
def test_own_shutdown_class_is_raisable() -> None:
    with pytest.raises(ringq.ShutDown):
        raise ringq.ShutDown("x")
