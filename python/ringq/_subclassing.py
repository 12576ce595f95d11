"""Subclasses of ringq's queues, and the standard library's hooks.

``queue.Queue`` keeps its items through four methods that a subclass may
override: ``_init(maxsize)``, ``_qsize()``, ``_put(item)`` and ``_get()``.
ringq's classes keep their items natively; a subclass that overrides none
of the hooks keeps that fast path. One that overrides any of them gets
:class:`StdlibPath`'s methods, which work as the standard library's do:
a ``threading.Lock`` with three conditions around calls to the hooks, and
the ``mutex``, ``not_empty``, ``not_full``, ``all_tasks_done`` and
``queue`` attributes. ``shutdown()`` has Python 3.13's semantics on every
version, as on the native classes.

The native classes call :func:`init_subclass` from their
``__init_subclass__``.
"""

from __future__ import annotations

import threading
from queue import Empty, Full
from time import monotonic
from typing import Any, Callable, Iterable

from ringq._ringq import LifoQueue, PriorityQueue, Queue, ShutDown, SimpleQueue

HOOKS = ("_init", "_qsize", "_put", "_get")

# Set on a class that runs on StdlibPath's methods (None on native classes).
MARKER = "_ringq_stdlib_path"

NATIVE = (Queue, SimpleQueue, LifoQueue, PriorityQueue)

# The classes whose standard-library counterparts have the hooks.
HOOKED = (Queue, LifoQueue, PriorityQueue)


def init_subclass(native: type, cls: type, kwargs: dict[str, Any] | None) -> None:
    """Prepares ``cls``, a new subclass of the native class ``native``."""
    super(native, cls).__init_subclass__(**(kwargs or {}))  # type: ignore[arg-type,misc]
    # cls and the Python classes between it and the native class: what a
    # name defined there overrides.
    own = cls.__mro__[: cls.__mro__.index(native)]

    def defines(name: str) -> bool:
        return any(name in vars(k) for k in own)

    if native in HOOKED and any(defines(hook) for hook in HOOKS):
        if getattr(cls, MARKER) is None:
            for name, value in vars(StdlibPath).items():
                if name in PATH_METHODS and not defines(name):
                    setattr(cls, name, value)
            setattr(cls, MARKER, StdlibPath)
    elif native in (Queue, SimpleQueue) and defines("__init__") and not defines("__new__"):
        # As object.__new__ does for a class with its own __init__: leave
        # the arguments to __init__, which may take other ones. (LifoQueue
        # and PriorityQueue ignore them natively.)
        cls.__new__ = staticmethod(_new_ignoring_arguments)  # type: ignore[assignment]


def _native_of(cls: type) -> Any:
    return next(k for k in cls.__mro__ if k in NATIVE)


def _new_ignoring_arguments(cls: type, *args: object, **kwargs: object) -> Any:
    return _native_of(cls).__new__(cls)


def _wait(
    cond: threading.Condition,
    blocked: Callable[[], bool],
    stopped: Callable[[], bool],
    block: bool,
    timeout: float | None,
    unavailable: type[Exception],
) -> None:
    """With ``cond`` held, waits while ``blocked()`` as ``queue.Queue``
    does: ``unavailable`` (Full or Empty) when not blocking or out of time,
    ShutDown when ``stopped()`` after a wake-up."""
    if not block:
        if blocked():
            raise unavailable
        return
    if timeout is None:
        while blocked():
            cond.wait()
            if stopped():
                raise ShutDown
        return
    if timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")
    deadline = monotonic() + timeout
    while blocked():
        left = deadline - monotonic()
        if left <= 0.0:
            raise unavailable
        cond.wait(left)
        if stopped():
            raise ShutDown


class StdlibPath:
    """The methods of a subclass that overrides the hooks."""

    # Plain class attributes that hide the native read-only descriptors,
    # so __init__ can keep these on the instance as queue.Queue does.
    maxsize: Any = 0
    unfinished_tasks: int = 0
    is_shutdown: bool = False

    def __new__(cls, *args: object, **kwargs: object) -> Any:
        # The instance under these methods is a native object whose own
        # items stay unused: create it without reading the arguments (a
        # bounded ringq.Queue would allocate maxsize slots for nothing).
        return _new_ignoring_arguments(cls, *args, **kwargs)

    def __init__(self, maxsize: Any = 0) -> None:
        self.maxsize = maxsize
        self._init(maxsize)  # type: ignore[attr-defined]
        self.mutex = threading.Lock()
        self.not_empty = threading.Condition(self.mutex)
        self.not_full = threading.Condition(self.mutex)
        self.all_tasks_done = threading.Condition(self.mutex)
        self.unfinished_tasks = 0
        self.is_shutdown = False

    def task_done(self, count: int = 1) -> None:
        if count < 1:
            raise ValueError(f"task_done() count must be at least 1, got {count}")
        with self.all_tasks_done:
            unfinished = self.unfinished_tasks - count
            if unfinished < 0:
                raise ValueError("task_done() called too many times")
            if unfinished == 0:
                self.all_tasks_done.notify_all()
            self.unfinished_tasks = unfinished

    def join(self) -> None:
        with self.all_tasks_done:
            while self.unfinished_tasks:
                self.all_tasks_done.wait()

    def qsize(self) -> int:
        with self.mutex:
            return self._qsize()  # type: ignore[attr-defined,no-any-return]

    def empty(self) -> bool:
        with self.mutex:
            return not self._qsize()  # type: ignore[attr-defined]

    def full(self) -> bool:
        with self.mutex:
            return 0 < self.maxsize <= self._qsize()  # type: ignore[attr-defined,no-any-return]

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        with self.not_full:
            if self.is_shutdown:
                raise ShutDown
            if self.maxsize > 0:
                _wait(
                    self.not_full,
                    lambda: self._qsize() >= self.maxsize,  # type: ignore[attr-defined]
                    lambda: self.is_shutdown,
                    block,
                    timeout,
                    Full,
                )
            self._put(item)  # type: ignore[attr-defined]
            self.unfinished_tasks += 1
            self.not_empty.notify()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        with self.not_empty:

            def drained() -> bool:
                return self.is_shutdown and not self._qsize()  # type: ignore[attr-defined]

            if drained():
                raise ShutDown
            _wait(self.not_empty, lambda: not self._qsize(), drained, block, timeout, Empty)  # type: ignore[attr-defined]
            item = self._get()  # type: ignore[attr-defined]
            self.not_full.notify()
            return item

    def put_nowait(self, item: Any) -> None:
        return self.put(item, block=False)

    def get_nowait(self) -> Any:
        return self.get(block=False)

    def get_many(self, max_items: int, block: bool = True, timeout: float | None = None) -> list[Any]:
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {max_items}")
        items = [self.get(block, timeout)]
        with self.not_empty:
            while len(items) < max_items and self._qsize():  # type: ignore[attr-defined]
                items.append(self._get())  # type: ignore[attr-defined]
                self.not_full.notify()
        return items

    def put_many(self, items: Iterable[Any], block: bool = True, timeout: float | None = None) -> None:
        deadline = None if timeout is None or timeout < 0 else monotonic() + timeout
        for item in items:
            left = timeout if deadline is None else max(0.0, deadline - monotonic())
            self.put(item, block, left)

    def shutdown(self, immediate: bool = False) -> None:
        with self.mutex:
            self.is_shutdown = True
            if immediate:
                while self._qsize():  # type: ignore[attr-defined]
                    self._get()  # type: ignore[attr-defined]
                    if self.unfinished_tasks > 0:
                        self.unfinished_tasks -= 1
                self.all_tasks_done.notify_all()
            self.not_empty.notify_all()
            self.not_full.notify_all()

    def _waiting(self) -> tuple[int, int]:
        # Condition._waiters: the threads in wait(), one lock each.
        return len(self.not_empty._waiters), len(self.not_full._waiters)  # type: ignore[attr-defined]


# What init_subclass installs: every method above, and the attributes that
# hide the native descriptors.
PATH_METHODS = tuple(
    name for name in vars(StdlibPath) if not (name.startswith("__") and name not in ("__new__", "__init__"))
)
