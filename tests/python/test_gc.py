"""Cyclic garbage collection: every queue class traverses and clears the
items it holds, so cycles through a queue are collected, and traversal
leaves the queue exactly as it was, even while threads wait on it."""

from __future__ import annotations

import gc
import queue
import threading
import time
import weakref
from typing import Any, Callable

import pytest

import ringq
from conftest import run_threads

FACTORIES: dict[str, Callable[[], Any]] = {
    "Queue(8)": lambda: ringq.Queue(8),
    "Queue()": lambda: ringq.Queue(),
    "SimpleQueue": ringq.SimpleQueue,
    "SPSCQueue(8)": lambda: ringq.SPSCQueue(8),
    "stdlib Queue": lambda: queue.Queue(8),
    "stdlib SimpleQueue": queue.SimpleQueue,
}


class Node:
    """An object that can hold a reference back to its queue."""

    def __init__(self, q: Any = None) -> None:
        self.q = q


@pytest.fixture(params=list(FACTORIES), ids=list(FACTORIES))
def make(request: pytest.FixtureRequest) -> Callable[[], Any]:
    return FACTORIES[request.param]


def collect_until_dead(*refs: weakref.ref[Any]) -> bool:
    for _ in range(3):
        gc.collect()
        if all(r() is None for r in refs):
            return True
    return False


def test_cycle_through_queue_is_collected(make: Callable[[], Any]) -> None:
    q = make()
    node = Node(q)
    q.put(node)
    q.put(Node())  # a bystander, released with the queue
    refs = (weakref.ref(q), weakref.ref(node))
    del q, node
    assert collect_until_dead(*refs)


@pytest.mark.parametrize("name", [n for n in FACTORIES if not n.startswith("stdlib")])
def test_traverse_visits_every_item(name: str) -> None:
    # The standard library's queues hold their items one object further in.
    q = FACTORIES[name]()
    items = [Node() for _ in range(5)]
    for item in items:
        q.put(item)
    referents = gc.get_referents(q)
    for item in items:
        assert any(r is item for r in referents)


def test_traversal_keeps_order_and_content(make: Callable[[], Any]) -> None:
    q = make()
    items = [object() for _ in range(7)]
    for item in items:
        q.put(item)
    for _ in range(3):
        gc.get_referents(q)
        gc.collect()
    assert q.qsize() == 7
    assert [q.get_nowait() for _ in range(7)] == items
    assert q.empty()


def test_cycle_through_a_shut_down_queue_is_collected() -> None:
    q = ringq.Queue(4)
    node = Node(q)
    q.put(node)
    q.put(Node())
    q.shutdown()
    refs = (weakref.ref(q), weakref.ref(node))
    del q, node
    assert collect_until_dead(*refs)


def test_shut_down_queue_keeps_its_items_through_traversal() -> None:
    q = ringq.Queue(4)
    items = [object() for _ in range(3)]
    for item in items:
        q.put(item)
    q.shutdown()
    gc.collect()
    assert any(r is items[0] for r in gc.get_referents(q))
    assert [q.get() for _ in range(3)] == items
    with pytest.raises(ringq.ShutDown):
        q.get_nowait()


@pytest.mark.parametrize("kind", ["SimpleQueue", "Queue()", "Queue(2).maxsize=100"])
def test_cycle_through_a_grown_queue_is_collected(kind: str) -> None:
    """The rings an unbounded queue grows through, and the ring a larger
    maxsize moves it to, are traversed and cleared like the first one."""
    if kind == "SimpleQueue":
        q: Any = ringq.SimpleQueue()
    elif kind == "Queue()":
        q = ringq.Queue()
    else:
        q = ringq.Queue(2)
        q.put(0)
        q.maxsize = 100
    for i in range(90):  # past the first ring of an unbounded queue
        q.put(i)
    node = Node(q)
    q.put(node)
    refs = (weakref.ref(q), weakref.ref(node))
    del q, node
    assert collect_until_dead(*refs)


def test_clear_survives_a_del_that_puts_into_the_queue() -> None:
    """tp_clear releases the items after the queue let go of them, so a
    __del__ that uses the queue finds it consistent."""
    seen: list[int] = []

    class Reenter:
        def __init__(self, q: Any) -> None:
            self.q = q

        def __del__(self) -> None:
            self.q.put("from __del__")
            seen.append(self.q.qsize())

    for make in (ringq.SimpleQueue, lambda: ringq.Queue(4), lambda: ringq.Queue()):
        q = make()
        q.put(Reenter(q))
        q.put(Reenter(q))
        ref = weakref.ref(q)
        del q
        assert collect_until_dead(ref)
    assert len(seen) == 6


def test_weakref_callback_that_uses_the_queue_during_collection() -> None:
    q = ringq.Queue()
    used: list[int] = []

    def callback(_: Any, q: Any = q) -> None:
        q.put("from callback")
        used.append(q.qsize())

    node = Node()
    node.q = node  # a cycle of its own
    q.put(node)
    keep = weakref.ref(node, callback)  # noqa: F841 - must outlive the collection
    q.get_nowait()
    del node
    gc.collect()
    assert used == [1]
    assert q.get_nowait() == "from callback"


@pytest.mark.parametrize("kind", ["Queue", "SPSCQueue"])
def test_traversal_while_a_putter_waits(kind: str) -> None:
    """A putter blocked on a full queue waits detached, holding its item;
    the GC traverses the queue meanwhile, and nothing is lost or
    reordered."""
    q: Any = ringq.Queue(4) if kind == "Queue" else ringq.SPSCQueue(4)
    for i in range(4):
        q.put(i)
    done = threading.Event()

    def putter() -> None:
        for i in range(4, 12):
            q.put(i, timeout=60)
        done.set()

    t = threading.Thread(target=putter, daemon=True)
    t.start()
    # The queue is full and nothing gets, so once the putter has started it
    # can only be inside put(), waiting: traverse then, several times.
    while not t.is_alive():
        time.sleep(0.001)
    time.sleep(0.1)
    for _ in range(5):
        gc.collect()
        assert [r for r in gc.get_referents(q) if isinstance(r, int)] == [0, 1, 2, 3]
    assert q.qsize() == 4 and not done.is_set()
    got = []
    while len(got) < 12:
        got.append(q.get(timeout=60))
        gc.collect()
    t.join(60)
    assert got == list(range(12))


def test_traversal_while_getters_wait() -> None:
    """Getters blocked on an empty queue peek at it while detached; the GC
    traverses meanwhile, and every item reaches exactly one getter."""
    q = ringq.Queue()
    got: list[int] = []
    lock = threading.Lock()

    def getter() -> None:
        while True:
            item = q.get(timeout=60)
            if item is None:
                return
            with lock:
                got.append(item)

    def feeder() -> None:
        for i in range(2000):
            q.put(i)
            if i % 100 == 0:
                gc.collect()
        for _ in range(3):
            q.put(None)

    run_threads([getter, getter, getter, feeder])
    assert sorted(got) == list(range(2000))
