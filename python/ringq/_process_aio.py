"""The async methods of ProcessQueue and JoinableProcessQueue.

A process queue's waiters sleep on futexes in shared memory, which an event
loop cannot wait for. Each queue object hands out readiness descriptors
instead (``fileno()`` for messages, and private ones for room and for
finished tasks): a thread of the queue sleeps on the futex and makes the
descriptor readable. A coroutine tries the operation without waiting; when
there is nothing to take (or no room), the queue rearms the descriptor and
the coroutine waits for it with the loop's ``add_reader``.

The coroutines of one loop that wait on one descriptor share one
``add_reader``; each time the descriptor is readable one of them is woken to
try again. The descriptor is level-triggered, so a woken coroutine that is
cancelled before it runs leaves it readable and the next one is woken:
nothing is lost, and an operation that is cancelled or times out took or put
nothing. The loop itself is woken only by the descriptor: an idle waiter
costs it nothing.
"""

from __future__ import annotations

import asyncio
import collections
import queue as _queue
import weakref
from typing import Any, Awaitable, Callable, Deque, Dict, Iterable, List, Optional, Tuple, Type

# The events of the queue's readiness descriptors (see ProcessQueue._watch_fd).
MESSAGE, ROOM, TASKS_DONE = 0, 1, 2


class _Readers:
    """The coroutines of one loop waiting on one descriptor."""

    __slots__ = ("loop", "fd", "owner", "waiters", "installed", "__weakref__")

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int, owner: Any) -> None:
        self.loop = loop
        self.fd = fd
        # The queue object: it owns the descriptor, which must stay open
        # while the loop watches it.
        self.owner = owner
        self.waiters: Deque[asyncio.Future[None]] = collections.deque()
        # Whether the loop watches the descriptor for us: once stopped, a
        # later _Readers of the same loop and descriptor owns that.
        self.installed = False

    def wait(self) -> asyncio.Future[None]:
        future = self.loop.create_future()
        if not self.installed:
            self.loop.add_reader(self.fd, self._readable)
            self.installed = True
        self.waiters.append(future)
        return future

    def _readable(self) -> None:
        while self.waiters:
            future = self.waiters.popleft()
            if not future.done():
                future.set_result(None)
                break
        if not self.waiters:
            self._stop()

    def forget(self, future: asyncio.Future[None]) -> None:
        try:
            self.waiters.remove(future)
        except ValueError:
            pass  # woken already
        if not self.waiters:
            self._stop()

    def _stop(self) -> None:
        if not self.installed:
            return
        self.installed = False
        registry = _READERS.get(self.loop)
        if registry is not None and registry.get(self.fd) is not None:
            if registry[self.fd]() is self:
                del registry[self.fd]
        if self.loop.is_closed():
            return
        try:
            self.loop.remove_reader(self.fd)
        except RuntimeError:  # a loop closing as we go
            pass


# Each loop's readers by descriptor. Only the loop holds a _Readers (its
# add_reader callback) and the coroutines waiting on it; here they are
# weak, so a loop closed while coroutines wait takes them, their futures
# and the queue down with it, with no global reference left to keep them.
_READERS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Dict[int, weakref.ref[_Readers]]]" = (
    weakref.WeakKeyDictionary()
)


def _readers(loop: asyncio.AbstractEventLoop, fd: int, owner: Any) -> _Readers:
    registry = _READERS.get(loop)
    if registry is None:
        registry = _READERS[loop] = {}
    ref = registry.get(fd)
    readers = ref() if ref is not None else None
    if readers is None:
        readers = _Readers(loop, fd, owner)
        registry[fd] = weakref.ref(readers)
    return readers


async def _until(
    q: Any,
    event: int,
    attempt: Callable[[], Any],
    unavailable: Type[Exception],
    timeout: Optional[float],
) -> Any:
    """Calls ``attempt`` until it does not raise ``unavailable``, waiting
    for the event's descriptor in between; raises ``unavailable`` once
    ``timeout`` has passed. ``attempt`` has failed once already."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    fd = q._watch_fd(event)
    while True:
        readers = _readers(loop, fd, q)
        future = readers.wait()
        timer = None
        if deadline is not None:
            timer = loop.call_at(deadline, _expire, future)
        try:
            await future
        finally:
            if timer is not None:
                timer.cancel()
            readers.forget(future)
        try:
            return attempt()
        except unavailable:
            if deadline is not None and loop.time() >= deadline:
                raise


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


# The waits of the awaitable that async_get, async_put and async_get_many
# return (ProcessOperation): it has tried once, found nothing (or no room),
# and a timeout of 0 has raised already.


def wait_get(q: Any, timeout: Optional[float]) -> Awaitable[Any]:
    return _until(q, MESSAGE, q.get_nowait, _queue.Empty, timeout)


def wait_put(q: Any, item: Any, timeout: Optional[float]) -> Awaitable[None]:
    return _until(q, ROOM, lambda: q.put_nowait(item), _queue.Full, timeout)


def wait_get_many(q: Any, max_items: int, timeout: Optional[float]) -> Awaitable[List[Any]]:
    return _until(q, MESSAGE, lambda: q.get_many(max_items, block=False), _queue.Empty, timeout)


async def _put_many(q: Any, items: List[Any], timeout: Optional[float]) -> None:
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    for item in items:
        left = None if deadline is None else max(0.0, deadline - loop.time())
        await q.async_put(item, left)


def async_put_many(q: Any, items: Iterable[Any], timeout: Optional[float] = None) -> Any:
    if timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")
    # Read now, as the thread queues' async_put_many does.
    return _put_many(q, list(items), timeout)


async def _join(q: Any) -> None:
    if q.unfinished_tasks == 0:
        return
    loop = asyncio.get_running_loop()
    fd = q._watch_fd(TASKS_DONE)
    while True:
        q._rearm(TASKS_DONE)
        if q.unfinished_tasks == 0:
            return
        readers = _readers(loop, fd, q)
        future = readers.wait()
        try:
            await future
        finally:
            readers.forget(future)


def async_join(q: Any) -> Any:
    return _join(q)
