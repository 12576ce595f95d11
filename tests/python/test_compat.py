"""The compatibility suite: every test runs against the standard library's
queue module and against ringq, and must pass for both.

Nothing here asserts how long anything takes; a timeout argument only
bounds how long a failing test can wait.
"""

from __future__ import annotations

import threading
import types
import typing
from types import ModuleType

import pytest

from conftest import run_threads

NEG_TIMEOUT = "'timeout' must be a non-negative number"


# --- queue.Queue -----------------------------------------------------------


def test_fifo_order_and_sizes(qmod: ModuleType) -> None:
    q = qmod.Queue()
    assert q.empty() and not q.full() and q.qsize() == 0
    for i in range(100):
        q.put(i)
    assert q.qsize() == 100 and not q.empty() and not q.full()
    assert [q.get() for _ in range(100)] == list(range(100))
    assert q.empty()


@pytest.mark.parametrize("maxsize", [0, -1, -100])
def test_unbounded_maxsize(qmod: ModuleType, maxsize: int) -> None:
    q = qmod.Queue(maxsize)
    assert q.maxsize == maxsize
    for i in range(1000):
        q.put_nowait(i)
    assert not q.full()
    assert q.qsize() == 1000


def test_default_maxsize_and_keywords(qmod: ModuleType) -> None:
    q = qmod.Queue(maxsize=3)
    assert q.maxsize == 3
    q.put(item="a", block=True, timeout=None)
    assert q.get(block=True, timeout=None) == "a"
    assert qmod.Queue().maxsize == 0


def test_bounded_full_and_nowait(qmod: ModuleType) -> None:
    q = qmod.Queue(2)
    q.put_nowait(1)
    q.put(2, block=False)
    assert q.full() and q.qsize() == 2
    with pytest.raises(qmod.Full):
        q.put_nowait(3)
    with pytest.raises(qmod.Full):
        q.put(3, block=False)
    with pytest.raises(qmod.Full):
        q.put(3, timeout=0)
    with pytest.raises(qmod.Full):
        q.put(3, timeout=0.01)
    assert q.get_nowait() == 1
    q.put(3, timeout=0.01)
    assert [q.get(), q.get()] == [2, 3]
    with pytest.raises(qmod.Empty):
        q.get_nowait()
    with pytest.raises(qmod.Empty):
        q.get(block=False)
    with pytest.raises(qmod.Empty):
        q.get(timeout=0)
    with pytest.raises(qmod.Empty):
        q.get(timeout=0.01)


def test_capacity_is_exact(qmod: ModuleType) -> None:
    for maxsize in (1, 3, 5, 7, 100):
        q = qmod.Queue(maxsize)
        for i in range(maxsize):
            q.put_nowait(i)
        with pytest.raises(qmod.Full):
            q.put_nowait(maxsize)
        assert q.qsize() == maxsize


def test_exceptions_are_the_stdlib_ones(qmod: ModuleType) -> None:
    import queue

    with pytest.raises(queue.Empty):
        qmod.Queue().get_nowait()
    q = qmod.Queue(1)
    q.put(0)
    with pytest.raises(queue.Full):
        q.put_nowait(1)
    # Raised without arguments, as the standard library does.
    try:
        q.put_nowait(1)
    except queue.Full as exc:
        assert exc.args == ()


def test_items_keep_identity(qmod: ModuleType) -> None:
    q = qmod.Queue()
    items = [None, object(), [1, 2], "s", 3.5, q]
    for item in items:
        q.put(item)
    for item in items:
        assert q.get() is item


def test_negative_timeout_get(qmod: ModuleType) -> None:
    q = qmod.Queue()
    with pytest.raises(ValueError, match=NEG_TIMEOUT):
        q.get(timeout=-1)
    q.put(1)
    # Checked even when an item is there ...
    with pytest.raises(ValueError, match=NEG_TIMEOUT):
        q.get(timeout=-0.5)
    # ... but ignored when not blocking.
    assert q.get(block=False, timeout=-1) == 1
    assert q.qsize() == 0


def test_negative_timeout_put(qmod: ModuleType) -> None:
    bounded = qmod.Queue(5)
    # A bounded queue checks the timeout even when there is room ...
    with pytest.raises(ValueError, match=NEG_TIMEOUT):
        bounded.put(1, timeout=-1)
    assert bounded.qsize() == 0 and bounded.unfinished_tasks == 0
    # ... but not when not blocking.
    bounded.put(1, block=False, timeout=-1)
    # An unbounded queue never looks at the timeout.
    unbounded = qmod.Queue()
    unbounded.put(1, timeout=-1)
    unbounded.put(2, timeout="not a number")
    assert unbounded.qsize() == 2


def test_timeout_ignored_without_block(qmod: ModuleType) -> None:
    q = qmod.Queue(1)
    q.put(1, block=False, timeout="ignored")
    assert q.get(block=False, timeout="ignored") == 1


def test_timeout_of_wrong_type(qmod: ModuleType) -> None:
    q = qmod.Queue(1)
    with pytest.raises(TypeError):
        q.get(timeout="soon")
    with pytest.raises(TypeError):
        q.put(1, timeout="soon")


def test_block_is_read_for_truth(qmod: ModuleType) -> None:
    for q in (qmod.Queue(1), qmod.SimpleQueue()):
        q.put("a", 1)
        assert q.get(1) == "a"
        with pytest.raises(qmod.Empty):
            q.get(0)
        with pytest.raises(qmod.Empty):
            q.get([])
        q.put("b", "yes", None)
        assert q.get(None) == "b"
    bounded = qmod.Queue(1)
    bounded.put(1)
    with pytest.raises(qmod.Full):
        bounded.put(2, 0)


def test_int_timeouts(qmod: ModuleType) -> None:
    q = qmod.Queue(1)
    q.put(1, timeout=5)
    assert q.get(timeout=5) == 1
    with pytest.raises(qmod.Empty):
        q.get(timeout=0)


def test_task_done_and_join(qmod: ModuleType) -> None:
    q = qmod.Queue()
    q.join()  # nothing to wait for
    for i in range(10):
        q.put(i)
    assert q.unfinished_tasks == 10
    for _ in range(10):
        q.get()
    assert q.unfinished_tasks == 10
    for _ in range(10):
        q.task_done()
    assert q.unfinished_tasks == 0
    q.join()
    with pytest.raises(ValueError, match=r"task_done\(\) called too many times"):
        q.task_done()
    assert q.unfinished_tasks == 0


def test_failed_puts_are_not_tasks(qmod: ModuleType) -> None:
    q = qmod.Queue(1)
    q.put(1)
    with pytest.raises(qmod.Full):
        q.put_nowait(2)
    with pytest.raises(qmod.Full):
        q.put(2, timeout=0.01)
    assert q.unfinished_tasks == 1
    q.get()
    q.task_done()
    q.join()


def test_join_waits_for_workers(qmod: ModuleType) -> None:
    q = qmod.Queue()
    done: list[int] = []

    def worker() -> None:
        while True:
            item = q.get()
            if item is None:
                q.task_done()
                return
            done.append(item)
            q.task_done()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(1000):
        q.put(i)
    q.join()
    assert sorted(done) == list(range(1000))
    for _ in threads:
        q.put(None)
    for t in threads:
        t.join()


def test_blocking_get_is_woken_by_put(qmod: ModuleType) -> None:
    q = qmod.Queue()
    got: list[object] = []
    t = threading.Thread(target=lambda: got.append(q.get(timeout=60)))
    t.start()
    q.put("hello")
    t.join()
    assert got == ["hello"]


def test_blocking_put_is_woken_by_get(qmod: ModuleType) -> None:
    q = qmod.Queue(1)
    q.put(1)
    t = threading.Thread(target=lambda: q.put(2, timeout=60))
    t.start()
    assert q.get(timeout=60) == 1
    t.join()
    assert q.get(timeout=60) == 2


def test_generic_alias(qmod: ModuleType) -> None:
    for cls in (qmod.Queue, qmod.SimpleQueue):
        alias = cls[int]
        assert isinstance(alias, types.GenericAlias)
        assert typing.get_origin(alias) is cls
        assert typing.get_args(alias) == (int,)
        assert typing.get_args(cls[int, str]) == (int, str)


def test_class_names(qmod: ModuleType) -> None:
    assert qmod.Queue.__name__ == "Queue"
    assert qmod.SimpleQueue.__name__ == "SimpleQueue"


def test_weakref_to_queue(qmod: ModuleType) -> None:
    import weakref

    for q in (qmod.Queue(), qmod.SimpleQueue()):
        ref = weakref.ref(q)
        assert ref() is q


def test_bad_maxsize_type(qmod: ModuleType) -> None:
    with pytest.raises(TypeError):
        q = qmod.Queue("big")
        q.put(1)


def test_many_producers_many_consumers(qmod: ModuleType) -> None:
    q = qmod.Queue(16)
    n_producers, n_consumers, per_producer = 4, 4, 2000
    seen: list[list[int]] = [[] for _ in range(n_consumers)]

    def producer(p: int) -> None:
        for i in range(per_producer):
            q.put(p * per_producer + i)

    def consumer(c: int) -> None:
        while (item := q.get()) is not None:
            seen[c].append(item)

    consumers = [threading.Thread(target=consumer, args=(c,)) for c in range(n_consumers)]
    for t in consumers:
        t.start()
    run_threads([lambda p=p: producer(p) for p in range(n_producers)])  # type: ignore[misc]
    for _ in consumers:
        q.put(None)
    for t in consumers:
        t.join()
    everything = sorted(x for s in seen for x in s)
    assert everything == list(range(n_producers * per_producer))


# --- queue.SimpleQueue -----------------------------------------------------


def test_simple_fifo(qmod: ModuleType) -> None:
    q = qmod.SimpleQueue()
    assert q.empty() and q.qsize() == 0
    for i in range(50):
        q.put(i)
    assert q.qsize() == 50 and not q.empty()
    assert [q.get() for _ in range(50)] == list(range(50))
    assert q.empty()


def test_simple_put_ignores_block_and_timeout(qmod: ModuleType) -> None:
    q = qmod.SimpleQueue()
    q.put(1, block=False)
    q.put(2, True, -1)
    q.put(3, timeout="whatever")
    q.put(item=4, block=True, timeout=None)
    q.put_nowait(5)
    assert [q.get_nowait() for _ in range(5)] == [1, 2, 3, 4, 5]


def test_simple_get_empty_and_timeouts(qmod: ModuleType) -> None:
    q = qmod.SimpleQueue()
    with pytest.raises(qmod.Empty):
        q.get_nowait()
    with pytest.raises(qmod.Empty):
        q.get(block=False)
    with pytest.raises(qmod.Empty):
        q.get(timeout=0)
    with pytest.raises(qmod.Empty):
        q.get(timeout=0.01)
    with pytest.raises(ValueError, match=NEG_TIMEOUT):
        q.get(timeout=-1)
    q.put(1)
    with pytest.raises(ValueError, match=NEG_TIMEOUT):
        q.get(timeout=-1)
    assert q.get(False, -1) == 1
    with pytest.raises(TypeError):
        q.get(timeout="soon")


def test_simple_blocking_get(qmod: ModuleType) -> None:
    q = qmod.SimpleQueue()
    got: list[object] = []
    t = threading.Thread(target=lambda: got.append(q.get()))
    t.start()
    q.put("x")
    t.join()
    assert got == ["x"]


def test_simple_has_no_queue_extras(qmod: ModuleType) -> None:
    q = qmod.SimpleQueue()
    for name in ("task_done", "join", "full", "maxsize"):
        assert not hasattr(q, name)
