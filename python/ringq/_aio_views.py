"""The views of a queue: ``q.async_q`` and ``q.sync_q``.

``q.async_q`` has :class:`asyncio.Queue`'s API and raises asyncio's
exceptions; ``q.sync_q`` has :class:`queue.Queue`'s (which ``q`` itself
has too). With ``close()``, ``closed``, ``wait_closed()`` and ``aclose()``
on the queue, code written for ``janus`` runs with ``import ringq as
janus``. Unlike ``janus.Queue``, a queue is bound to no event loop.

The queue makes its views on first use and keeps them (``q.async_q is
q.async_q``); each view holds its queue. The methods are the queue's own,
with ``queue.Empty``/``queue.Full``/``ringq.ShutDown`` turned into
``asyncio.QueueEmpty``/``asyncio.QueueFull``/:class:`AsyncQueueShutDown`
on the way out of ``async_q``.
"""

from __future__ import annotations

import asyncio
import sys
from types import GenericAlias
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

from ringq._ringq import Empty, Full, ShutDown

if TYPE_CHECKING:
    from ringq._ringq import LifoQueue, PriorityQueue, Queue

    _AnyQueue = Queue[Any] | LifoQueue[Any] | PriorityQueue[Any]

_T = TypeVar("_T")

if sys.version_info >= (3, 13):
    from asyncio import QueueShutDown as AsyncQueueShutDown
else:

    class AsyncQueueShutDown(Exception):
        """Raised by ``async_q``'s put() on a queue that was shut down, and
        by its get() on one that was shut down and drained (Python 3.13's
        ``asyncio.QueueShutDown``; this package's own class before 3.13)."""

        __module__ = "ringq"


class AsyncQueueView(Generic[_T]):
    """A queue with asyncio.Queue's API (``q.async_q``).

    put(), get() and join() are coroutines; put_nowait() raises
    asyncio.QueueFull, get_nowait() asyncio.QueueEmpty, and both raise
    AsyncQueueShutDown (asyncio.QueueShutDown on Python 3.13+) after
    shutdown(). Threads may use the same queue at the same time, through
    the queue itself or ``q.sync_q``; coroutines may await it from any
    event loop.
    """

    __slots__ = (
        "_queue",
        "_async_get",
        "_async_put",
        "_async_join",
        "_get_nowait",
        "_put_nowait",
        "qsize",
        "empty",
        "full",
        "__weakref__",
    )

    @classmethod
    def __class_getitem__(cls, item: Any, /) -> GenericAlias:
        """As asyncio.Queue's: AsyncQueueView[int] is a types.GenericAlias."""
        return GenericAlias(cls, item)

    qsize: Callable[[], int]
    empty: Callable[[], bool]
    full: Callable[[], bool]

    def __init__(self, queue: _AnyQueue) -> None:
        self._queue = queue
        # The queue's bound methods, looked up once.
        self._async_get = queue.async_get
        self._async_put = queue.async_put
        self._async_join = queue.async_join
        self._get_nowait = queue.get_nowait
        self._put_nowait = queue.put_nowait
        self.qsize = queue.qsize
        self.empty = queue.empty
        self.full = queue.full

    @property
    def maxsize(self) -> int:
        """Number of items allowed in the queue (<= 0: unbounded)."""
        return self._queue.maxsize

    @property
    def unfinished_tasks(self) -> int:
        """The number of items put and not yet marked done (as janus's)."""
        return self._queue.unfinished_tasks

    @property
    def closed(self) -> bool:
        """Whether the queue was shut down (as janus's)."""
        return self._queue.is_shutdown

    async def put(self, item: _T) -> None:
        """Put an item into the queue, waiting for a free slot if it is full."""
        try:
            await self._async_put(item)
        except ShutDown:
            raise AsyncQueueShutDown from None

    def put_nowait(self, item: _T) -> None:
        """Put an item into the queue without blocking; asyncio.QueueFull if it is full."""
        try:
            self._put_nowait(item)
        except Full:
            raise asyncio.QueueFull from None
        except ShutDown:
            raise AsyncQueueShutDown from None

    async def get(self) -> _T:
        """Remove and return an item from the queue, waiting for one if it is empty."""
        try:
            item: _T = await self._async_get()
        except ShutDown:
            raise AsyncQueueShutDown from None
        return item

    def get_nowait(self) -> _T:
        """Remove and return an item if one is there; asyncio.QueueEmpty otherwise."""
        try:
            item: _T = self._get_nowait()
        except Empty:
            raise asyncio.QueueEmpty from None
        except ShutDown:
            raise AsyncQueueShutDown from None
        return item

    def task_done(self) -> None:
        """Indicate that a formerly enqueued task is complete (ValueError if none is unfinished)."""
        self._queue.task_done()

    async def join(self) -> None:
        """Wait until every item put has been gotten and marked done."""
        await self._async_join()

    def shutdown(self, immediate: bool = False) -> None:
        """Shut down the queue: put() raises AsyncQueueShutDown, get() does once
        the queue is drained (at once if immediate, which drops the items)."""
        self._queue.shutdown(immediate)


# What SyncQueueView takes from the queue as is.
_SYNC_METHODS = (
    "put",
    "put_nowait",
    "get",
    "get_nowait",
    "put_many",
    "get_many",
    "qsize",
    "empty",
    "full",
    "task_done",
    "join",
    "shutdown",
)


class SyncQueueView(Generic[_T]):
    """A queue with queue.Queue's API (``q.sync_q``).

    Its methods are the queue's own (``q.sync_q.put`` is ``q.put``, bound
    to the queue), so it raises queue.Empty, queue.Full and ringq.ShutDown
    as the queue does; it is there for code written for janus.
    """

    __slots__ = ("_queue", *_SYNC_METHODS, "__weakref__")

    put: Callable[..., None]
    put_nowait: Callable[[_T], None]
    get: Callable[..., _T]
    get_nowait: Callable[[], _T]
    put_many: Callable[..., None]
    get_many: Callable[..., list[_T]]
    qsize: Callable[[], int]
    empty: Callable[[], bool]
    full: Callable[[], bool]
    task_done: Callable[..., None]
    join: Callable[[], None]
    shutdown: Callable[..., None]

    @classmethod
    def __class_getitem__(cls, item: Any, /) -> GenericAlias:
        """As queue.Queue's: SyncQueueView[int] is a types.GenericAlias."""
        return GenericAlias(cls, item)

    def __init__(self, queue: _AnyQueue) -> None:
        self._queue = queue
        for name in _SYNC_METHODS:
            setattr(self, name, getattr(queue, name))

    @property
    def maxsize(self) -> int:
        """Number of items allowed in the queue (<= 0: unbounded)."""
        return self._queue.maxsize

    @property
    def unfinished_tasks(self) -> int:
        """The number of items put and not yet marked done."""
        return self._queue.unfinished_tasks

    @property
    def closed(self) -> bool:
        """Whether the queue was shut down (as janus's)."""
        return self._queue.is_shutdown


async def wait_closed(queue: _AnyQueue) -> None:
    """``queue.wait_closed()``: returns once the queue is shut down; raises
    RuntimeError if it was not (as janus's)."""
    if not queue.is_shutdown:
        raise RuntimeError("Waiting for non-closed queue")
    # As janus: give the waiters that the shutdown woke a chance to run.
    await asyncio.sleep(0)


async def aclose(queue: _AnyQueue) -> None:
    """``queue.aclose()``: close(), then wait_closed()."""
    queue.close()
    await wait_closed(queue)

