"""Thread stress: every item put is got exactly once, and each producer's
items come out in the order it put them."""

from __future__ import annotations

import threading
from typing import Any, Callable

import pytest

import ringq
from conftest import run_threads

PER_PRODUCER = 20_000


def check_exactly_once(received: list[list[tuple[int, int]]], n_producers: int) -> None:
    everything = sorted(x for r in received for x in r)
    assert everything == [(p, i) for p in range(n_producers) for i in range(PER_PRODUCER)]
    # FIFO per producer, as seen by each consumer.
    for r in received:
        last: dict[int, int] = {}
        for p, i in r:
            assert last.get(p, -1) < i
            last[p] = i


def stress(
    q: Any,
    n_producers: int,
    n_consumers: int,
    put: Callable[[Any, list[tuple[int, int]]], None],
    get: Callable[[Any], list[Any]],
) -> None:
    received: list[list[tuple[int, int]]] = [[] for _ in range(n_consumers)]

    def producer(p: int) -> None:
        items = [(p, i) for i in range(PER_PRODUCER)]
        for start in range(0, PER_PRODUCER, 10):
            put(q, items[start : start + 10])

    def consumer(c: int) -> None:
        while True:
            batch = get(q)
            for k, item in enumerate(batch):
                if item is None:
                    # The sentinels come after every item. A batch may hold
                    # several: keep one, hand the others back.
                    for extra in batch[k + 1 :]:
                        assert extra is None
                        put(q, [None])
                    return
                received[c].append(item)

    consumers = [threading.Thread(target=consumer, args=(c,), daemon=True) for c in range(n_consumers)]
    for t in consumers:
        t.start()
    run_threads([lambda p=p: producer(p) for p in range(n_producers)])  # type: ignore[misc]
    for _ in consumers:
        put(q, [None])  # type: ignore[list-item]
    for t in consumers:
        t.join(120)
        assert not t.is_alive()
    check_exactly_once(received, n_producers)


def put_each(q: Any, items: list[Any]) -> None:
    for x in items:
        q.put(x)


def put_batch(q: Any, items: list[Any]) -> None:
    q.put_many(items)


def get_one(q: Any) -> list[Any]:
    return [q.get()]


def get_one_with_timeouts(q: Any) -> list[Any]:
    while True:
        try:
            return [q.get(timeout=0.001)]
        except ringq.Empty:
            pass


# The size of every batch get_batch took, so a test can tell it batched.
BATCH_SIZES: list[int] = []


def get_batch(q: Any) -> list[Any]:
    batch: list[Any] = q.get_many(64)
    BATCH_SIZES.append(len(batch))
    return batch


QUEUES: dict[str, Callable[[], Any]] = {
    "Queue-1": lambda: ringq.Queue(1),
    "Queue-16": lambda: ringq.Queue(16),
    "Queue-unbounded": lambda: ringq.Queue(),
    "SimpleQueue": lambda: ringq.SimpleQueue(),
}


@pytest.mark.parametrize("name", sorted(QUEUES))
@pytest.mark.parametrize(
    "put,get",
    [(put_each, get_one), (put_batch, get_batch), (put_each, get_one_with_timeouts)],
    ids=["put-get", "put_many-get_many", "get-timeouts"],
)
def test_mpmc_exactly_once(name: str, put: Any, get: Any) -> None:
    BATCH_SIZES.clear()
    stress(QUEUES[name](), 4, 4, put, get)
    if get is get_batch and name != "Queue-1":
        assert max(BATCH_SIZES) > 1, "get_many never took more than one item"


@pytest.mark.parametrize("maxsize", [1, 2, 64])
@pytest.mark.parametrize("put", [put_each, put_batch], ids=["put", "put_many"])
def test_spsc_exactly_once(maxsize: int, put: Any) -> None:
    stress(ringq.SPSCQueue(maxsize), 1, 1, put, get_one)


def test_spsc_get_many_large_batches() -> None:
    q = ringq.SPSCQueue(128)
    received: list[int] = []
    n = 50_000

    def consumer() -> None:
        while len(received) < n:
            received.extend(q.get_many(1000, timeout=60))

    t = threading.Thread(target=consumer)
    t.start()
    for start in range(0, n, 500):
        q.put_many(range(start, start + 500))
    t.join()
    assert received == list(range(n))


def test_join_with_many_workers_exactly_once() -> None:
    q = ringq.Queue(8)
    done: list[list[int]] = [[] for _ in range(4)]

    def worker(w: int) -> None:
        while True:
            try:
                item = q.get()
            except ringq.ShutDown:
                return
            done[w].append(item)
            q.task_done()

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(4)]
    for t in threads:
        t.start()
    for round_ in range(5):
        for i in range(1000):
            q.put(round_ * 1000 + i)
        q.join()
        assert q.unfinished_tasks == 0
        assert sum(map(len, done)) == (round_ + 1) * 1000
    q.shutdown()
    for t in threads:
        t.join(60)
    assert sorted(x for d in done for x in d) == list(range(5000))
