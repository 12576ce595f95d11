"""Runs the interpreter's own Lib/test/test_asyncio/test_queues.py against
the ``async_q`` view of ringq's queues.

Before the test module is imported (its join tests take ``asyncio.Queue``
at class definition), ``asyncio.Queue``, ``asyncio.LifoQueue`` and
``asyncio.PriorityQueue`` are replaced with factories that return
``ringq.Queue(maxsize).async_q``, ``ringq.LifoQueue(maxsize).async_q`` and
``ringq.PriorityQueue(maxsize).async_q``, so every queue the tests make is
a ringq view. The exceptions stay asyncio's own: the views raise
``asyncio.QueueEmpty``, ``asyncio.QueueFull`` and, on 3.13+,
``asyncio.QueueShutDown``.

Python 3.9's tests pass ``loop=`` to every constructor, inside
``assertWarns(DeprecationWarning)``. A ringq queue is bound to no loop and
takes no such argument; on 3.9 the factory drops it and warns as 3.9's
asyncio.Queue did, so the rest of each test runs against ringq.

A test that checks something ringq deliberately does differently is
skipped by name, with the reason, below; the README's list of differences
says the same. Everything else must pass.

Usage: python run_test_asyncio_queues.py   (exit status 0 when nothing failed)
"""

from __future__ import annotations

import asyncio
import sys
import unittest
import warnings
from types import GenericAlias
from typing import Any

import ringq
from run_test_queue import tests_of  # the runner of test_queue, beside this one

_PRIVATE = "uses asyncio.Queue's private attribute {}; ringq's views have no such list or method"

# "TestClass.test_method" (or "*.test_method" for every class) -> reason.
SKIPPED: dict[str, str] = {
    "*.test_repr": "checks asyncio.Queue's repr (its deque and waiter lists); a view's repr is its own",
    "*.test_str": "checks asyncio.Queue's str (its deque and waiter lists); a view's str is its own",
    "*.test_format": _PRIVATE.format("_format() (and sets _unfinished_tasks)"),
    "QueueGetTests.test_get_with_putters": _PRIVATE.format("_putters (appends a future to it)"),
    "QueueGetTests.test_cancelled_getters_not_being_held_in_self_getters": _PRIVATE.format("_getters")
    + " (tests/python/test_aio_views.py checks the same with the queue's own waiter count)",
    "QueuePutTests.test_cancelled_puts_not_being_held_in_self_putters": _PRIVATE.format("_putters")
    + " (tests/python/test_aio_views.py checks the same with the queue's own waiter count)",
    "QueuePutTests.test_float_maxsize": "makes a queue with maxsize=1.3; a ringq maxsize must be an int",
}
if sys.version_info < (3, 10):
    SKIPPED.update(
        {
            "QueueBasicTests.test_ctor_loop": "checks that the queue keeps its loop= argument as _loop;"
            " a ringq queue is bound to no loop",
            "QueueBasicTests.test_ctor_noloop": "checks that the queue binds the current loop as _loop;"
            " a ringq queue is bound to no loop",
        }
    )
if (3, 10) <= sys.version_info < (3, 11):
    SKIPPED.update(
        {
            "QueueGetTests.test_why_are_getters_waiting": _PRIVATE.format("_get_loop()"),
            "QueuePutTests.test_why_are_putters_waiting": _PRIVATE.format("_get_loop()"),
        }
    )

SUBSTITUTED = {"Queue": ringq.Queue, "LifoQueue": ringq.LifoQueue, "PriorityQueue": ringq.PriorityQueue}

# How many views the tests made, per class.
made: dict[str, int] = dict.fromkeys(SUBSTITUTED, 0)


def factory(name: str, native: Any) -> type:
    """A stand-in for asyncio.<name>: calling it returns native(maxsize).async_q."""

    def __new__(cls: type, maxsize: int = 0, **kwargs: Any) -> Any:
        if "loop" in kwargs and sys.version_info < (3, 10):
            kwargs.pop("loop")
            warnings.warn(
                "The loop argument is deprecated since Python 3.8, and scheduled for removal in Python 3.10.",
                DeprecationWarning,
                stacklevel=2,
            )
        if kwargs:
            raise TypeError(f"unexpected arguments {sorted(kwargs)}")
        view = native(maxsize).async_q
        made[name] += 1
        return view

    def __class_getitem__(cls: type, item: Any) -> GenericAlias:
        # The view class's own, which asyncio.Queue[int] stands for.
        alias: GenericAlias = ringq.AsyncQueueView.__class_getitem__(item)
        return alias

    return type(name, (), {"__new__": __new__, "__class_getitem__": classmethod(__class_getitem__)})


def main() -> int:
    originals = {name: getattr(asyncio, name) for name in SUBSTITUTED}
    for name, native in SUBSTITUTED.items():
        setattr(asyncio, name, factory(name, native))
    try:
        from test.test_asyncio import test_queues  # type: ignore[import-not-found]  # the interpreter's own copy

        for case in ("QueueJoinTests", "LifoQueueJoinTests", "PriorityQueueJoinTests"):
            q_class = getattr(test_queues, case).q_class
            assert q_class is getattr(asyncio, case.replace("JoinTests", "")), case
        assert ringq.AsyncQueueEmpty is asyncio.QueueEmpty and ringq.AsyncQueueFull is asyncio.QueueFull
        if hasattr(asyncio, "QueueShutDown"):
            assert ringq.AsyncQueueShutDown is asyncio.QueueShutDown

        tests = tests_of(unittest.defaultTestLoader.loadTestsFromModule(test_queues))
        skipped_here = 0
        for test in tests:
            case, method = type(test).__name__, test._testMethodName
            reason = SKIPPED.get(f"{case}.{method}") or SKIPPED.get(f"*.{method}")
            if reason is not None:
                setattr(test, method, unittest.skip(reason)(getattr(test, method)))
                skipped_here += 1

        version = ".".join(map(str, sys.version_info[:3]))
        print(
            f"CPython {version}: Lib/test/test_asyncio/test_queues.py against ringq {ringq.__version__}'s"
            f" async_q views, from {ringq.__file__}",
            flush=True,
        )
        result = unittest.TextTestRunner(verbosity=1, stream=sys.stdout).run(unittest.TestSuite(tests))
    finally:
        for name, original in originals.items():
            setattr(asyncio, name, original)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped) - len(result.expectedFailures)
    views = ", ".join(f"{n} {name}" for name, n in made.items())
    print(
        f"CPython {version} test_asyncio/test_queues on ringq: {passed} passed, {len(result.skipped)} skipped"
        f" ({skipped_here} by name here), {failed} failed, of {result.testsRun} (views made: {views})"
    )
    if result.testsRun == 0 or not all(made.values()):
        return 1
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
