"""get_many() and put_many(), which the standard library does not have."""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator

import pytest

import ringq
from conftest import run_threads

FACTORIES: list[Callable[[], Any]] = [
    lambda: ringq.Queue(),
    lambda: ringq.Queue(7),
    lambda: ringq.SimpleQueue(),
    lambda: ringq.SPSCQueue(7),
]
IDS = ["Queue-unbounded", "Queue-bounded", "SimpleQueue", "SPSCQueue"]


@pytest.fixture(params=FACTORIES, ids=IDS)
def make(request: pytest.FixtureRequest) -> Callable[[], Any]:
    return request.param  # type: ignore[no-any-return]


def test_get_many_takes_what_is_there(make: Callable[[], Any]) -> None:
    q = make()
    for i in range(5):
        q.put(i)
    assert q.get_many(3) == [0, 1, 2]
    assert q.get_many(100) == [3, 4]
    assert q.qsize() == 0
    with pytest.raises(ringq.Empty):
        q.get_many(10, block=False)
    with pytest.raises(ringq.Empty):
        q.get_many(10, timeout=0.01)
    with pytest.raises(ringq.Empty):
        q.get_many(10, timeout=0)


def test_get_many_bad_arguments(make: Callable[[], Any]) -> None:
    q = make()
    q.put(1)
    for bad in (0, -1):
        with pytest.raises(ValueError, match="max_items must be at least 1"):
            q.get_many(bad)
    with pytest.raises(TypeError):
        q.get_many("3")
    with pytest.raises(ValueError, match="'timeout' must be a non-negative number"):
        q.get_many(1, timeout=-1)
    assert q.get_many(1, block=False, timeout=-1) == [1]


def test_get_many_blocks_for_the_first_item(make: Callable[[], Any]) -> None:
    q = make()
    got: list[list[int]] = []
    t = threading.Thread(target=lambda: got.append(q.get_many(10, timeout=60)))
    t.start()
    q.put(42)
    t.join()
    assert got[0][0] == 42


def test_put_many_in_order(make: Callable[[], Any]) -> None:
    q = make()
    q.put_many([1, 2, 3])
    q.put_many(iter((4, 5)))
    q.put_many([])
    assert q.get_many(10) == [1, 2, 3, 4, 5]


def test_put_many_generator_and_errors(make: Callable[[], Any]) -> None:
    q = make()

    def gen() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        q.put_many(gen())
    # The items taken before the error went in.
    assert q.get_many(10) == [1, 2]
    with pytest.raises(TypeError):
        q.put_many(5)


def test_put_many_more_than_capacity_blocks_until_consumed() -> None:
    for q in (ringq.Queue(3), ringq.SPSCQueue(3)):
        n = 5000
        received: list[int] = []

        def consumer(q: Any = q) -> None:
            while len(received) < n:
                received.extend(q.get_many(64, timeout=60))

        t = threading.Thread(target=consumer)
        t.start()
        q.put_many(range(n))
        t.join()
        assert received == list(range(n))


def test_put_many_counts_tasks() -> None:
    q = ringq.Queue()
    q.put_many(range(2500))
    assert q.unfinished_tasks == 2500
    assert len(q.get_many(10_000)) == 2500
    for _ in range(2500):
        q.task_done()
    q.join()


def test_put_many_after_shutdown() -> None:
    for q in (ringq.Queue(), ringq.SPSCQueue(4)):
        q.shutdown()
        with pytest.raises(ringq.ShutDown):
            q.put_many([1, 2])
        with pytest.raises(ringq.ShutDown):
            q.get_many(1)
    q = ringq.Queue()
    q.put_many([1, 2])
    q.shutdown()
    assert q.get_many(5) == [1, 2]
    with pytest.raises(ringq.ShutDown):
        q.get_many(5)
    assert q.unfinished_tasks == 2


def test_put_many_interrupted_by_shutdown() -> None:
    q = ringq.Queue(2)

    def stop_soon() -> None:
        while not q.full():
            threading.Event().wait(0.001)
        q.shutdown()

    t = threading.Thread(target=stop_soon)
    t.start()
    with pytest.raises(ringq.ShutDown):
        q.put_many(range(100))
    t.join()
    # What got in stays, and only it counts as unfinished.
    assert q.get_many(10) == [0, 1]
    assert q.unfinished_tasks == 2


def test_batches_exactly_once_many_threads() -> None:
    q = ringq.Queue(64)
    n_producers, per = 4, 5000
    received: list[list[int]] = [[] for _ in range(4)]

    def producer(p: int) -> None:
        base = p * per
        for start in range(0, per, 100):
            q.put_many(range(base + start, base + start + 100))

    def consumer(c: int) -> None:
        while True:
            batch = q.get_many(50)
            stops = batch.count(None)
            if stops:
                received[c].extend(x for x in batch if x is not None)
                # One stop each: hand back the ones meant for others.
                q.put_many([None] * (stops - 1))
                return
            received[c].extend(batch)

    consumers = [threading.Thread(target=consumer, args=(c,)) for c in range(4)]
    for t in consumers:
        t.start()
    run_threads([lambda p=p: producer(p) for p in range(n_producers)])  # type: ignore[misc]
    for _ in consumers:
        q.put(None)
    for t in consumers:
        t.join(60)
    everything = sorted(x for r in received for x in r)
    assert everything == list(range(n_producers * per))


def test_task_done_count() -> None:
    q = ringq.Queue()
    q.put_many(range(10))
    batch = q.get_many(10)
    q.task_done(len(batch) - 3)
    assert q.unfinished_tasks == 3
    with pytest.raises(ValueError, match=r"task_done\(\) called too many times"):
        q.task_done(4)
    assert q.unfinished_tasks == 3  # a refused call marks nothing done
    for bad in (0, -1):
        with pytest.raises(ValueError, match="count must be at least 1"):
            q.task_done(bad)
    q.task_done(3)
    q.join()


@pytest.mark.parametrize("kind", ["Queue", "SPSCQueue"])
def test_put_many_without_blocking_puts_what_fits(kind: str) -> None:
    q: Any = ringq.Queue(3) if kind == "Queue" else ringq.SPSCQueue(3)
    q.put(0)
    with pytest.raises(ringq.Full):
        q.put_many([1, 2, 3, 4], block=False)
    # What fitted stays, in order; the rest were not put.
    assert q.get_many(10) == [0, 1, 2]
    if kind == "Queue":
        assert q.unfinished_tasks == 3
    # 'block' is read for its truth value, as put() reads it.
    q.put_many([5, 6, 7])
    with pytest.raises(ringq.Full):
        q.put_many([8], "")
    with pytest.raises(ringq.Full):
        q.put_many(iter([8]), 0)
    assert q.get_many(10) == [5, 6, 7]


@pytest.mark.parametrize("kind", ["Queue", "SPSCQueue"])
def test_put_many_timeout(kind: str) -> None:
    q: Any = ringq.Queue(2) if kind == "Queue" else ringq.SPSCQueue(2)
    with pytest.raises(ringq.Full):
        q.put_many(range(5), timeout=0.02)
    assert q.get_many(10) == [0, 1]
    with pytest.raises(ValueError):
        q.put_many([1], timeout=-1)
    with pytest.raises(TypeError):
        q.put_many([1], timeout="soon")
    # The timeout is ignored when not blocking, as in put().
    q.put_many([1], block=False, timeout=-1)
    # The deadline is for the whole call: it finishes within it when a
    # consumer makes room in time.
    got: list[int] = []

    def consumer() -> None:
        while len(got) < 50:
            got.extend(q.get_many(8, timeout=60))

    t = threading.Thread(target=consumer)
    t.start()
    q.put_many(range(2, 51), timeout=60)
    t.join()
    assert got == list(range(1, 51))


def test_put_many_on_unbounded_queues_ignores_block_and_timeout() -> None:
    for q in (ringq.Queue(), ringq.SimpleQueue()):
        q.put_many(range(3000), block=False, timeout=-1)
        q.put_many(range(3), False, "ignored")
        assert q.qsize() == 3003
