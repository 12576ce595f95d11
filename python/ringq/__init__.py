"""Lock-free queues for Python threads.

``ringq`` is a drop-in replacement for the standard library's ``queue``
module, built on lock-free ring buffers written in Rust::

    import ringq as queue

    q = queue.Queue(maxsize=100)
    q.put("job")
    assert q.get() == "job"
    q.task_done()

- :class:`Queue` behaves like :class:`queue.Queue` (``maxsize``, ``put``/
  ``get`` with ``block`` and ``timeout``, ``task_done``/``join``,
  ``shutdown`` with Python 3.13 semantics).
- :class:`SimpleQueue` behaves like :class:`queue.SimpleQueue`.
- :class:`LifoQueue` and :class:`PriorityQueue` behave like
  :class:`queue.LifoQueue` and :class:`queue.PriorityQueue`.
- :class:`SPSCQueue` is a bounded queue for one producer thread and one
  consumer thread.
- All three add ``get_many`` and ``put_many`` to move items in batches.
- :class:`ProcessQueue` and :class:`JoinableProcessQueue` behave like
  :class:`multiprocessing.Queue` and :class:`multiprocessing.JoinableQueue`,
  on a lock-free queue in shared memory (Linux only).

The exceptions are the standard library's own: ``ringq.Empty is
queue.Empty`` and ``ringq.Full is queue.Full``. ``ringq.ShutDown`` is
``queue.ShutDown`` on Python 3.13 and later, and a class of this package
(a subclass of ``Exception``) before that.

Coroutines await the same queues (``await q.async_get()``), and
``q.async_q`` is a view of ``Queue``, ``LifoQueue`` or ``PriorityQueue``
with :class:`asyncio.Queue`'s API, ``q.sync_q`` one with
:class:`queue.Queue`'s: code written for ``janus`` runs with ``import
ringq as janus``, whose exception names (``SyncQueueEmpty``,
``AsyncQueueEmpty``, ...) are here too. The asyncio names are loaded on
first use, so that ``import ringq`` does not import :mod:`asyncio`.
"""

import sys
from typing import TYPE_CHECKING, Any

from ringq._ringq import (
    AsyncOperation,
    Empty,
    Full,
    LifoQueue,
    PriorityQueue,
    Queue,
    ShutDown,
    SimpleQueue,
    SPSCQueue,
    __version__,
)

if TYPE_CHECKING:
    from asyncio import QueueEmpty as AsyncQueueEmpty
    from asyncio import QueueFull as AsyncQueueFull

    from ringq._aio_views import AsyncQueueShutDown, AsyncQueueView, SyncQueueView

    AsyncQueue = AsyncQueueView
    SyncQueue = SyncQueueView

# janus's names for the exceptions of its sync_q.
SyncQueueEmpty = Empty
SyncQueueFull = Full
SyncQueueShutDown = ShutDown

__all__ = [
    "AsyncOperation",
    "AsyncQueue",
    "AsyncQueueEmpty",
    "AsyncQueueFull",
    "AsyncQueueShutDown",
    "AsyncQueueView",
    "Empty",
    "Full",
    "LifoQueue",
    "PriorityQueue",
    "Queue",
    "SPSCQueue",
    "ShutDown",
    "SimpleQueue",
    "SyncQueue",
    "SyncQueueEmpty",
    "SyncQueueFull",
    "SyncQueueShutDown",
    "SyncQueueView",
    "__version__",
]

# Loaded on first use: each of these imports asyncio.
_ASYNCIO_NAMES = {
    "AsyncQueueEmpty": ("asyncio", "QueueEmpty"),
    "AsyncQueueFull": ("asyncio", "QueueFull"),
    "AsyncQueueShutDown": ("ringq._aio_views", "AsyncQueueShutDown"),
    "AsyncQueueView": ("ringq._aio_views", "AsyncQueueView"),
    "SyncQueueView": ("ringq._aio_views", "SyncQueueView"),
    "AsyncQueue": ("ringq._aio_views", "AsyncQueueView"),
    "SyncQueue": ("ringq._aio_views", "SyncQueueView"),
}


def __getattr__(name: str) -> Any:
    if name in _ASYNCIO_NAMES:
        import importlib

        module, attr = _ASYNCIO_NAMES[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if sys.platform.startswith("linux"):
    from ringq._ringq import JoinableProcessQueue, ProcessOperation, ProcessQueue

    __all__ += ["JoinableProcessQueue", "ProcessOperation", "ProcessQueue"]
