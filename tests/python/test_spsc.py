"""SPSCQueue: one producer thread, one consumer thread, RuntimeError (never
a data race) for a second thread on the same side."""

from __future__ import annotations

import threading

import pytest

import ringq
from conftest import wait_until_parked


def test_basics() -> None:
    q = ringq.SPSCQueue(3)
    assert q.maxsize == 3 and q.empty() and not q.full() and q.qsize() == 0
    q.put(1)
    q.put_nowait(2)
    q.put(3, timeout=0)
    assert q.full() and q.qsize() == 3
    with pytest.raises(ringq.Full):
        q.put_nowait(4)
    with pytest.raises(ringq.Full):
        q.put(4, timeout=0.01)
    assert [q.get(), q.get_nowait(), q.get(timeout=1)] == [1, 2, 3]
    with pytest.raises(ringq.Empty):
        q.get_nowait()
    with pytest.raises(ringq.Empty):
        q.get(timeout=0.01)
    assert ringq.SPSCQueue.__name__ == "SPSCQueue"
    assert ringq.SPSCQueue[int].__origin__ is ringq.SPSCQueue


def test_bad_arguments() -> None:
    for bad in (0, -1):
        with pytest.raises(ValueError, match="maxsize must be at least 1"):
            ringq.SPSCQueue(bad)
    with pytest.raises(TypeError):
        ringq.SPSCQueue()  # type: ignore[call-arg]
    q = ringq.SPSCQueue(1)
    with pytest.raises(ValueError, match="'timeout' must be a non-negative number"):
        q.put(1, timeout=-1)
    with pytest.raises(ValueError, match="'timeout' must be a non-negative number"):
        q.get(timeout=-1)
    with pytest.raises(TypeError):
        q.get(timeout="x")


def test_one_producer_one_consumer_in_order() -> None:
    q = ringq.SPSCQueue(8)
    n = 20_000
    received: list[int] = []

    def consumer() -> None:
        for _ in range(n):
            received.append(q.get(timeout=60))

    t = threading.Thread(target=consumer)
    t.start()
    for i in range(n):
        q.put(i, timeout=60)
    t.join()
    assert received == list(range(n))


def test_second_consumer_gets_runtime_error() -> None:
    q = ringq.SPSCQueue(2)
    result: list[object] = []
    first = threading.Thread(target=lambda: result.append(q.get(timeout=60)))
    first.start()
    # Parked in get(), the first consumer holds the consumer side until an
    # item comes, so a second get now must be refused.
    wait_until_parked(q, getters=1)
    with pytest.raises(RuntimeError, match="one consumer thread at a time"):
        q.get(timeout=0.001)
    with pytest.raises(RuntimeError, match="one consumer thread at a time"):
        q.get_many(4, block=False)
    q.put("for the first")
    first.join(60)
    assert result == ["for the first"]


def test_second_producer_gets_runtime_error() -> None:
    q = ringq.SPSCQueue(1)
    q.put(0)
    first = threading.Thread(target=q.put, args=(1, True, 60))
    first.start()
    # Parked in put(), the first producer holds the producer side until
    # there is room, so a second put now must be refused.
    wait_until_parked(q, putters=1)
    with pytest.raises(RuntimeError, match="one producer thread at a time"):
        q.put(2, timeout=0.001)
    with pytest.raises(RuntimeError, match="one producer thread at a time"):
        q.put_many([2])
    assert q.get() == 0
    first.join(60)
    assert q.get() == 1


def test_many_threads_misusing_it_never_corrupt() -> None:
    """Four producers and four consumers hammer one SPSCQueue: some calls
    are refused, but every accepted item comes out exactly once."""
    q = ringq.SPSCQueue(16)
    accepted: list[list[int]] = [[] for _ in range(4)]
    received: list[list[int]] = [[] for _ in range(4)]
    # Calls refused because another thread was using the same side.
    refused = {"put": 0, "get": 0}
    stop = threading.Event()

    def producer(p: int) -> None:
        for i in range(3000):
            item = p * 10_000 + i
            try:
                q.put(item, timeout=0.05)
                accepted[p].append(item)
            except RuntimeError:
                refused["put"] += 1
            except ringq.Full:
                pass

    def consumer(c: int) -> None:
        while not stop.is_set() or not q.empty():
            try:
                received[c].append(q.get(timeout=0.01))
            except RuntimeError:
                refused["get"] += 1
            except ringq.Empty:
                pass

    producers = [threading.Thread(target=producer, args=(p,)) for p in range(4)]
    consumers = [threading.Thread(target=consumer, args=(c,)) for c in range(4)]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join()
    stop.set()
    for t in consumers:
        t.join()
    leftover = q.get_many(100, block=False) if not q.empty() else []
    got = sorted([x for r in received for x in r] + leftover)
    assert got == sorted(x for a in accepted for x in a)
    # The misuse happened: each side turned callers away (a consumer waits
    # holding its side, and so does a producer that finds the queue full).
    assert refused["get"] > 0 and refused["put"] > 0, refused


def test_shutdown_wakes_blocked_get() -> None:
    q = ringq.SPSCQueue(2)
    raised: list[BaseException] = []
    started = threading.Event()

    def consumer() -> None:
        started.set()
        try:
            q.get()
        except ringq.ShutDown as exc:
            raised.append(exc)

    t = threading.Thread(target=consumer)
    t.start()
    started.wait()
    wait_until_parked(q, getters=1)  # the wake-up must find it asleep
    q.shutdown()
    t.join(60)
    assert len(raised) == 1 and q.is_shutdown


def test_shutdown_wakes_blocked_put() -> None:
    q = ringq.SPSCQueue(1)
    q.put(0)
    raised: list[BaseException] = []
    started = threading.Event()

    def producer() -> None:
        started.set()
        try:
            q.put(1)
        except ringq.ShutDown as exc:
            raised.append(exc)

    t = threading.Thread(target=producer)
    t.start()
    started.wait()
    wait_until_parked(q, putters=1)  # the wake-up must find it asleep
    q.shutdown()
    t.join(60)
    assert len(raised) == 1
    assert q.get() == 0  # drained before ShutDown
    with pytest.raises(ringq.ShutDown):
        q.get()
    with pytest.raises(ringq.ShutDown):
        q.put(2)
