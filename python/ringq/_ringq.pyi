"""Type stubs for the compiled part of ringq."""

import sys
from collections.abc import Iterable
from queue import Empty as Empty
from queue import Full as Full
from types import GenericAlias
from typing import Any, Generic, TypeVar

from typing_extensions import disjoint_base

if sys.version_info >= (3, 13):
    from queue import ShutDown as ShutDown
else:
    class ShutDown(Exception):
        """Raised by put() on a queue that was shut down, and by get() on one that was shut down and drained."""

__all__ = [
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
    def shutdown(self, immediate: bool = False) -> None:
        """Shut-down the queue, making queue gets and puts raise ShutDown."""

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
    def shutdown(self, immediate: bool = False) -> None:
        """Shut-down the queue, making queue gets and puts raise ShutDown."""

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
    def shutdown(self, immediate: bool = False) -> None:
        """Shut-down the queue, making queue gets and puts raise ShutDown."""
