"""Shared fixtures: the implementations each suite runs against."""

from __future__ import annotations

import queue
import sys
import threading
import time
from types import ModuleType
from typing import Any, Callable

import pytest

import ringq

# Python 3.13 added Queue.shutdown and queue.ShutDown to the standard library.
STDLIB_HAS_SHUTDOWN = hasattr(queue.Queue, "shutdown")


@pytest.fixture(params=[queue, ringq], ids=["stdlib", "ringq"])
def qmod(request: pytest.FixtureRequest) -> ModuleType:
    """The queue module under test: the standard library or ringq."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(
    params=[
        pytest.param(queue, id="stdlib", marks=pytest.mark.skipif(not STDLIB_HAS_SHUTDOWN, reason="stdlib shutdown is 3.13+")),
        pytest.param(ringq, id="ringq"),
    ]
)
def shutdown_mod(request: pytest.FixtureRequest) -> ModuleType:
    """A queue module whose Queue has shutdown(): ringq, and the standard
    library on Python 3.13+ (so ringq is checked against it there)."""
    return request.param  # type: ignore[no-any-return]


def run_threads(targets: list[Callable[[], Any]], timeout: float = 120.0) -> None:
    """Runs each target in its own thread; re-raises the first failure."""
    errors: list[BaseException] = []

    def wrap(target: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        return run

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), f"thread {t.name} did not finish in {timeout} s"
    if errors:
        raise errors[0]


def wait_until_parked(q: Any, getters: int = 0, putters: int = 0, timeout: float = 60.0) -> None:
    """Returns once exactly `getters` threads are parked waiting for an item
    and `putters` for room in ringq queue `q` (its `_waiting()` count), so a
    wake-up test knows the waiter really sleeps before it acts. A standard
    library queue has no such count: then it returns at once."""
    if type(q).__module__ == "queue":
        return
    deadline = time.monotonic() + timeout
    while q._waiting() != (getters, putters):
        assert time.monotonic() < deadline, f"waiters never parked: {q._waiting()} != {(getters, putters)}"
        time.sleep(0.001)


def shutdown_exc(mod: ModuleType) -> type[BaseException]:
    return mod.ShutDown  # type: ignore[no-any-return]


__all__ = ["STDLIB_HAS_SHUTDOWN", "run_threads", "shutdown_exc", "sys", "wait_until_parked"]
