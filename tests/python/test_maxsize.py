"""Assigning Queue.maxsize, with the standard library's meaning: a smaller
value makes puts wait until the queue has shrunk below it, a larger one
admits more at once, and <= 0 makes the queue unbounded."""

from __future__ import annotations

import threading
import time
from types import ModuleType
from typing import Any

import pytest

import ringq
from conftest import run_threads


def fill(q: Any, n: int) -> None:
    for i in range(n):
        q.put_nowait(i)


def test_shrinking_makes_puts_wait(qmod: ModuleType) -> None:
    # As CPython's own test_shrinking_queue.
    q = qmod.Queue(3)
    fill(q, 3)
    with pytest.raises(qmod.Full):
        q.put_nowait(4)
    assert q.qsize() == 3
    q.maxsize = 2
    with pytest.raises(qmod.Full):
        q.put_nowait(4)
    assert q.full()
    q.get_nowait()
    assert q.full()  # 2 items, maxsize 2
    with pytest.raises(qmod.Full):
        q.put(4, timeout=0.01)
    q.get_nowait()
    q.put_nowait(4)
    assert q.qsize() == 2 and q.full()
    assert [q.get_nowait(), q.get_nowait()] == [2, 4]


def test_growing_admits_more_at_once(qmod: ModuleType) -> None:
    q = qmod.Queue(2)
    fill(q, 2)
    q.maxsize = 5
    assert q.maxsize == 5 and not q.full()
    for i in range(2, 5):
        q.put_nowait(i)
    assert q.full()
    with pytest.raises(qmod.Full):
        q.put_nowait(5)
    assert [q.get_nowait() for _ in range(5)] == list(range(5))


def test_growing_past_the_first_capacity_keeps_order(qmod: ModuleType) -> None:
    q = qmod.Queue(4)
    fill(q, 4)
    q.get_nowait()  # the ring's head is no longer at slot 0
    q.put_nowait(4)
    q.maxsize = 1000
    for i in range(5, 1001):
        q.put_nowait(i)
    with pytest.raises(qmod.Full):
        q.put_nowait("over")
    assert [q.get_nowait() for _ in range(1000)] == list(range(1, 1001))


@pytest.mark.parametrize("unbounded", [0, -1])
def test_unbounded_and_back(qmod: ModuleType, unbounded: int) -> None:
    q = qmod.Queue(2)
    fill(q, 2)
    q.maxsize = unbounded
    fill(q, 500)
    assert not q.full() and q.qsize() == 502
    q.maxsize = 3
    assert q.full()
    with pytest.raises(qmod.Full):
        q.put_nowait("x")
    while q.qsize() > 2:
        q.get_nowait()
    q.put_nowait("last")
    assert q.full()


def test_bounding_an_unbounded_queue(qmod: ModuleType) -> None:
    q = qmod.Queue()
    fill(q, 3)
    q.maxsize = 3
    assert q.full()
    with pytest.raises(qmod.Full):
        q.put(3, block=False)
    # A bounded queue now reads the timeout.
    with pytest.raises(ValueError):
        q.put(3, timeout=-1)


def test_growing_wakes_a_blocked_putter() -> None:
    # queue.Queue only notices a larger maxsize when its putter's wait ends
    # (here, after the timeout); ringq wakes waiting putters at once.
    q = ringq.Queue(1)
    q.put(0)
    started = threading.Event()

    def putter() -> None:
        started.set()
        q.put(1, timeout=60)

    def grower() -> None:
        started.wait()
        time.sleep(0.05)  # let the putter block (not required for passing)
        q.maxsize = 2

    run_threads([putter, grower])
    assert [q.get_nowait(), q.get_nowait()] == [0, 1]


def test_shrinking_under_concurrent_puts_and_gets() -> None:
    """maxsize changes while threads put and get: nothing is lost or
    duplicated, and puts that wait always come back."""
    q = ringq.Queue(8)
    n = 20000
    got: list[int] = []
    resizes: list[int] = []
    done = threading.Event()

    def producer(base: int) -> None:
        for i in range(n):
            q.put(base + i, timeout=60)

    def consumer() -> None:
        while len(got) < 2 * n:
            try:
                got.append(q.get(timeout=0.05))
            except ringq.Empty:
                if done.is_set():
                    return

    def resizer() -> None:
        sizes = [1, 3, 64, 2, 0, 5, 8, 200, 4]
        k = 0
        while not done.is_set():
            q.maxsize = sizes[k % len(sizes)]
            k += 1
            time.sleep(0.0002)
        resizes.append(k)
        q.maxsize = 0  # let any last put in

    threads = [threading.Thread(target=t, daemon=True) for t in (consumer, resizer)]
    for t in threads:
        t.start()
    run_threads([lambda: producer(0), lambda: producer(n)])
    while len(got) < 2 * n:
        time.sleep(0.01)
    done.set()
    for t in threads:
        t.join(60)
    assert resizes and resizes[0] > 10, "maxsize changed too few times to test anything"
    assert sorted(got) == list(range(2 * n))
    # Each producer's items arrive in its order.
    assert [x for x in got if x < n] == list(range(n))
    assert [x for x in got if x >= n] == list(range(n, 2 * n))


def test_maxsize_on_a_shut_down_queue() -> None:
    q = ringq.Queue(2)
    fill(q, 2)
    q.shutdown()
    q.maxsize = 10
    assert q.maxsize == 10
    with pytest.raises(ringq.ShutDown):
        q.put(1)
    assert [q.get(), q.get()] == [0, 1]
    with pytest.raises(ringq.ShutDown):
        q.get()


def test_maxsize_must_be_an_int() -> None:
    q = ringq.Queue(2)
    with pytest.raises(TypeError):
        q.maxsize = 2.5  # type: ignore[assignment]
    with pytest.raises((TypeError, AttributeError)):
        del q.maxsize
    assert q.maxsize == 2
