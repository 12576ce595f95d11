"""Type stubs for the compiled part of ringq."""

import sys
from collections.abc import Iterable
from queue import Empty as Empty
from queue import Full as Full
from types import GenericAlias
from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar, final

from typing_extensions import disjoint_base

from ringq._aio_views import AsyncQueueView, SyncQueueView

if sys.version_info >= (3, 13):
    from queue import ShutDown as ShutDown
else:
    class ShutDown(Exception):
        """Raised by put() on a queue that was shut down, and by get() on one that was shut down and drained."""

__all__ = [
    "AsyncOperation",
    "Empty",
    "Full",
    "LifoQueue",
    "PriorityQueue",
    "Queue",
    "SPSCQueue",
    "ShutDown",
    "SimpleQueue",
    "__version__",
]

__version__: str

_T = TypeVar("_T")
_R_co = TypeVar("_R_co", covariant=True)

@final
class AsyncOperation(Generic[_R_co]):
    """An awaitable queue operation (what the async_* methods return)."""

    def __await__(self) -> Generator[Any, None, _R_co]: ...
    def __next__(self) -> Any: ...
    def send(self, _value: Any, /) -> Any:
        """Resumes the operation; the value sent is ignored."""
    def throw(self, typ: Any, val: Any = None, _tb: Any = None, /) -> Any:
        """Ends the operation (it completed nothing) and raises the exception."""
    def close(self) -> None:
        """Ends the operation; it completed nothing."""

@disjoint_base
class Queue(Generic[_T]):
    """Create a queue object with a given maximum size; a drop-in queue.Queue."""

    def __new__(cls, maxsize: int = 0) -> "Queue[_T]": ...
    def __init__(self, maxsize: int = 0) -> None: ...
    @classmethod
    def __class_getitem__(cls, item: Any, /) -> GenericAlias: ...
    @property
    def maxsize(self) -> int:
        """The maximum number of items (<= 0 means unbounded); assignable, as in queue.Queue."""
    @maxsize.setter
    def maxsize(self, maxsize: int) -> None: ...
    @property
    def unfinished_tasks(self) -> int:
        """The number of items put and not yet marked done with task_done()."""
    @property
    def is_shutdown(self) -> bool:
        """Whether shutdown() has been called."""
    def task_done(self, count: int = 1) -> None:
        """Indicate that a formerly enqueued task (or 'count' tasks) is complete."""
    def join(self) -> None:
        """Block until all items in the Queue have been gotten and processed."""
    def qsize(self) -> int:
        """Return the approximate size of the queue (not reliable!)."""
    def empty(self) -> bool:
        """Return True if the queue is empty, False otherwise (not reliable!)."""
    def full(self) -> bool:
        """Return True if the queue is full, False otherwise (not reliable!)."""
    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        """Put an item into the queue."""
    def put_nowait(self, item: _T) -> None:
        """Put an item into the queue without blocking."""
    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item from the queue."""
    def get_nowait(self) -> _T:
        """Remove and return an item from the queue without blocking."""
    def get_many(
        self, max_items: int, block: bool = True, timeout: float | None = None
    ) -> list[_T]:
        """Remove and return up to max_items items as a list, in queue order."""
    def put_many(
        self, items: Iterable[_T], block: bool = True, timeout: float | None = None
    ) -> None:
        """Put every item of an iterable into the queue, in order."""
    def async_get(self, timeout: float | None = None) -> AsyncOperation[_T]:
        """Remove and return an item, waiting without blocking the event loop."""
    def async_put(self, item: _T, timeout: float | None = None) -> AsyncOperation[None]:
        """Put an item, waiting without blocking the event loop."""
    def async_get_many(
        self, max_items: int, timeout: float | None = None
    ) -> AsyncOperation[list[_T]]:
        """Remove and return up to max_items items, waiting like async_get() for the first."""
    def async_put_many(
        self, items: Iterable[_T], timeout: float | None = None
    ) -> AsyncOperation[None]:
        """Put every item of an iterable, in order, waiting for room as needed."""
    def async_join(self) -> AsyncOperation[None]:
        """Wait, without blocking the event loop, until every item is marked done."""
    def shutdown(self, immediate: bool = False) -> None:
        """Shut-down the queue, making queue gets and puts raise ShutDown."""
    @property
    def async_q(self) -> AsyncQueueView[_T]:
        """This queue with asyncio.Queue's API; the same object each time."""
    @property
    def sync_q(self) -> SyncQueueView[_T]:
        """This queue with queue.Queue's API, as janus.Queue.sync_q; the same object each time."""
    @property
    def closed(self) -> bool:
        """Whether the queue was shut down (or closed), as janus's."""
    def close(self) -> None:
        """Shut the queue down at once, dropping what it holds: shutdown(immediate=True)."""
    def wait_closed(self) -> Coroutine[Any, Any, None]:
        """Wait until the queue is closed; RuntimeError if it was not shut down."""
    def aclose(self) -> Coroutine[Any, Any, None]:
        """close(), then wait_closed()."""

@disjoint_base
class SimpleQueue(Generic[_T]):
    """Simple, unbounded, reentrant FIFO queue; a drop-in queue.SimpleQueue."""

    def __new__(cls) -> "SimpleQueue[_T]": ...
    @classmethod
    def __class_getitem__(cls, item: Any, /) -> GenericAlias: ...
    def empty(self) -> bool:
        """Return True if the queue is empty, False otherwise (not reliable!)."""
    def qsize(self) -> int:
        """Return the approximate size of the queue (not reliable!)."""
    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        """Put the item on the queue; never blocks."""
    def put_nowait(self, item: _T) -> None:
        """Put an item into the queue without blocking."""
    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item from the queue."""
    def get_nowait(self) -> _T:
        """Remove and return an item from the queue without blocking."""
    def get_many(
        self, max_items: int, block: bool = True, timeout: float | None = None
    ) -> list[_T]:
        """Remove and return up to max_items items as a list, in queue order."""
    def put_many(
        self, items: Iterable[_T], block: bool = True, timeout: float | None = None
    ) -> None:
        """Put every item of an iterable into the queue, in order, in batches."""
    def async_get(self, timeout: float | None = None) -> AsyncOperation[_T]:
        """Remove and return an item, waiting without blocking the event loop."""
    def async_put(self, item: _T, timeout: float | None = None) -> AsyncOperation[None]:
        """Put an item, waiting without blocking the event loop."""
    def async_get_many(
        self, max_items: int, timeout: float | None = None
    ) -> AsyncOperation[list[_T]]:
        """Remove and return up to max_items items, waiting like async_get() for the first."""
    def async_put_many(
        self, items: Iterable[_T], timeout: float | None = None
    ) -> AsyncOperation[None]:
        """Put every item of an iterable, in order, waiting for room as needed."""

@disjoint_base
class SPSCQueue(Generic[_T]):
    """A bounded FIFO queue for exactly one producer thread and one consumer thread."""

    def __new__(cls, maxsize: int) -> "SPSCQueue[_T]": ...
    @classmethod
    def __class_getitem__(cls, item: Any, /) -> GenericAlias: ...
    @property
    def maxsize(self) -> int:
        """The capacity the queue was created with."""
    @property
    def is_shutdown(self) -> bool:
        """Whether shutdown() has been called."""
    def qsize(self) -> int:
        """Return the approximate size of the queue (not reliable!)."""
    def empty(self) -> bool:
        """Return True if the queue is empty, False otherwise (not reliable!)."""
    def full(self) -> bool:
        """Return True if the queue is full, False otherwise (not reliable!)."""
    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        """Put an item into the queue; one producer thread at a time."""
    def put_nowait(self, item: _T) -> None:
        """Put an item into the queue without blocking."""
    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item from the queue; one consumer thread at a time."""
    def get_nowait(self) -> _T:
        """Remove and return an item from the queue without blocking."""
    def get_many(
        self, max_items: int, block: bool = True, timeout: float | None = None
    ) -> list[_T]:
        """Remove and return up to max_items items as a list, in queue order."""
    def put_many(
        self, items: Iterable[_T], block: bool = True, timeout: float | None = None
    ) -> None:
        """Put every item of an iterable into the queue, in order, in batches."""
    def async_get(self, timeout: float | None = None) -> AsyncOperation[_T]:
        """Remove and return an item, waiting without blocking the event loop."""
    def async_put(self, item: _T, timeout: float | None = None) -> AsyncOperation[None]:
        """Put an item, waiting without blocking the event loop."""
    def async_get_many(
        self, max_items: int, timeout: float | None = None
    ) -> AsyncOperation[list[_T]]:
        """Remove and return up to max_items items, waiting like async_get() for the first."""
    def async_put_many(
        self, items: Iterable[_T], timeout: float | None = None
    ) -> AsyncOperation[None]:
        """Put every item of an iterable, in order, waiting for room as needed."""
    def shutdown(self) -> None:
        """Shut down the queue: put() raises ShutDown, get() raises it once drained."""

@disjoint_base
class LifoQueue(Generic[_T]):
    """Variant of Queue that retrieves most recently added entries first; a drop-in queue.LifoQueue."""

    def __new__(cls, maxsize: int = 0) -> "LifoQueue[_T]": ...
    def __init__(self, maxsize: int = 0) -> None: ...
    @classmethod
    def __class_getitem__(cls, item: Any, /) -> GenericAlias: ...
    @property
    def maxsize(self) -> int:
        """The maximum size (<= 0 means unbounded). Assignable: shrinking makes puts wait, growing lets waiting puts in."""
    @maxsize.setter
    def maxsize(self, value: int) -> None: ...
    @property
    def unfinished_tasks(self) -> int:
        """The number of items put and not yet marked done with task_done()."""
    @property
    def is_shutdown(self) -> bool:
        """Whether shutdown() has been called."""
    def task_done(self, count: int = 1) -> None:
        """Indicate that a formerly enqueued task (or 'count' tasks) is complete."""
    def join(self) -> None:
        """Block until all items in the queue have been gotten and processed."""
    def qsize(self) -> int:
        """Return the approximate size of the queue (not reliable!)."""
    def empty(self) -> bool:
        """Return True if the queue is empty, False otherwise (not reliable!)."""
    def full(self) -> bool:
        """Return True if the queue is full, False otherwise (not reliable!)."""
    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        """Put an item into the queue."""
    def put_nowait(self, item: _T) -> None:
        """Put an item into the queue without blocking."""
    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item from the queue."""
    def get_nowait(self) -> _T:
        """Remove and return an item from the queue without blocking."""
    def get_many(
        self, max_items: int, block: bool = True, timeout: float | None = None
    ) -> list[_T]:
        """Remove and return up to max_items items as a list, in the order get() would return them."""
    def put_many(
        self, items: Iterable[_T], block: bool = True, timeout: float | None = None
    ) -> None:
        """Put every item of an iterable into the queue, in order, as successive put() calls would."""
    def async_get(self, timeout: float | None = None) -> AsyncOperation[_T]:
        """Remove and return an item, waiting without blocking the event loop."""
    def async_put(self, item: _T, timeout: float | None = None) -> AsyncOperation[None]:
        """Put an item, waiting without blocking the event loop."""
    def async_get_many(
        self, max_items: int, timeout: float | None = None
    ) -> AsyncOperation[list[_T]]:
        """Remove and return up to max_items items, waiting like async_get() for the first."""
    def async_put_many(
        self, items: Iterable[_T], timeout: float | None = None
    ) -> AsyncOperation[None]:
        """Put every item of an iterable, in order, waiting for room as needed."""
    def async_join(self) -> AsyncOperation[None]:
        """Wait, without blocking the event loop, until every item is marked done."""
    def shutdown(self, immediate: bool = False) -> None:
        """Shut-down the queue, making queue gets and puts raise ShutDown."""
    @property
    def async_q(self) -> AsyncQueueView[_T]:
        """This queue with asyncio.Queue's API; the same object each time."""
    @property
    def sync_q(self) -> SyncQueueView[_T]:
        """This queue with queue.Queue's API, as janus.Queue.sync_q; the same object each time."""
    @property
    def closed(self) -> bool:
        """Whether the queue was shut down (or closed), as janus's."""
    def close(self) -> None:
        """Shut the queue down at once, dropping what it holds: shutdown(immediate=True)."""
    def wait_closed(self) -> Coroutine[Any, Any, None]:
        """Wait until the queue is closed; RuntimeError if it was not shut down."""
    def aclose(self) -> Coroutine[Any, Any, None]:
        """close(), then wait_closed()."""

@disjoint_base
class PriorityQueue(Generic[_T]):
    """Variant of Queue that retrieves open entries in priority order (lowest first); a drop-in queue.PriorityQueue."""

    def __new__(cls, maxsize: int = 0) -> "PriorityQueue[_T]": ...
    def __init__(self, maxsize: int = 0) -> None: ...
    @classmethod
    def __class_getitem__(cls, item: Any, /) -> GenericAlias: ...
    @property
    def maxsize(self) -> int:
        """The maximum size (<= 0 means unbounded). Assignable: shrinking makes puts wait, growing lets waiting puts in."""
    @maxsize.setter
    def maxsize(self, value: int) -> None: ...
    @property
    def unfinished_tasks(self) -> int:
        """The number of items put and not yet marked done with task_done()."""
    @property
    def is_shutdown(self) -> bool:
        """Whether shutdown() has been called."""
    def task_done(self, count: int = 1) -> None:
        """Indicate that a formerly enqueued task (or 'count' tasks) is complete."""
    def join(self) -> None:
        """Block until all items in the queue have been gotten and processed."""
    def qsize(self) -> int:
        """Return the approximate size of the queue (not reliable!)."""
    def empty(self) -> bool:
        """Return True if the queue is empty, False otherwise (not reliable!)."""
    def full(self) -> bool:
        """Return True if the queue is full, False otherwise (not reliable!)."""
    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        """Put an item into the queue."""
    def put_nowait(self, item: _T) -> None:
        """Put an item into the queue without blocking."""
    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item from the queue."""
    def get_nowait(self) -> _T:
        """Remove and return an item from the queue without blocking."""
    def get_many(
        self, max_items: int, block: bool = True, timeout: float | None = None
    ) -> list[_T]:
        """Remove and return up to max_items items as a list, in the order get() would return them."""
    def put_many(
        self, items: Iterable[_T], block: bool = True, timeout: float | None = None
    ) -> None:
        """Put every item of an iterable into the queue, in order, as successive put() calls would."""
    def async_get(self, timeout: float | None = None) -> AsyncOperation[_T]:
        """Remove and return an item, waiting without blocking the event loop."""
    def async_put(self, item: _T, timeout: float | None = None) -> AsyncOperation[None]:
        """Put an item, waiting without blocking the event loop."""
    def async_get_many(
        self, max_items: int, timeout: float | None = None
    ) -> AsyncOperation[list[_T]]:
        """Remove and return up to max_items items, waiting like async_get() for the first."""
    def async_put_many(
        self, items: Iterable[_T], timeout: float | None = None
    ) -> AsyncOperation[None]:
        """Put every item of an iterable, in order, waiting for room as needed."""
    def async_join(self) -> AsyncOperation[None]:
        """Wait, without blocking the event loop, until every item is marked done."""
    def shutdown(self, immediate: bool = False) -> None:
        """Shut-down the queue, making queue gets and puts raise ShutDown."""
    @property
    def async_q(self) -> AsyncQueueView[_T]:
        """This queue with asyncio.Queue's API; the same object each time."""
    @property
    def sync_q(self) -> SyncQueueView[_T]:
        """This queue with queue.Queue's API, as janus.Queue.sync_q; the same object each time."""
    @property
    def closed(self) -> bool:
        """Whether the queue was shut down (or closed), as janus's."""
    def close(self) -> None:
        """Shut the queue down at once, dropping what it holds: shutdown(immediate=True)."""
    def wait_closed(self) -> Coroutine[Any, Any, None]:
        """Wait until the queue is closed; RuntimeError if it was not shut down."""
    def aclose(self) -> Coroutine[Any, Any, None]:
        """close(), then wait_closed()."""

if sys.platform == "linux":
    from typing_extensions import Buffer as _Buffer
    from typing_extensions import Self as _Self
    from typing_extensions import final as _final

    __all__ += ["AMQP_PICKLE_CONTENT_TYPE", "JoinableProcessQueue", "Message", "ProcessOperation", "ProcessQueue", "_Consumer", "_Publisher"]

    @final
    class ProcessOperation(Generic[_R_co]):
        """An awaitable process queue operation (what the async methods of ProcessQueue return)."""

        def __await__(self) -> Generator[Any, None, _R_co]: ...
        def __next__(self) -> Any: ...
        def send(self, value: Any, /) -> Any: ...
        def throw(self, typ: Any, val: Any = None, tb: Any = None, /) -> Any:
            """Raises the exception in the waiting operation, which then took and put nothing."""
        def close(self) -> None: ...

    @disjoint_base
    class ProcessQueue(Generic[_T]):
        """A process-shared queue: a drop-in multiprocessing.Queue on a lock-free ring in shared memory."""

        def __new__(
            cls,
            maxsize: int = 0,
            *,
            max_message_size: int = 16384,
            name: str | None = None,
            ctx: Any = None,
        ) -> "ProcessQueue[_T]": ...
        @classmethod
        def open(
            cls,
            name: str,
            *,
            trusted_owner: int | None = None,
            trusted_group: int | None = None,
            trust_anyone: bool = False,
        ) -> _Self:
            """Open the queue created under name; the file must be this user's and writable by no one else unless the trust arguments widen that."""
        @classmethod
        def _rebuild(cls, fd: Any, name: str | None, /) -> _Self:
            """Rebuild a queue from a pickle: a descriptor from multiprocessing.reduction.DupFd, and the name for display."""
        def __reduce__(self) -> tuple[Any, tuple[Any, str | None]]: ...
        @classmethod
        def __class_getitem__(cls, item: Any, /) -> GenericAlias: ...
        @property
        def maxsize(self) -> int:
            """The number of messages the queue holds at most."""
        @property
        def max_message_size(self) -> int:
            """The longest message, in bytes (for put(), the pickled object)."""
        @property
        def name(self) -> str | None:
            """The name unrelated processes open the queue by, or None."""
        @property
        def is_shutdown(self) -> bool:
            """Whether shutdown() has been called, in any process."""
        def put(self, obj: _T, block: bool = True, timeout: float | None = None) -> None:
            """Put obj into the queue."""
        def put_nowait(self, obj: _T) -> None:
            """Put obj into the queue without blocking: put(obj, False)."""
        def get(self, block: bool = True, timeout: float | None = None) -> _T:
            """Remove and return an object from the queue."""
        def get_nowait(self) -> _T:
            """Remove and return an object from the queue without blocking."""
        def put_bytes(
            self, data: _Buffer, block: bool = True, timeout: float | None = None
        ) -> None:
            """Put a bytes-like object into the queue as one message, as is (no pickling)."""
        def get_bytes(self, block: bool = True, timeout: float | None = None) -> bytes:
            """Remove and return one message as bytes, as put_bytes() put it."""
        def put_many(
            self, objs: Iterable[_T], block: bool = True, timeout: float | None = None
        ) -> None:
            """Put every object of an iterable into the queue, in order, in batches."""
        def put_many_bytes(
            self, items: Iterable[_Buffer], block: bool = True, timeout: float | None = None
        ) -> None:
            """Put every bytes-like object of an iterable into the queue, one message each."""
        def get_many(
            self, max_items: int, block: bool = True, timeout: float | None = None
        ) -> list[_T]:
            """Remove and return up to max_items objects as a list, in queue order."""
        def get_many_bytes(
            self, max_items: int, block: bool = True, timeout: float | None = None
        ) -> list[bytes]:
            """Remove and return up to max_items messages as a list of bytes."""
        def qsize(self) -> int:
            """Return the approximate number of messages in the queue."""
        def empty(self) -> bool:
            """Return True if the queue is empty, False otherwise (a snapshot)."""
        def full(self) -> bool:
            """Return True if the queue is full, False otherwise (a snapshot)."""
        def waiting_getters(self) -> int:
            """How many threads, in all processes, are asleep in a get."""
        def waiting_putters(self) -> int:
            """How many threads, in all processes, are asleep in a put."""
        def close(self) -> None:
            """Indicate that this process will use this queue object no more."""
        def join_thread(self) -> None:
            """Does nothing: there is no feeder thread to join."""
        def cancel_join_thread(self) -> None:
            """Does nothing: there is no feeder thread."""
        def shutdown(self, immediate: bool = False) -> None:
            """Shut down the queue for every process that uses it."""
        def unlink(self) -> None:
            """Remove the queue's name, so that open() finds it no more."""
        def recover_dead(self) -> int:
            """Recover the slots held by processes that died during a put or get."""
        def claim_holders(self) -> list[int]:
            """Return the PIDs of the processes in the middle of a put or get (a snapshot)."""
        def fileno(self) -> int:
            """A descriptor that is readable when a message may be waiting (for select and event loops)."""
        def _watch_fd(self, event_code: int) -> int: ...
        def _rearm(self, event_code: int) -> None: ...
        def async_get(self, timeout: float | None = None) -> ProcessOperation[_T]:
            """Remove and return an object, waiting without blocking the event loop."""
        def async_put(self, obj: _T, timeout: float | None = None) -> ProcessOperation[None]:
            """Put an object, waiting without blocking the event loop until there is room."""
        def async_get_many(
            self, max_items: int, timeout: float | None = None
        ) -> ProcessOperation[list[_T]]:
            """Remove and return up to max_items objects, waiting like async_get() for the first."""
        def async_put_many(
            self, objs: Iterable[_T], timeout: float | None = None
        ) -> Coroutine[Any, Any, None]:
            """Put every object of an iterable, waiting like async_put() for room as needed."""

    @_final
    class JoinableProcessQueue(ProcessQueue[_T]):
        """A ProcessQueue whose messages count as tasks, with task_done() and join() across processes."""

        def __new__(
            cls,
            maxsize: int = 0,
            *,
            max_message_size: int = 16384,
            name: str | None = None,
            ctx: Any = None,
        ) -> "JoinableProcessQueue[_T]": ...
        @property
        def unfinished_tasks(self) -> int:
            """The number of messages put and not yet marked done, in all processes."""
        def task_done(self) -> None:
            """Indicate that a formerly enqueued task is complete, in any process."""
        def join(self) -> None:
            """Block until every message put into the queue has been gotten and marked done."""
        def async_join(self) -> Coroutine[Any, Any, None]:
            """Wait without blocking the event loop until every message put has been marked done."""

    AMQP_PICKLE_CONTENT_TYPE: str

    @final
    class Message:
        """A message a Consumer got from its broker queue."""

        @property
        def body(self) -> bytes: ...
        @property
        def value(self) -> Any: ...
        @property
        def headers(self) -> dict[str, Any]: ...
        @property
        def routing_key(self) -> str: ...
        @property
        def exchange(self) -> str: ...
        @property
        def redelivered(self) -> bool: ...
        @property
        def delivery_tag(self) -> int: ...
        @property
        def generation(self) -> int: ...
        @property
        def content_type(self) -> str | None: ...
        def ack(self) -> None:
            """Acknowledge the message: the work is done."""

    @final
    class _Consumer:
        def __new__(
            cls,
            url: str,
            queue: str,
            *,
            prefetch: int,
            declare: bool,
            durable: bool,
            dead_letter_exchange: str | None,
            dead_letter_routing_key: str | None,
            connection_name: str,
            connect_timeout: float,
            close_timeout: float,
            accept_pickle: bool,
        ) -> "_Consumer": ...
        def get(self, block: bool = True, timeout: float | None = None) -> Message: ...
        def get_many(self, max_items: int, block: bool = True, timeout: float | None = None) -> list[Message]: ...
        def ack(self, msg: Message) -> None: ...
        def reject(self, msg: Message, requeue: bool = False) -> None: ...
        def join(self) -> None: ...
        def close(self) -> None: ...
        def stats(self) -> dict[str, int]: ...

    @final
    class _Publisher:
        def __new__(
            cls,
            url: str,
            *,
            exchange: str,
            routing_key: str,
            window: int,
            mandatory: bool,
            persistent: bool,
            connection_name: str,
            connect_timeout: float,
            close_timeout: float,
        ) -> "_Publisher": ...
        def put_bytes(self, data: bytes, block: bool = True, timeout: float | None = None) -> int: ...
        def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> int: ...
        def flush(self, timeout: float | None = None) -> None: ...
        def is_blocked(self) -> bool: ...
        def close(self) -> None: ...
        def stats(self) -> dict[str, int]: ...
