"""put() from __del__ and weakref callbacks.

concurrent.futures.ThreadPoolExecutor puts into a SimpleQueue from a
weakref callback, which may run while another put on the same queue is in
progress. ringq's put is a lock-free push, so there is nothing to
deadlock on.
"""

from __future__ import annotations

import gc
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import ringq


class PutsOnDeath:
    def __init__(self, q: Any, payload: object) -> None:
        self.q = q
        self.payload = payload

    def __del__(self) -> None:
        self.q.put(self.payload)


class Node:
    """Weakly referenceable, and can form a cycle."""

    other: Any = None


def test_put_from_del_of_an_item_leaving_the_queue() -> None:
    q = ringq.SimpleQueue()
    q.put(PutsOnDeath(q, "from __del__"))
    q.get()  # the item is released here, and its __del__ puts again
    assert q.get_nowait() == "from __del__"


@pytest.mark.parametrize("make", [ringq.SimpleQueue, ringq.Queue, lambda: ringq.Queue(8)], ids=["SimpleQueue", "Queue", "Queue-8"])
def test_put_from_del_while_putting(make: Any) -> None:
    """A __del__ runs inside put() and puts into the same queue.

    put() reads its 'block' argument for its truth value, which runs the
    argument's __bool__; that drops the last reference to an object whose
    __del__ puts. Both puts land, and the __del__ ran before the outer put
    returned.
    """
    q = make()
    events: list[str] = []
    doomed = [PutsOnDeath(q, "from __del__")]

    class DropsOnBool:
        def __bool__(self) -> bool:
            events.append("bool")
            doomed.clear()  # the last reference: __del__ runs right here
            events.append("dropped")
            return True

    q.put("outer", DropsOnBool())
    events.append("returned")
    assert events == ["bool", "dropped", "returned"]
    assert sorted(q.get_many(10, block=False)) == ["from __del__", "outer"]
    assert not doomed


def test_put_from_weakref_callback_during_gc() -> None:
    q = ringq.SimpleQueue()
    refs = []
    for i in range(200):
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector frees it
        refs.append(weakref.ref(a, lambda _r, i=i: q.put(i)))
        del a, b
    # Collect while this thread keeps putting: callbacks land mid-stream.
    for i in range(200):
        q.put(-1)
        if i % 50 == 0:
            gc.collect()
    gc.collect()
    got = q.get_many(10_000, block=False)
    assert sorted(x for x in got if x != -1) == list(range(200))
    assert got.count(-1) == 200


def test_put_from_del_in_many_threads() -> None:
    """Objects die on whichever thread takes them, and their __del__ puts
    into a shared queue while other threads put into it too."""
    items = ringq.SimpleQueue()
    out = ringq.SimpleQueue()
    n_threads, per = 4, 500

    def worker(w: int) -> None:
        for i in range(per):
            items.put(PutsOnDeath(out, (w, i)))
            out.put(("direct", w, i))
            items.get()  # released here, by this thread, mid-stream

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = out.get_many(100_000, block=False)
    payloads = sorted(x for x in got if len(x) == 2)
    direct = [x for x in got if len(x) == 3]
    assert payloads == [(w, i) for w in range(n_threads) for i in range(per)]
    assert len(direct) == n_threads * per


def test_thread_pool_executor_pattern() -> None:
    """What ThreadPoolExecutor does: a weakref to the owner whose callback
    wakes the workers by putting into their SimpleQueue."""
    work: Any = ringq.SimpleQueue()
    results: list[int] = []

    class Owner:
        pass

    owner = Owner()
    ref = weakref.ref(owner, lambda _r: work.put(None))

    def worker() -> None:
        while (item := work.get(timeout=60)) is not None:
            results.append(item * 2)

    t = threading.Thread(target=worker)
    t.start()
    for i in range(100):
        work.put(i)
    del owner  # the callback puts the stop sentinel
    t.join(60)
    assert not t.is_alive()
    assert results == [i * 2 for i in range(100)]
    assert ref() is None


def test_thread_pool_executor_on_ringq(monkeypatch: pytest.MonkeyPatch) -> None:
    """concurrent.futures' own ThreadPoolExecutor, with its work queue
    swapped for ringq.SimpleQueue, including the weakref-callback wake-up
    when an executor is collected without shutdown()."""
    import concurrent.futures.thread as cft

    monkeypatch.setattr(cft, "queue", ringq)
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert isinstance(pool._work_queue, ringq.SimpleQueue)
        assert list(pool.map(lambda x: x * x, range(1000))) == [x * x for x in range(1000)]
        pool.submit(sum, range(10)).result(timeout=60)
    pool = ThreadPoolExecutor(max_workers=2)
    assert pool.submit(lambda: 42).result(timeout=60) == 42
    threads = list(pool._threads)
    del pool
    gc.collect()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    with ThreadPoolExecutor(max_workers=1) as pool:
        futures = [pool.submit(sum, range(i)) for i in range(50)]
        pool.shutdown(wait=True, cancel_futures=True)
    assert all(f.done() for f in futures)
