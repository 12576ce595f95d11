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
"""

import sys

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

if sys.platform.startswith("linux"):
    from ringq._ringq import JoinableProcessQueue, ProcessQueue

    __all__ += ["JoinableProcessQueue", "ProcessQueue"]
