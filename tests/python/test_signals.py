"""Ctrl-C reaches a thread blocked in get, put or join.

Another thread sends SIGINT to the main thread (or simulates it with
_thread.interrupt_main) while the main thread waits. The only timing here
is a watchdog that unblocks the wait after a long time, so that a missing
KeyboardInterrupt fails the test instead of hanging it.
"""

from __future__ import annotations

import _thread
import signal
import sys
import threading
import weakref
from typing import Any, Callable

import pytest

import ringq

WATCHDOG_S = 60.0


class Payload:
    """An item that can be weakly referenced."""


def send_sigint() -> None:
    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)


SENDERS: dict[str, Callable[[], None]] = {
    "pthread_kill": send_sigint,
    "interrupt_main": _thread.interrupt_main,
}


def interrupt_while_blocked(block: Callable[[], Any], unblock: Callable[[], None], send: Callable[[], None]) -> None:
    """Runs block() on the main thread while a helper interrupts it.

    The helper sends SIGINT every so often until block() has been
    interrupted, so one of them surely lands while block() waits; the
    watchdog calls unblock() if that never happens. The SIGINT handler
    raises KeyboardInterrupt (as Python's default one does) for the first
    signal only, so a late extra signal cannot escape the test.
    """
    assert threading.current_thread() is threading.main_thread()
    interrupted = threading.Event()

    def raise_once(signum: int, frame: object) -> None:
        if not interrupted.is_set():
            interrupted.set()
            raise KeyboardInterrupt

    def interrupter() -> None:
        waited = 0.0
        while not interrupted.wait(0.2):
            waited += 0.2
            if waited >= WATCHDOG_S:
                unblock()
                return
            send()

    old = signal.signal(signal.SIGINT, raise_once)
    helper = threading.Thread(target=interrupter, daemon=True)
    try:
        helper.start()
        with pytest.raises(KeyboardInterrupt):
            block()
    finally:
        interrupted.set()
        helper.join()
        signal.signal(signal.SIGINT, old)


@pytest.fixture(params=sorted(SENDERS))
def send(request: pytest.FixtureRequest) -> Callable[[], None]:
    return SENDERS[request.param]


def test_get_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.Queue()
    interrupt_while_blocked(q.get, lambda: q.put("watchdog"), send)


def test_get_with_timeout_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.Queue()
    interrupt_while_blocked(lambda: q.get(timeout=3600), lambda: q.put("watchdog"), send)


def test_put_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.Queue(1)
    q.put(0)
    item = Payload()
    ref = weakref.ref(item)
    interrupt_while_blocked(lambda: q.put(item), q.get_nowait, send)
    assert q.unfinished_tasks == 1  # the interrupted put is not a task
    del item
    assert ref() is None  # and the queue did not keep its item


def test_join_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.Queue()
    q.put(1)
    interrupt_while_blocked(q.join, q.task_done, send)


def test_simple_get_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.SimpleQueue()
    interrupt_while_blocked(q.get, lambda: q.put("watchdog"), send)


def test_get_many_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.SimpleQueue()
    interrupt_while_blocked(lambda: q.get_many(10), lambda: q.put("watchdog"), send)


def test_spsc_get_is_interruptible_and_releases_the_side(send: Callable[[], None]) -> None:
    q = ringq.SPSCQueue(4)
    interrupt_while_blocked(q.get, q.shutdown, send)
    # The interrupted get gave the consumer side back.
    q.put(1)
    assert q.get() == 1


def test_spsc_put_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.SPSCQueue(1)
    q.put(0)
    interrupt_while_blocked(lambda: q.put(1), q.shutdown, send)
    assert q.get() == 0


def test_other_threads_keep_running_while_main_waits() -> None:
    """A blocked get releases the GIL: a worker thread makes progress and
    feeds the waiting main thread."""
    q = ringq.Queue()

    def worker() -> None:
        total = sum(range(100_000))
        q.put(total)

    t = threading.Thread(target=worker)
    t.start()
    assert q.get(timeout=WATCHDOG_S) == sum(range(100_000))
    t.join()


def test_custom_signal_handler_exception_propagates() -> None:
    if sys.platform == "win32":
        pytest.skip("POSIX signals")

    class Custom(Exception):
        pass

    interrupted = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if not interrupted.is_set():  # once: a late signal must not escape
            interrupted.set()
            raise Custom

    old = signal.signal(signal.SIGUSR1, handler)
    try:
        q = ringq.Queue()

        def sender() -> None:
            while not interrupted.wait(0.2):
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        try:
            with pytest.raises(Custom):
                q.get(timeout=WATCHDOG_S)
        finally:
            interrupted.set()
            t.join()
    finally:
        signal.signal(signal.SIGUSR1, old)
