"""LifoQueue and PriorityQueue: the queue.Queue behaviours run against both
the standard library and ringq, plus what only ringq promises (the order
of ties matching heapq, re-entry, a comparison that raises)."""

from __future__ import annotations

import gc
import queue
import random
import sys
import threading
import time
import weakref
from types import ModuleType
from typing import Any, Callable

import pytest

import ringq
from conftest import STDLIB_HAS_SHUTDOWN, run_threads, wait_until_parked

KINDS = ["LifoQueue", "PriorityQueue"]
NEG_TIMEOUT = "'timeout' must be a non-negative number"


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


def make(mod: ModuleType, kind: str, *args: Any) -> Any:
    return getattr(mod, kind)(*args)


def test_order(qmod: ModuleType, kind: str) -> None:
    q = make(qmod, kind)
    for x in [5, 1, 4, 2, 3]:
        q.put(x)
    got = [q.get() for _ in range(5)]
    assert got == ([3, 2, 4, 1, 5] if kind == "LifoQueue" else [1, 2, 3, 4, 5])
    assert q.empty() and q.qsize() == 0


def test_bounded_full_empty_and_timeouts(qmod: ModuleType, kind: str) -> None:
    q = make(qmod, kind, 2)
    assert q.maxsize == 2 and q.empty() and not q.full()
    q.put(1)
    q.put_nowait(2)
    assert q.full() and q.qsize() == 2
    with pytest.raises(qmod.Full):
        q.put_nowait(3)
    with pytest.raises(qmod.Full):
        q.put(3, block=False)
    with pytest.raises(qmod.Full):
        q.put(3, timeout=0.01)
    with pytest.raises(ValueError, match=NEG_TIMEOUT):
        q.put(3, timeout=-1)
    assert sorted([q.get(), q.get_nowait()]) == [1, 2]
    with pytest.raises(qmod.Empty):
        q.get_nowait()
    with pytest.raises(qmod.Empty):
        q.get(0)
    with pytest.raises(qmod.Empty):
        q.get(timeout=0.01)
    with pytest.raises(ValueError, match=NEG_TIMEOUT):
        q.get(timeout=-1)
    with pytest.raises(TypeError):
        q.get(timeout="1")


def test_unbounded_ignores_put_timeout(qmod: ModuleType, kind: str) -> None:
    q = make(qmod, kind)
    q.put(1, timeout=-1)  # an unbounded queue never reads it
    q.put(2, True, "not a number")
    assert q.qsize() == 2 and not q.full()


def test_maxsize_can_shrink_and_grow(qmod: ModuleType, kind: str) -> None:
    q = make(qmod, kind, 3)
    for i in range(3):
        q.put(i)
    q.maxsize = 2
    assert q.maxsize == 2 and q.full()
    with pytest.raises(qmod.Full):
        q.put_nowait(9)
    q.get()
    with pytest.raises(qmod.Full):
        q.put_nowait(9)  # 2 items, maxsize 2
    q.maxsize = 4
    q.put_nowait(9)
    q.put_nowait(9)
    assert q.full() and q.qsize() == 4
    q.maxsize = 0
    q.put_nowait(9)
    assert not q.full()


def test_growing_maxsize_lets_a_blocked_put_in(kind: str) -> None:
    q = make(ringq, kind, 1)
    q.put(0)
    t = threading.Thread(target=q.put, args=(1,))
    t.start()
    wait_until_parked(q, putters=1)
    q.maxsize = 2
    t.join(60)
    assert not t.is_alive() and q.qsize() == 2


def test_task_done_and_join(qmod: ModuleType, kind: str) -> None:
    q = make(qmod, kind)
    with pytest.raises(ValueError, match="task_done"):
        q.task_done()
    for i in range(3):
        q.put(i)
    assert q.unfinished_tasks == 3
    joined = threading.Event()
    t = threading.Thread(target=lambda: (q.join(), joined.set()))
    t.start()
    for _ in range(3):
        q.get()
        assert not joined.is_set()
        q.task_done()
    t.join(60)
    assert joined.is_set() and q.unfinished_tasks == 0
    with pytest.raises(ValueError, match="task_done"):
        q.task_done()


def test_blocking_get_is_woken_by_put(qmod: ModuleType, kind: str) -> None:
    q = make(qmod, kind)
    got: list[Any] = []
    t = threading.Thread(target=lambda: got.append(q.get(timeout=60)))
    t.start()
    wait_until_parked(q, getters=1)
    q.put("x")
    t.join(60)
    assert got == ["x"]


def test_blocking_put_is_woken_by_get(qmod: ModuleType, kind: str) -> None:
    q = make(qmod, kind, 1)
    q.put(1)
    t = threading.Thread(target=q.put, args=(2, True, 60))
    t.start()
    wait_until_parked(q, putters=1)
    assert q.get() == 1
    t.join(60)
    assert q.get_nowait() == 2


@pytest.fixture(
    params=[
        pytest.param(queue, id="stdlib", marks=pytest.mark.skipif(not STDLIB_HAS_SHUTDOWN, reason="3.13+")),
        pytest.param(ringq, id="ringq"),
    ]
)
def smod(request: pytest.FixtureRequest) -> ModuleType:
    return request.param  # type: ignore[no-any-return]


def test_shutdown_drains_then_raises(smod: ModuleType, kind: str) -> None:
    q = make(smod, kind)
    q.put(2)
    q.put(1)
    q.shutdown()
    assert q.is_shutdown
    with pytest.raises(smod.ShutDown):
        q.put(3)
    assert sorted([q.get(), q.get()]) == [1, 2]
    with pytest.raises(smod.ShutDown):
        q.get()
    with pytest.raises(smod.ShutDown):
        q.get(timeout=-1)  # before the timeout check, once drained
    assert q.unfinished_tasks == 2


def test_immediate_shutdown(smod: ModuleType, kind: str) -> None:
    q = make(smod, kind)
    for i in range(3):
        q.put(i)
    q.get()
    q.shutdown(1)  # read for its truth value
    assert q.qsize() == 0 and q.unfinished_tasks == 1
    with pytest.raises(smod.ShutDown):
        q.get_nowait()
    q.task_done()
    q.join()


def test_shutdown_wakes_waiters(smod: ModuleType, kind: str) -> None:
    q = make(smod, kind, 1)
    getter_q = make(smod, kind)
    q.put(0)
    raised: list[str] = []

    def put() -> None:
        try:
            q.put(1)
        except smod.ShutDown:
            raised.append("put")

    def get() -> None:
        try:
            getter_q.get()
        except smod.ShutDown:
            raised.append("get")

    threads = [threading.Thread(target=put), threading.Thread(target=get)]
    for t in threads:
        t.start()
    wait_until_parked(q, putters=1)
    wait_until_parked(getter_q, getters=1)
    q.shutdown()
    getter_q.shutdown()
    for t in threads:
        t.join(60)
    assert sorted(raised) == ["get", "put"]


def test_batches(kind: str) -> None:
    q = make(ringq, kind)
    q.put_many([3, 1, 2])
    q.put_many(iter([5, 4]))
    assert q.unfinished_tasks == 5
    got = q.get_many(3)
    assert got == ([4, 5, 2] if kind == "LifoQueue" else [1, 2, 3])
    assert len(q.get_many(10)) == 2
    with pytest.raises(ringq.Empty):
        q.get_many(1, block=False)
    with pytest.raises(ValueError):
        q.get_many(0)
    q.task_done(5)
    q.join()


def test_put_many_blocks_and_times_out(kind: str) -> None:
    q = make(ringq, kind, 2)
    with pytest.raises(ringq.Full):
        q.put_many(range(5), block=False)
    assert q.qsize() == 2  # those that fitted stay
    with pytest.raises(ringq.Full):
        q.put_many(range(3), timeout=0.01)
    t = threading.Thread(target=q.put_many, args=(range(10, 14),))
    t.start()
    got = [q.get(timeout=60) for _ in range(6)]
    t.join(60)
    assert sorted(got) == [0, 1, 10, 11, 12, 13]


def test_many_threads_exactly_once(kind: str) -> None:
    q = make(ringq, kind, 8)
    n_producers, per = 4, 2000
    received: list[list[int]] = [[] for _ in range(4)]

    def producer(p: int) -> None:
        for i in range(per):
            q.put(p * per + i)

    def consumer(c: int) -> None:
        while (x := q.get(timeout=60)) >= 0:
            received[c].append(x)
            q.task_done()
        q.task_done()

    consumers = [threading.Thread(target=consumer, args=(c,)) for c in range(4)]
    for t in consumers:
        t.start()
    run_threads([lambda p=p: producer(p) for p in range(n_producers)])  # type: ignore[misc]
    for _ in consumers:
        q.put(-1)
    for t in consumers:
        t.join(60)
    q.join()
    assert sorted(x for r in received for x in r) == list(range(n_producers * per))


class Tied:
    """Orders by key only, so equal keys are ties told apart by identity."""

    def __init__(self, key: int, n: int) -> None:
        self.key, self.n = key, n

    def __lt__(self, other: Tied) -> bool:
        return self.key < other.key


def test_priority_ties_come_out_as_in_the_stdlib() -> None:
    """heapq is not stable; ringq makes the same comparisons, so every get
    returns the very object the standard library's would."""
    rnd = random.Random(7)
    ours, theirs = ringq.PriorityQueue(), queue.PriorityQueue()
    for n in range(20_000):
        r = rnd.random()
        if r < 0.55 or ours.empty():
            item = Tied(rnd.randrange(4), n)
            ours.put(item)
            theirs.put(item)
        elif r < 0.95:
            assert ours.get() is theirs.get()
        else:
            batch = ours.get_many(rnd.randrange(1, 6))
            assert batch == [theirs.get() for _ in batch]
    assert ours.qsize() == theirs.qsize()


def mixed_key(rnd: random.Random) -> Any:
    """Numbers of every kind the native comparison knows and some it does
    not: big ints, ints against floats, NaN and -0.0, bools, tuples with
    equal or different first items, a tuple whose first item is a NaN
    object shared with another tuple."""
    nan = float("nan")
    choices: list[Callable[[], Any]] = [
        lambda: rnd.randrange(-5, 5),
        lambda: rnd.randrange(-5, 5) * 2**70,
        lambda: rnd.choice([0.5, -0.0, 0.0, 1.5, float("inf")]),
        lambda: rnd.choice([True, False]),
        lambda: (rnd.randrange(3), rnd.randrange(3)),
        lambda: (rnd.choice([0.0, -0.0, 2.5]), rnd.randrange(3)),
        lambda: (nan, rnd.randrange(3)),
        lambda: nan,
    ]
    return rnd.choice(choices)()


@pytest.mark.parametrize("family", ["numbers", "tuples"])
def test_priority_native_keys_order_as_the_stdlib(family: str) -> None:
    """The natively compared keys give every get the very object the
    standard library's PriorityQueue returns."""
    rnd = random.Random(11)
    ours, theirs = ringq.PriorityQueue(), queue.PriorityQueue()
    for _ in range(20_000):
        if rnd.random() < 0.55 or ours.empty():
            item = mixed_key(rnd)
            if family == "tuples" and not isinstance(item, tuple):
                item = (item, rnd.randrange(2))
            elif family == "numbers" and isinstance(item, tuple):
                item = item[0]
            theirs.put(item)  # all comparable: nothing here raises
            ours.put(item)
        else:
            assert ours.get() is theirs.get()
    assert ours.qsize() == theirs.qsize()


def test_priority_comparison_error_leaves_the_queue_unchanged() -> None:
    q = ringq.PriorityQueue()
    for x in (3, 1, 2):
        q.put(x)
    with pytest.raises(TypeError):
        q.put("not comparable with ints")
    assert q.qsize() == 3 and q.unfinished_tasks == 3
    assert [q.get() for _ in range(3)] == [1, 2, 3]


class Touchy:
    """Raises from __lt__ while `broken` is set."""

    broken = False

    def __init__(self, key: int) -> None:
        self.key = key

    def __lt__(self, other: Touchy) -> bool:
        if Touchy.broken:
            raise ZeroDivisionError("no comparing now")
        return self.key < other.key


def test_priority_get_that_cannot_compare_loses_nothing() -> None:
    q = ringq.PriorityQueue()
    items = [Touchy(k) for k in (5, 3, 9, 1, 7)]
    for item in items:
        q.put(item)
    Touchy.broken = True
    try:
        with pytest.raises(ZeroDivisionError):
            q.get()
        with pytest.raises(ZeroDivisionError):
            q.get_many(3)
    finally:
        Touchy.broken = False
    assert q.qsize() == 5
    assert [q.get().key for _ in range(5)] == [1, 3, 5, 7, 9]


def test_priority_get_many_stops_at_a_comparison_error_and_keeps_the_rest() -> None:
    """A comparison that raises part way through a batch ends the batch:
    what was taken is returned, the rest stays, in order."""
    budget = [0]

    class Budgeted:
        def __init__(self, key: int) -> None:
            self.key = key

        def __lt__(self, other: Budgeted) -> bool:
            if budget[0] == 0:
                raise ZeroDivisionError("out of comparisons")
            budget[0] -= 1
            return self.key < other.key

    q = ringq.PriorityQueue()
    budget[0] = 100
    for k in (5, 3, 9, 7):
        q.put(Budgeted(k))
    # Popping 3 from four items takes two comparisons; popping 5 from the
    # three left takes one more, which is refused.
    budget[0] = 2
    batch = q.get_many(4)
    assert [b.key for b in batch] == [3] and q.qsize() == 3
    with pytest.raises(ZeroDivisionError):
        q.get()
    budget[0] = 100
    assert [b.key for b in q.get_many(10)] == [5, 7, 9]


def test_priority_reentry_from_lt_is_refused() -> None:
    q = ringq.PriorityQueue()

    class Meddler:
        def __lt__(self, other: Any) -> bool:
            assert q.qsize() == 1  # reading the size is fine
            q.put(Meddler())  # changing the queue is not
            return True

    q.put(Meddler())
    with pytest.raises(RuntimeError, match="inside another operation"):
        q.put(Meddler())
    assert q.qsize() == 1  # the failed put left the queue as it was
    q.get_nowait()


def test_priority_del_during_get_may_use_the_queue() -> None:
    """An item is released only after the heap is let go, so its __del__
    may put into the same queue."""
    q = ringq.PriorityQueue()
    died_after_shutdown: list[int] = []

    class PutsOnDeath:
        def __init__(self, key: int) -> None:
            self.key = key

        def __lt__(self, other: PutsOnDeath) -> bool:
            return self.key < other.key

        def __del__(self) -> None:
            if self.key < 100:
                try:
                    q.put(PutsOnDeath(self.key + 100))
                except ringq.ShutDown:
                    died_after_shutdown.append(self.key)

    q.put(PutsOnDeath(1))
    q.put(PutsOnDeath(2))
    q.get()  # released at once: its __del__ puts 101
    assert q.qsize() == 2
    q.shutdown(immediate=True)  # drains and releases: __del__s meet ShutDown
    assert q.qsize() == 0 and died_after_shutdown == [2]


def test_priority_threads_and_a_slow_lt() -> None:
    """Comparisons that run Python code (and so let other threads in) while
    several threads put and get: every item comes out exactly once, and
    each get returns the smallest item at that moment of its own thread."""
    q = ringq.PriorityQueue()

    class Slow:
        def __init__(self, key: int) -> None:
            self.key = key

        def __lt__(self, other: Slow) -> bool:
            time.sleep(0)  # lets the other threads run while this one owns the heap
            return self.key < other.key

    received: list[int] = []
    lock = threading.Lock()
    STOP = 10**9

    def producer(p: int) -> None:
        for i in range(300):
            q.put(Slow(p * 300 + i))

    def consumer() -> None:
        while (item := q.get(timeout=60)).key < STOP:
            with lock:
                received.append(item.key)

    consumers = [threading.Thread(target=consumer) for _ in range(3)]
    for t in consumers:
        t.start()
    run_threads([lambda p=p: producer(p) for p in range(3)])  # type: ignore[misc]
    for _ in consumers:
        q.put(Slow(STOP))  # after every real item: it is the largest
    for t in consumers:
        t.join(60)
    assert sorted(received) == list(range(900))


def tracked(cls: type) -> int:
    """How many instances of `cls` the collector tracks: a cycle that was
    found but could not be broken stays among them. (A weakref proves less:
    the collector clears weakrefs to every unreachable object, freed or
    not.)"""
    return sum(1 for o in gc.get_objects() if type(o) is cls)


def test_cycles_through_the_queue_are_collected(kind: str) -> None:
    class Node:
        q: Any = None

    cls = getattr(ringq, kind)
    gc.collect()
    before = tracked(cls)
    q = cls()
    node = Node()
    node.q = q
    q.put((1, node))
    del q, node
    gc.collect()
    assert tracked(cls) == before


def test_a_cycle_only_the_queue_can_break_is_collected(kind: str) -> None:
    """The queue holds a tuple that holds the queue: tuples can't be
    cleared, so only the queue's own tp_clear can break the cycle."""
    cls = getattr(ringq, kind)
    gc.collect()
    before = tracked(cls)
    q = cls()
    q.put((0, q))
    del q
    gc.collect()
    assert tracked(cls) == before


def test_referents_are_the_items(kind: str) -> None:
    q = make(ringq, kind)
    items = [(1, object()), (0, object())]
    for item in items:
        q.put(item)
    found = [x for x in gc.get_referents(q) if x is not type(q)]
    assert sorted(map(id, found)) == sorted(map(id, items))


def test_class_details(kind: str) -> None:
    cls = getattr(ringq, kind)
    assert cls.__name__ == kind and cls.__module__ == "ringq"
    assert cls[int].__origin__ is cls
    q = cls()
    assert weakref.ref(q)() is q
    with pytest.raises(TypeError):
        cls(1, 2)
    with pytest.raises(TypeError):
        cls(maxsize="3")
    assert cls(maxsize=2**100).maxsize == sys.maxsize  # clamped: as good as unbounded
    assert cls(-(2**100)).maxsize < 0


class Payload:
    """A weakly referenceable item, ordered by its key."""

    def __init__(self, key: int = 0) -> None:
        self.key = key

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Payload):
            return NotImplemented
        return self.key < other.key


def test_references_are_handed_over_and_released(kind: str) -> None:
    q = make(ringq, kind, 1)
    item = Payload()
    base = sys.getrefcount(item)
    q.put(item)
    assert sys.getrefcount(item) == base + 1
    with pytest.raises(ringq.Full):
        q.put_nowait(item)  # a failed put keeps no reference
    assert sys.getrefcount(item) == base + 1
    got = q.get()
    assert got is item
    del got
    assert sys.getrefcount(item) == base
    ref = weakref.ref(item)
    q.put(item)
    del item
    assert ref() is not None
    del q  # a dropped queue releases what it holds
    assert ref() is None


def test_a_put_whose_comparison_raises_keeps_no_reference() -> None:
    q = ringq.PriorityQueue()
    q.put(1)
    item = Payload()
    base = sys.getrefcount(item)
    with pytest.raises(TypeError):
        q.put(item)
    assert sys.getrefcount(item) == base


def test_no_leak_over_many_operations(kind: str) -> None:
    q = make(ringq, kind)

    def churn() -> None:
        for i in range(2000):
            q.put(Payload(i % 7))
            q.put_many([Payload(i % 5), Payload(i % 3)])
            q.get()
            q.get_many(2)
        q.put(Payload())
        q.shutdown(immediate=True)

    churn_queue = q
    churn()
    q = make(ringq, kind)
    gc.collect()
    before = sum(1 for o in gc.get_objects() if type(o) is Payload)
    churn()
    gc.collect()
    after = sum(1 for o in gc.get_objects() if type(o) is Payload)
    assert after == before == 0
    assert sys.getrefcount(q) == 2 and sys.getrefcount(churn_queue) == 2
