"""The async face of the thread queues: awaitable methods on the same
objects threads use, from any event loop."""

from __future__ import annotations

import asyncio
import gc
import queue
import random
import sys
import threading
import weakref
from typing import Any, Callable

import pytest

import ringq

CLASSES: list[Callable[[int], Any]] = [
    ringq.Queue,
    lambda maxsize: ringq.SimpleQueue(),
    ringq.SPSCQueue,
    ringq.LifoQueue,
    ringq.PriorityQueue,
]
IDS = ["Queue", "SimpleQueue", "SPSCQueue", "LifoQueue", "PriorityQueue"]
TASKED = [ringq.Queue, ringq.LifoQueue, ringq.PriorityQueue]


def bounded(make: Callable[[int], Any]) -> bool:
    return not isinstance(make(1), ringq.SimpleQueue)


@pytest.mark.parametrize("make", CLASSES, ids=IDS)
def test_thread_to_coroutine(make: Callable[[int], Any]) -> None:
    n = 5000
    q = make(16)

    def produce() -> None:
        for i in range(n):
            q.put(i)

    async def consume() -> list[int]:
        return [await q.async_get() for _ in range(n)]

    producer = threading.Thread(target=produce)
    producer.start()
    got = asyncio.run(consume())
    producer.join()
    assert sorted(got) == list(range(n))
    if isinstance(q, (ringq.Queue, ringq.SimpleQueue, ringq.SPSCQueue)):
        assert got == list(range(n))
    assert q.qsize() == 0


@pytest.mark.parametrize("make", CLASSES, ids=IDS)
def test_coroutine_to_thread(make: Callable[[int], Any]) -> None:
    n = 5000
    q = make(16)
    got: list[int] = []

    def consume() -> None:
        for _ in range(n):
            got.append(q.get())

    async def produce() -> None:
        for i in range(n):
            await q.async_put(i)

    consumer = threading.Thread(target=consume)
    consumer.start()
    asyncio.run(produce())
    consumer.join()
    assert sorted(got) == list(range(n))


@pytest.mark.parametrize("make", CLASSES, ids=IDS)
def test_many_between_coroutines(make: Callable[[int], Any]) -> None:
    q = make(8)

    async def main() -> list[int]:
        async def produce() -> None:
            for start in range(0, 1000, 50):
                await q.async_put_many(range(start, start + 50))

        task = asyncio.ensure_future(produce())
        got: list[int] = []
        while len(got) < 1000:
            got.extend(await q.async_get_many(7))
        await task
        return got

    assert sorted(asyncio.run(main())) == list(range(1000))


@pytest.mark.parametrize("make", TASKED, ids=["Queue", "LifoQueue", "PriorityQueue"])
def test_async_join(make: Callable[[int], Any]) -> None:
    q = make(0)

    async def main() -> None:
        for i in range(10):
            await q.async_put(i)
        joined = asyncio.ensure_future(q.async_join())
        await asyncio.sleep(0.01)
        assert not joined.done()

        def work() -> None:
            for _ in range(10):
                q.get()
                q.task_done()

        await asyncio.get_running_loop().run_in_executor(None, work)
        await asyncio.wait_for(joined, 5)

    asyncio.run(main())


@pytest.mark.parametrize("make", CLASSES, ids=IDS)
def test_timeout_raises_like_the_sync_methods(make: Callable[[int], Any]) -> None:
    q = make(1)

    async def main() -> None:
        with pytest.raises(queue.Empty):
            await q.async_get(timeout=0.01)
        with pytest.raises(queue.Empty):
            await q.async_get(timeout=0)
        if bounded(make):
            await q.async_put(1)
            with pytest.raises(queue.Full):
                await q.async_put(2, timeout=0.01)
            assert q.qsize() == 1
        assert q._waiting_coroutines() == (0, 0)

    asyncio.run(main())


@pytest.mark.parametrize("make", CLASSES, ids=IDS)
def test_bad_input(make: Callable[[int], Any]) -> None:
    q = make(1)
    with pytest.raises(ValueError):
        q.async_get(timeout=-1)
    with pytest.raises(ValueError):
        q.async_put(1, timeout=-0.5)
    with pytest.raises(ValueError):
        q.async_get_many(0)
    # Waiting needs a running loop, as asyncio's own awaitables do.
    with pytest.raises(RuntimeError, match="no running event loop"):
        q.async_get().send(None)
    # Nothing was left registered by the failed call.
    assert q._waiting_coroutines() == (0, 0)


def test_an_awaitable_is_awaited_once() -> None:
    q = ringq.Queue()
    q.put(1)

    async def main() -> None:
        op = q.async_get()
        assert await op == 1
        with pytest.raises(RuntimeError):
            await op

    asyncio.run(main())


def test_an_unawaited_call_moves_nothing() -> None:
    q = ringq.Queue()
    q.put(1)
    op = q.async_get()
    del op
    assert q.qsize() == 1
    op = q.async_put(2)
    op.close()
    assert q.qsize() == 1


ODD_ITEMS: list[Any] = [(1, 2), (), ValueError("an item"), StopIteration(3), None]


@pytest.mark.parametrize("item", ODD_ITEMS, ids=["tuple", "empty tuple", "exception", "StopIteration", "None"])
def test_every_way_of_stepping_returns_the_item_itself(item: Any) -> None:
    """A tuple or an exception as the result could be taken for
    StopIteration's arguments or for the exception to raise: each comes
    back as itself, however the awaitable is stepped."""
    q = ringq.Queue()
    references = sys.getrefcount(item)

    def stepped(step: Callable[[Any], Any]) -> Any:
        q.put(item)
        with pytest.raises(StopIteration) as stop:
            step(q.async_get())
        return stop.value.value

    assert stepped(lambda op: op.send(None)) is item
    assert stepped(next) is item
    assert stepped(lambda op: op.__next__()) is item
    assert stepped(lambda op: op.__await__().send(None)) is item

    async def main() -> None:
        q.put(item)
        assert await q.async_get() is item
        q.put(item)
        assert await asyncio.ensure_future(q.async_get()) is item
        q.put(item)
        assert await asyncio.wait_for(q.async_get(), 5) is item

    asyncio.run(main())
    assert q.qsize() == 0
    del stepped, main
    gc.collect()
    if item is not None and item != ():
        # Every path released its references to the item.
        assert sys.getrefcount(item) == references


@pytest.mark.parametrize("make", CLASSES, ids=IDS)
def test_cancellation_storm_gets(make: Callable[[int], Any]) -> None:
    """Thousands of gets cancelled at random points: every item put is
    received exactly once or is still in the queue."""
    n = 3000
    q = make(64)
    rng = random.Random(1)
    received: list[int] = []

    def produce() -> None:
        for i in range(n):
            q.put(i)

    async def main() -> None:
        producer = threading.Thread(target=produce)
        producer.start()
        loop = asyncio.get_running_loop()
        for _ in range(4 * n):
            choice = rng.random()
            try:
                if choice < 0.4:
                    received.append(await asyncio.wait_for(q.async_get(), rng.random() * 1e-4))
                elif choice < 0.7:
                    task = asyncio.ensure_future(q.async_get())
                    if rng.random() < 0.5:
                        await asyncio.sleep(0)
                    task.cancel()
                    try:
                        received.append(await task)
                    except asyncio.CancelledError:
                        pass
                else:
                    received.append(await q.async_get(timeout=rng.random() * 1e-4))
            except (asyncio.TimeoutError, queue.Empty):
                pass
            if len(received) == n:
                break
        await loop.run_in_executor(None, producer.join)

    asyncio.run(main())
    left = []
    while True:
        try:
            left.append(q.get_nowait())
        except queue.Empty:
            break
    assert sorted(received + left) == list(range(n))
    assert q._waiting_coroutines() == (0, 0)


@pytest.mark.parametrize("make", [m for m in CLASSES if bounded(m)], ids=[i for i, m in zip(IDS, CLASSES) if bounded(m)])
def test_cancellation_storm_puts(make: Callable[[int], Any]) -> None:
    """Thousands of puts into a full queue cancelled at random points: each
    either put its item or didn't."""
    n = 3000
    q = make(4)
    rng = random.Random(2)
    put_ok: list[int] = []
    got: list[int] = []
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set() or q.qsize():
            try:
                got.append(q.get(timeout=0.01))
            except queue.Empty:
                pass

    async def main() -> None:
        for i in range(n):
            choice = rng.random()
            try:
                if choice < 0.4:
                    await asyncio.wait_for(q.async_put(i), rng.random() * 1e-4)
                elif choice < 0.7:
                    task = asyncio.ensure_future(q.async_put(i))
                    if rng.random() < 0.5:
                        await asyncio.sleep(0)
                    task.cancel()
                    await task
                else:
                    await q.async_put(i, timeout=rng.random() * 1e-4)
            except (asyncio.TimeoutError, asyncio.CancelledError, queue.Full):
                continue
            put_ok.append(i)

    consumer = threading.Thread(target=consume)
    consumer.start()
    try:
        asyncio.run(main())
    finally:
        stop.set()
        consumer.join()
    assert sorted(got) == sorted(put_ok)
    assert q._waiting_coroutines() == (0, 0)


def test_a_woken_cancelled_waiter_passes_the_wake_on() -> None:
    """Two coroutines wait; one item arrives and the one told about it is
    cancelled before it runs: the other must get the item."""
    q = ringq.Queue()

    async def main() -> None:
        first = asyncio.ensure_future(q.async_get())
        second = asyncio.ensure_future(q.async_get())
        await asyncio.sleep(0.01)
        assert q._waiting_coroutines() == (2, 0)
        q.put("x")  # tells `first`, on this very loop
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert await asyncio.wait_for(second, 5) == "x"

    asyncio.run(main())


def _run_loop_in_thread(body: Callable[[], Any]) -> threading.Thread:
    thread = threading.Thread(target=lambda: asyncio.run(body()))
    thread.start()
    return thread


def test_many_loops_in_many_threads() -> None:
    q = ringq.Queue(32)
    per = 2000
    loops = 4
    got: list[list[int]] = [[] for _ in range(loops)]

    def consumer(k: int) -> Callable[[], Any]:
        async def run() -> None:
            while True:
                item = await q.async_get()
                if item is None:
                    return
                got[k].append(item)

        return run

    def producer(k: int) -> Callable[[], Any]:
        async def run() -> None:
            for i in range(per):
                await q.async_put(k * per + i)

        return run

    consumers = [_run_loop_in_thread(consumer(k)) for k in range(loops)]
    producers = [_run_loop_in_thread(producer(k)) for k in range(loops)]
    for t in producers:
        t.join()
    for _ in range(loops):
        q.put(None)
    for t in consumers:
        t.join(30)
        assert not t.is_alive()
    assert sorted(sum(got, [])) == list(range(loops * per))


def test_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed")
    q = ringq.Queue(8)
    n = 3000

    def produce() -> None:
        for i in range(n):
            q.put(i)

    async def consume() -> list[int]:
        return [await q.async_get() for _ in range(n)]

    producer = threading.Thread(target=produce)
    producer.start()
    got = uvloop.run(consume())
    producer.join()
    assert got == list(range(n))

    async def cancelled() -> None:
        task = asyncio.ensure_future(q.async_get())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    uvloop.run(cancelled())
    assert q._waiting_coroutines() == (0, 0)


def test_a_loop_closed_while_a_coroutine_waits() -> None:
    q = ringq.Queue()
    loop = asyncio.new_event_loop()
    task = loop.create_task(q.async_get())
    loop.run_until_complete(asyncio.sleep(0.01))
    assert q._waiting_coroutines() == (1, 0)
    loop.close()  # the task is still pending, its loop gone
    # A put finds a waiter it cannot tell; nothing breaks, nothing is lost.
    q.put(1)
    assert q.get_nowait() == 1
    del task
    gc.collect()
    assert q._waiting_coroutines() == (0, 0)
    # And a waiter on a live loop still gets what comes next.

    async def main() -> int:
        result: int = await q.async_get(timeout=5)
        return result

    threading.Timer(0.05, q.put, (2,)).start()
    assert asyncio.run(main()) == 2


def test_a_closed_loops_waiter_hands_the_item_on() -> None:
    q = ringq.Queue()
    dead = asyncio.new_event_loop()
    task = dead.create_task(q.async_get())
    dead.run_until_complete(asyncio.sleep(0.01))
    dead.close()

    async def main() -> int:
        waiting = asyncio.ensure_future(q.async_get())
        await asyncio.sleep(0.01)
        assert q._waiting_coroutines() == (2, 0)
        threading.Thread(target=q.put, args=(7,)).start()
        result: int = await asyncio.wait_for(waiting, 5)
        return result

    assert asyncio.run(main()) == 7
    del task


@pytest.mark.parametrize("immediate", [False, True])
def test_shutdown_wakes_sync_and_async_waiters(immediate: bool) -> None:
    q = ringq.Queue(1)
    errors: list[BaseException] = []

    def sync_get() -> None:
        try:
            q.get()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    async def main() -> None:
        getters = [asyncio.ensure_future(q.async_get()) for _ in range(3)]
        threads = [threading.Thread(target=sync_get) for _ in range(2)]
        for t in threads:
            t.start()
        await asyncio.sleep(0.05)
        q.shutdown(immediate=immediate)
        for g in getters:
            with pytest.raises(ringq.ShutDown):
                await asyncio.wait_for(g, 5)
        for t in threads:
            t.join(5)
        with pytest.raises(ringq.ShutDown):
            await q.async_put(1)

    asyncio.run(main())
    assert len(errors) == 2 and all(isinstance(e, ringq.ShutDown) for e in errors)


def test_shutdown_wakes_async_putters_and_joiners() -> None:
    q = ringq.Queue(1)

    async def main() -> None:
        await q.async_put(0)
        putter = asyncio.ensure_future(q.async_put(1))
        joiner = asyncio.ensure_future(q.async_join())
        await asyncio.sleep(0.01)
        q.shutdown(immediate=True)
        with pytest.raises(ringq.ShutDown):
            await asyncio.wait_for(putter, 5)
        await asyncio.wait_for(joiner, 5)

    asyncio.run(main())


def test_a_queue_and_a_waiting_coroutine_in_a_cycle_are_collected() -> None:
    loop = asyncio.new_event_loop()
    try:

        async def waits(q: Any) -> None:
            await q.async_get()

        q = ringq.Queue()
        task = loop.create_task(waits(q))
        loop.run_until_complete(asyncio.sleep(0.01))
        assert q._waiting_coroutines() == (1, 0)
        ref = weakref.ref(q)
        # The loop keeps only a weak reference to a pending task: the task,
        # its coroutine, the queue and the queue's waiter list form a cycle.
        task._log_destroy_pending = False  # type: ignore[attr-defined]
        del q, task
        gc.collect()
        assert ref() is None
    finally:
        loop.close()


def test_an_idle_waiter_costs_its_loop_nothing() -> None:
    q = ringq.Queue()

    async def main() -> int:
        loop = asyncio.get_running_loop()
        ticks = 0
        stop = False

        def count() -> None:
            nonlocal ticks
            ticks += 1
            if not stop:
                loop.call_later(0.01, count)

        # Counts the loop's own wake-ups without the waiter: a timer every
        # 10 ms. The waiter adds none.
        waiter = asyncio.ensure_future(q.async_get())
        await asyncio.sleep(0)
        calls = 0
        real = loop.call_soon_threadsafe

        def counting(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            return real(*args, **kwargs)

        loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
        count()
        await asyncio.sleep(0.2)
        stop = True
        assert calls == 0
        assert not waiter.done()
        waiter.cancel()
        return ticks

    assert asyncio.run(main()) < 40


def test_a_burst_from_a_thread_costs_one_cross_thread_call() -> None:
    q = ringq.Queue()
    n = 1000

    class Counting(asyncio.SelectorEventLoop):
        calls = 0

        def call_soon_threadsafe(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            Counting.calls += 1
            return super().call_soon_threadsafe(*args, **kwargs)

    async def main() -> int:
        waiter = asyncio.ensure_future(q.async_get())
        await asyncio.sleep(0.01)
        # The burst lands while the coroutine's loop is busy: told once.
        burst = threading.Thread(target=lambda: [q.put(i) for i in range(n)])
        burst.start()
        burst.join()
        first: int = await waiter
        got = [first] + [await q.async_get() for _ in range(n - 1)]
        assert got == list(range(n))
        return Counting.calls

    loop = Counting()
    try:
        assert loop.run_until_complete(main()) == 1
    finally:
        loop.close()


def test_a_waker_on_the_waiters_loop_makes_no_cross_thread_call() -> None:
    q = ringq.Queue()

    class Counting(asyncio.SelectorEventLoop):
        calls = 0

        def call_soon_threadsafe(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            Counting.calls += 1
            return super().call_soon_threadsafe(*args, **kwargs)

    async def main() -> None:
        for i in range(100):
            waiter = asyncio.ensure_future(q.async_get())
            await asyncio.sleep(0)
            await q.async_put(i)
            assert await waiter == i

    loop = Counting()
    try:
        loop.run_until_complete(main())
        assert Counting.calls == 0
    finally:
        loop.close()


def test_subclass_with_hooks_refuses_the_async_methods() -> None:
    class Hooked(ringq.Queue):
        def _put(self, item: Any) -> None:
            super()._put(item)  # type: ignore[misc]

    with pytest.raises(TypeError):
        Hooked().async_get()


def test_a_plain_subclass_keeps_the_async_methods() -> None:
    class Plain(ringq.Queue):
        pass

    q = Plain()
    q.put(3)

    async def main() -> int:
        result: int = await q.async_get()
        return result

    assert asyncio.run(main()) == 3
