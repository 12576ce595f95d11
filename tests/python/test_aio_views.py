"""The familiar faces of a queue: ``q.async_q`` against asyncio.Queue,
``q.sync_q`` against queue.Queue, and code written for janus with
``import ringq as janus``.

The checks of the async view are functions of a queue factory, run against
both asyncio's queues and ringq's views; ``test_the_checks_can_fail`` runs
them against views broken on purpose, to show each one looks at what it
claims to."""

from __future__ import annotations

import asyncio
import gc
import queue
import sys
import threading
import weakref
from types import GenericAlias, ModuleType
from typing import Any, Awaitable, Callable

import pytest

import ringq

STDLIB_HAS_SHUTDOWN = hasattr(asyncio.Queue, "shutdown")
# What a shut-down asyncio queue raises: asyncio's own from 3.13, and
# ringq's (the only queue that has shutdown()) before.
SHUT_DOWN: type[BaseException] = getattr(asyncio, "QueueShutDown", None) or ringq.AsyncQueueShutDown

Factory = Callable[..., Any]

# (FIFO, LIFO, priority) factories of each implementation.
ASYNCIO: tuple[Factory, Factory, Factory] = (asyncio.Queue, asyncio.LifoQueue, asyncio.PriorityQueue)
RINGQ: tuple[Factory, Factory, Factory] = (
    lambda maxsize=0: ringq.Queue(maxsize).async_q,
    lambda maxsize=0: ringq.LifoQueue(maxsize).async_q,
    lambda maxsize=0: ringq.PriorityQueue(maxsize).async_q,
)


@pytest.fixture(params=[ASYNCIO, RINGQ], ids=["asyncio", "ringq"])
def impl(request: pytest.FixtureRequest) -> tuple[Factory, Factory, Factory]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(
    params=[
        pytest.param(
            ASYNCIO, id="asyncio", marks=pytest.mark.skipif(not STDLIB_HAS_SHUTDOWN, reason="asyncio shutdown is 3.13+")
        ),
        pytest.param(RINGQ, id="ringq"),
    ]
)
def shutdown_impl(request: pytest.FixtureRequest) -> tuple[Factory, Factory, Factory]:
    return request.param  # type: ignore[no-any-return]


def run(check: Callable[[Factory], Awaitable[None]], make: Factory) -> None:
    asyncio.run(check(make))  # type: ignore[arg-type]


# The checks: each takes a FIFO queue factory.


async def check_nowait_and_sizes(make: Factory) -> None:
    q = make()
    assert q.maxsize == 0 and q.empty() and not q.full() and q.qsize() == 0
    with pytest.raises(asyncio.QueueEmpty):
        q.get_nowait()
    q = make(2)
    q.put_nowait("a")
    q.put_nowait("b")
    assert q.maxsize == 2 and q.full() and not q.empty() and q.qsize() == 2
    with pytest.raises(asyncio.QueueFull):
        q.put_nowait("c")
    assert [q.get_nowait(), q.get_nowait()] == ["a", "b"]


async def check_put_waits_for_room(make: Factory) -> None:
    q = make(1)
    await q.put(1)
    putter = asyncio.ensure_future(q.put(2))
    await asyncio.sleep(0)
    assert not putter.done()
    assert q.get_nowait() == 1
    await asyncio.sleep(0)
    assert putter.done() and q.get_nowait() == 2


async def check_get_waits_for_an_item(make: Factory) -> None:
    q = make()
    getter = asyncio.ensure_future(q.get())
    await asyncio.sleep(0)
    assert not getter.done()
    q.put_nowait("x")
    assert await asyncio.wait_for(getter, 5) == "x"


async def check_cancelled_getter_loses_nothing(make: Factory) -> None:
    q = make()
    getter = asyncio.ensure_future(q.get())
    await asyncio.sleep(0)
    q.put_nowait(1)
    getter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await getter
    assert q.get_nowait() == 1


async def check_task_done_and_join(make: Factory) -> None:
    q = make()
    with pytest.raises(ValueError):
        q.task_done()
    q.put_nowait(1)
    q.put_nowait(2)
    joined = asyncio.ensure_future(q.join())
    await q.get()
    q.task_done()
    await asyncio.sleep(0)
    assert not joined.done()
    await q.get()
    q.task_done()
    await asyncio.wait_for(joined, 5)


async def check_shutdown(make: Factory) -> None:
    shut_down = SHUT_DOWN
    q = make(1)
    q.put_nowait("kept")
    putter = asyncio.ensure_future(q.put("refused"))
    joined = asyncio.ensure_future(q.join())
    await asyncio.sleep(0)
    q.shutdown()
    with pytest.raises(shut_down):
        await asyncio.wait_for(putter, 5)
    with pytest.raises(shut_down):
        q.put_nowait("refused")
    assert await q.get() == "kept"
    with pytest.raises(shut_down):
        q.get_nowait()
    with pytest.raises(shut_down):
        await q.get()
    assert not joined.done()
    q.task_done()
    await asyncio.wait_for(joined, 5)


async def check_shutdown_immediate(make: Factory) -> None:
    shut_down = SHUT_DOWN
    q = make()
    getter_q = make()
    getter = asyncio.ensure_future(getter_q.get())
    q.put_nowait(1)
    q.put_nowait(2)
    joined = asyncio.ensure_future(q.join())
    await asyncio.sleep(0)
    q.shutdown(immediate=True)
    getter_q.shutdown(immediate=True)
    assert q.qsize() == 0
    await asyncio.wait_for(joined, 5)
    with pytest.raises(shut_down):
        await asyncio.wait_for(getter, 5)
    with pytest.raises(ValueError):
        q.task_done()


CHECKS = [
    check_nowait_and_sizes,
    check_put_waits_for_room,
    check_get_waits_for_an_item,
    check_cancelled_getter_loses_nothing,
    check_task_done_and_join,
]


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_async_q_behaves_like_asyncio_queue(impl: tuple[Factory, Factory, Factory], check: Any) -> None:
    run(check, impl[0])


@pytest.mark.parametrize("check", [check_shutdown, check_shutdown_immediate], ids=["shutdown", "immediate"])
def test_async_q_shutdown_like_asyncio_313(shutdown_impl: tuple[Factory, Factory, Factory], check: Any) -> None:
    run(check, shutdown_impl[0])


@pytest.mark.parametrize("kind", [0, 1, 2], ids=["Queue", "LifoQueue", "PriorityQueue"])
def test_order_like_asyncio(impl: tuple[Factory, Factory, Factory], kind: int) -> None:
    async def main() -> list[int]:
        q = impl[kind]()
        for i in [1, 3, 2]:
            await q.put(i)
        return [await q.get() for _ in range(3)]

    assert asyncio.run(main()) == [[1, 3, 2], [2, 3, 1], [1, 2, 3]][kind]


def test_exceptions() -> None:
    assert ringq.AsyncQueueEmpty is asyncio.QueueEmpty
    assert ringq.AsyncQueueFull is asyncio.QueueFull
    assert ringq.SyncQueueEmpty is queue.Empty
    assert ringq.SyncQueueFull is queue.Full
    assert ringq.SyncQueueShutDown is ringq.ShutDown
    if STDLIB_HAS_SHUTDOWN:
        assert ringq.AsyncQueueShutDown is SHUT_DOWN
    else:
        assert ringq.AsyncQueueShutDown.__module__ == "ringq"
        assert issubclass(ringq.AsyncQueueShutDown, Exception)
    # As in asyncio and queue, the async and the sync exceptions are apart.
    assert not issubclass(ringq.AsyncQueueShutDown, ringq.ShutDown)
    assert not issubclass(ringq.ShutDown, ringq.AsyncQueueShutDown)


@pytest.mark.parametrize("cls", [ringq.Queue, ringq.LifoQueue, ringq.PriorityQueue])
def test_views_are_made_once_and_hold_their_queue(cls: Any) -> None:
    q = cls(3)
    view, sync = q.async_q, q.sync_q
    assert q.async_q is view and q.sync_q is sync
    assert isinstance(view, ringq.AsyncQueueView) and isinstance(sync, ringq.SyncQueueView)
    ref = weakref.ref(q)
    del q
    gc.collect()
    assert ref() is not None  # the views hold it
    view.put_nowait(1)
    assert sync.get_nowait() == 1
    # The queue and its views are a cycle, which the GC collects.
    del view, sync
    gc.collect()
    assert ref() is None


def test_async_q_on_a_subclass_and_generic_alias() -> None:
    class Jobs(ringq.Queue):  # type: ignore[type-arg]
        pass

    q = Jobs()
    q.async_q.put_nowait(5)
    assert q.get_nowait() == 5
    alias = ringq.AsyncQueueView[int]
    assert isinstance(alias, GenericAlias) and alias.__args__ == (int,)


def test_sync_q_is_the_queue_api() -> None:
    q: ringq.Queue[int] = ringq.Queue(1)
    s = q.sync_q
    assert s.maxsize == 1 and s.unfinished_tasks == 0 and not s.closed
    s.put(1)
    with pytest.raises(queue.Full):
        s.put(2, timeout=0.01)
    with pytest.raises(queue.Full):
        s.put_nowait(2)
    assert s.full() and s.qsize() == 1 and not s.empty()
    assert s.get() == 1
    with pytest.raises(queue.Empty):
        s.get(timeout=0.01)
    s.task_done()
    s.join()
    s.put_many([1])
    assert s.get_many(5) == [1]
    s.shutdown()
    with pytest.raises(ringq.ShutDown):
        s.put(3)
    assert s.closed and q.closed and q.async_q.closed


def test_a_queue_is_bound_to_no_loop() -> None:
    q: ringq.Queue[int] = ringq.Queue()  # no loop running; janus.Queue would need one on 3.9
    view = q.async_q

    async def put() -> None:
        await view.put(1)

    async def get() -> int:
        item: int = await view.get()
        return item

    asyncio.run(put())
    assert asyncio.run(get()) == 1
    got: list[int] = []
    thread = threading.Thread(target=lambda: got.append(asyncio.run(get())))
    thread.start()
    asyncio.run(put())
    thread.join(10)
    assert got == [1]


def test_cancelled_waiters_are_not_left_registered() -> None:
    """What test_queues checks with asyncio.Queue's _getters/_putters,
    checked with the queue's own count of waiting coroutines."""
    q: ringq.Queue[int] = ringq.Queue(1)

    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(q.async_q.get(), 0.05)
        assert q._waiting_coroutines() == (0, 0)  # type: ignore[attr-defined]
        q.async_q.put_nowait(1)
        putter = asyncio.ensure_future(q.async_q.put(2))
        await asyncio.sleep(0)
        assert q._waiting_coroutines() == (0, 1)  # type: ignore[attr-defined]
        putter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await putter
        assert q._waiting_coroutines() == (0, 0)  # type: ignore[attr-defined]
        assert q.qsize() == 1

    asyncio.run(main())


# janus: the same code against janus (when installed) and ringq.

_janus: ModuleType | None
try:
    import janus as _janus
except ImportError:  # pragma: no cover - janus is optional
    _janus = None

JANUS_MODULES = [
    pytest.param(_janus, id="janus", marks=pytest.mark.skipif(_janus is None, reason="janus is not installed")),
    pytest.param(ringq, id="ringq"),
]


@pytest.mark.parametrize("janus", JANUS_MODULES)
def test_janus_readme_example(janus: ModuleType) -> None:
    """janus's own example, unchanged but for the module."""

    def threaded(sync_q: Any) -> None:
        for i in range(100):
            sync_q.put(i)
        sync_q.join()

    async def async_coro(async_q: Any) -> None:
        for i in range(100):
            val = await async_q.get()
            assert val == i
            async_q.task_done()

    async def main() -> None:
        queue: Any = janus.Queue()
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(None, threaded, queue.sync_q)
        await async_coro(queue.async_q)
        await fut
        queue.close()
        await queue.wait_closed()

    asyncio.run(main())


@pytest.mark.parametrize("janus", JANUS_MODULES)
def test_janus_async_producer_sync_consumer(janus: ModuleType) -> None:
    async def main() -> list[int]:
        q: Any = janus.PriorityQueue(4)
        got: list[int] = []

        def consume() -> None:
            while True:
                item = q.sync_q.get()
                q.sync_q.task_done()
                if item < 0:
                    return
                got.append(item)

        consumer = asyncio.get_running_loop().run_in_executor(None, consume)
        for i in range(50):
            await q.async_q.put(i)
        await q.async_q.join()
        await q.async_q.put(-1)
        await consumer
        assert q.async_q.unfinished_tasks == 0 and q.sync_q.unfinished_tasks == 0
        await q.aclose()
        return got

    assert asyncio.run(main()) == list(range(50))


@pytest.mark.parametrize("janus", JANUS_MODULES)
def test_janus_close_semantics(janus: ModuleType) -> None:
    async def main() -> None:
        q: Any = janus.Queue(5)
        assert q.maxsize == 5 and q.sync_q.maxsize == 5 and q.async_q.maxsize == 5
        assert not q.closed
        with pytest.raises(RuntimeError):
            await q.wait_closed()
        q.sync_q.put(1)
        q.async_q.put_nowait(2)
        waiter = janus.Queue()
        getter = asyncio.ensure_future(waiter.async_q.get())
        await asyncio.sleep(0)
        q.close()  # shutdown(immediate=True): the items are dropped
        waiter.close()
        await q.wait_closed()
        await waiter.wait_closed()
        assert q.closed and q.sync_q.closed and q.async_q.closed
        assert q.sync_q.qsize() == 0 and q.async_q.empty()
        with pytest.raises(janus.SyncQueueShutDown):
            q.sync_q.put(3)
        with pytest.raises(janus.SyncQueueShutDown):
            q.sync_q.get()
        with pytest.raises(janus.AsyncQueueShutDown):
            await q.async_q.put(3)
        with pytest.raises(janus.AsyncQueueShutDown):
            q.async_q.get_nowait()
        with pytest.raises(janus.AsyncQueueShutDown):
            await asyncio.wait_for(getter, 5)
        # A queue shut down without dropping keeps its items for get.
        kept = janus.LifoQueue()
        kept.sync_q.put("a")
        kept.async_q.shutdown()
        assert await kept.async_q.get() == "a"
        with pytest.raises(janus.AsyncQueueShutDown):
            await kept.async_q.get()
        await kept.aclose()
        assert kept.closed

    asyncio.run(main())


@pytest.mark.parametrize("janus", JANUS_MODULES)
def test_janus_exception_names(janus: ModuleType) -> None:
    assert janus.SyncQueueEmpty is queue.Empty and janus.SyncQueueFull is queue.Full
    assert janus.AsyncQueueEmpty is asyncio.QueueEmpty and janus.AsyncQueueFull is asyncio.QueueFull
    if sys.version_info >= (3, 13):
        assert janus.SyncQueueShutDown is queue.ShutDown
        assert janus.AsyncQueueShutDown is asyncio.QueueShutDown


# The checks above look at what they claim to: against views broken on
# purpose, each fails.


class _Broken:
    """A ringq view with some methods replaced."""

    def __init__(self, maxsize: int, break_it: Callable[[Any], dict[str, Any]]) -> None:
        self._view: Any = ringq.Queue(maxsize).async_q
        self.__dict__.update(break_it(self._view))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._view, name)


def _get_nowait_raises_queue_empty(view: Any) -> dict[str, Any]:
    return {"get_nowait": view._queue.get_nowait}  # queue.Empty, not asyncio's


def _put_drops_when_full(view: Any) -> dict[str, Any]:
    async def put(item: Any) -> None:
        try:
            view._queue.put_nowait(item)
        except queue.Full:
            pass

    return {"put": put}


def _get_swallows_cancellation(view: Any) -> dict[str, Any]:
    async def get() -> Any:
        try:
            return await view._queue.async_get()
        except asyncio.CancelledError:
            return None

    return {"get": get}


def _join_returns_at_once(view: Any) -> dict[str, Any]:
    async def join() -> None:
        pass

    return {"join": join}


def _put_raises_the_sync_shutdown(view: Any) -> dict[str, Any]:
    async def put(item: Any) -> None:
        await view._queue.async_put(item)

    return {"put": put}


# (check, how the view is broken, what the check then fails with)
BROKEN: list[tuple[Any, Callable[[Any], dict[str, Any]], type[BaseException]]] = [
    (check_nowait_and_sizes, _get_nowait_raises_queue_empty, queue.Empty),
    (check_put_waits_for_room, _put_drops_when_full, AssertionError),
    (check_cancelled_getter_loses_nothing, _get_swallows_cancellation, pytest.fail.Exception),
    (check_task_done_and_join, _join_returns_at_once, AssertionError),
    (check_shutdown, _put_raises_the_sync_shutdown, ringq.ShutDown),
]


@pytest.mark.parametrize("check,break_it,fails_with", BROKEN, ids=[c.__name__ for c, _, _ in BROKEN])
def test_the_checks_can_fail(check: Any, break_it: Callable[[Any], dict[str, Any]], fails_with: type[BaseException]) -> None:
    # The view passes the check; broken, it fails it.
    run(check, RINGQ[0])
    with pytest.raises(fails_with):
        run(check, lambda maxsize=0: _Broken(maxsize, break_it))


def test_the_view_of_a_subclass_with_hooks() -> None:
    """Its _nowait methods go through the hooks; its awaitables raise
    TypeError, as the queue's own async methods do."""

    class Hooked(ringq.Queue):  # type: ignore[type-arg]
        def _put(self, item: Any) -> None:
            super()._put(item * 10)  # type: ignore[misc]

    view = Hooked(1).async_q
    view.put_nowait(1)
    with pytest.raises(asyncio.QueueFull):
        view.put_nowait(2)
    assert view.get_nowait() == 10

    async def main() -> None:
        with pytest.raises(TypeError):
            await view.get()

    asyncio.run(main())
    view.shutdown()
    with pytest.raises(ringq.AsyncQueueShutDown):
        view.get_nowait()
