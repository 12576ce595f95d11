"""Reference counting: items are released as soon as they leave a queue,
failed operations keep no reference, and a dropped queue releases what it
still holds."""

from __future__ import annotations

import gc
import sys
import threading
import weakref
from typing import Any, Callable

import pytest

import ringq


class Payload:
    """A weakly referenceable item."""


ALL: list[Callable[[], Any]] = [
    lambda: ringq.Queue(),
    lambda: ringq.Queue(4),
    lambda: ringq.SimpleQueue(),
    lambda: ringq.SPSCQueue(4),
]
IDS = ["Queue-unbounded", "Queue-bounded", "SimpleQueue", "SPSCQueue"]


@pytest.fixture(params=ALL, ids=IDS)
def make(request: pytest.FixtureRequest) -> Callable[[], Any]:
    return request.param  # type: ignore[no-any-return]


def test_get_hands_over_the_reference(make: Callable[[], Any]) -> None:
    q = make()
    item = Payload()
    base = sys.getrefcount(item)
    q.put(item)
    assert sys.getrefcount(item) == base + 1
    got = q.get()
    assert got is item
    del got
    assert sys.getrefcount(item) == base
    ref = weakref.ref(item)
    q.put(item)
    del item
    assert ref() is not None  # the queue keeps it alive
    q.get()  # ... and lets go of it as it leaves (the result is discarded)
    assert ref() is None


def test_dropped_queue_releases_items(make: Callable[[], Any]) -> None:
    q = make()
    items = [Payload() for _ in range(3)]
    refs = [weakref.ref(x) for x in items]
    for x in items:
        q.put(x)
    del items, x
    assert all(r() is not None for r in refs)
    q_ref = weakref.ref(q)
    del q
    assert q_ref() is None
    assert all(r() is None for r in refs)


def test_batches_release(make: Callable[[], Any]) -> None:
    q = make()
    items = [Payload() for _ in range(3)]
    base = [sys.getrefcount(x) for x in items]
    q.put_many(items)
    assert [sys.getrefcount(x) for x in items] == [b + 1 for b in base]
    got = q.get_many(10)
    assert got == items
    del got
    assert [sys.getrefcount(x) for x in items] == base


def test_failed_puts_keep_no_reference() -> None:
    for q in (ringq.Queue(1), ringq.SPSCQueue(1)):
        q.put(0)
        item = Payload()
        base = sys.getrefcount(item)
        with pytest.raises(ringq.Full):
            q.put_nowait(item)
        with pytest.raises(ringq.Full):
            q.put(item, timeout=0.01)
        with pytest.raises(ValueError):
            q.put(item, timeout=-1)
        q.shutdown()
        with pytest.raises(ringq.ShutDown):
            q.put(item)
        with pytest.raises(ringq.ShutDown):
            q.put_many([item, item])
        assert sys.getrefcount(item) == base


def test_shutdown_interrupting_a_blocked_put_releases_its_item() -> None:
    q = ringq.Queue(1)
    q.put(0)
    item = Payload()
    ref = weakref.ref(item)
    started = threading.Event()

    def putter(item: Payload = item) -> None:
        started.set()
        with pytest.raises(ringq.ShutDown):
            q.put(item)

    t = threading.Thread(target=putter)
    del item
    putter_default = putter.__defaults__
    t.start()
    started.wait()
    q.shutdown()
    t.join(60)
    del t, putter, putter_default
    gc.collect()
    assert ref() is None


def test_immediate_shutdown_releases_drained_items() -> None:
    q = ringq.Queue()
    items = [Payload() for _ in range(5)]
    refs = [weakref.ref(x) for x in items]
    q.put_many(items)
    del items
    q.shutdown(immediate=True)
    assert all(r() is None for r in refs)


def test_get_returns_new_reference_for_none_and_small_ints() -> None:
    q = ringq.SimpleQueue()
    for _ in range(10_000):
        q.put(None)
        q.put(7)
        assert q.get() is None
        assert q.get() == 7


def test_no_leak_over_many_operations(make: Callable[[], Any]) -> None:
    """The number of live objects does not grow with the operations."""
    q = make()

    def churn() -> None:
        for i in range(2000):
            q.put(Payload())
            q.get()
            q.put_many([Payload(), Payload()])
            q.get_many(2)
        try:
            q.get_nowait()
        except ringq.Empty:
            pass

    churn()
    gc.collect()
    before = sum(1 for o in gc.get_objects() if type(o) is Payload)
    churn()
    gc.collect()
    after = sum(1 for o in gc.get_objects() if type(o) is Payload)
    assert after == before == 0
    assert sys.getrefcount(q) == 2  # the local and the argument
