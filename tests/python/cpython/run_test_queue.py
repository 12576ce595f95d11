"""Runs the interpreter's own Lib/test/test_queue.py against ringq.

CPython's test module imports the ``queue`` module twice, as ``py_queue``
(pure Python) and ``c_queue`` (with the C ``_queue``), and runs every test
class against each. Here both get ringq's classes and exceptions in place
of their own before the tests run, so every test exercises ringq.

A test that checks something ringq deliberately does differently is
skipped by name, with the reason, below; the README's list of differences
says the same. Everything else must pass.

Usage: python run_test_queue.py   (exit status 0 when nothing failed)
"""

from __future__ import annotations

import sys
import unittest
from types import ModuleType

import ringq

# "TestClass.test_method" (or "*.test_method" for every class) -> reason.
SKIPPED: dict[str, str] = {}


SUBSTITUTED = ("Queue", "SimpleQueue", "LifoQueue", "PriorityQueue", "Empty", "Full", "ShutDown")


def substitute(module: ModuleType) -> None:
    """Puts ringq's classes where the tests look for the module's own."""
    for name in SUBSTITUTED:
        if hasattr(module, name):
            setattr(module, name, getattr(ringq, name))
    # PySimpleQueueTest tests the pure-Python SimpleQueue under this name.
    module._PySimpleQueue = ringq.SimpleQueue  # type: ignore[attr-defined]


def tests_of(suite: unittest.TestSuite) -> list[unittest.TestCase]:
    found: list[unittest.TestCase] = []
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            found.extend(tests_of(test))
        else:
            found.append(test)
    return found


def main() -> int:
    from test import test_queue  # the interpreter's own copy

    modules = [m for m in (test_queue.py_queue, test_queue.c_queue) if m is not None]
    for module in modules:
        substitute(module)
        assert module.Queue is ringq.Queue and module.PriorityQueue is ringq.PriorityQueue

    tests = tests_of(unittest.defaultTestLoader.loadTestsFromModule(test_queue))
    skipped_here = 0
    for test in tests:
        case, method = type(test).__name__, test._testMethodName
        reason = SKIPPED.get(f"{case}.{method}") or SKIPPED.get(f"*.{method}")
        if reason is not None:
            setattr(test, method, unittest.skip(reason)(getattr(test, method)))
            skipped_here += 1

    version = ".".join(map(str, sys.version_info[:3]))
    print(f"CPython {version}: Lib/test/test_queue.py against ringq {ringq.__version__} from {ringq.__file__}", flush=True)
    result = unittest.TextTestRunner(verbosity=1, stream=sys.stdout).run(unittest.TestSuite(tests))
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped) - len(result.expectedFailures)
    print(
        f"CPython {version} test_queue on ringq: {passed} passed, {len(result.skipped)} skipped"
        f" ({skipped_here} by name here), {failed} failed, of {result.testsRun}"
    )
    if result.testsRun == 0:
        return 1
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
