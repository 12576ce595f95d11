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
import time
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


def interrupt_while_blocked(
    block: Callable[[], Any],
    unblock: Callable[[], None],
    send: Callable[[], None],
    parked: Callable[[], bool] | None = None,
) -> None:
    """Runs block() on the main thread while a helper interrupts it.

    The helper first waits until parked() says the main thread sleeps in
    the queue (where a count is available), then sends SIGINT every so
    often until block() has been interrupted, so one of them surely lands
    while block() waits; the watchdog calls unblock() if that never
    happens. The SIGINT handler raises KeyboardInterrupt (as Python's
    default one does) for the first signal only, so a late extra signal
    cannot escape the test.
    """
    assert threading.current_thread() is threading.main_thread()
    interrupted = threading.Event()

    def raise_once(signum: int, frame: object) -> None:
        if not interrupted.is_set():
            interrupted.set()
            raise KeyboardInterrupt

    def interrupter() -> None:
        deadline = time.monotonic() + WATCHDOG_S
        while parked is not None and not parked():
            if time.monotonic() > deadline:
                unblock()
                return
            time.sleep(0.001)
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


def getter_parked(q: Any) -> Callable[[], bool]:
    return lambda: bool(q._waiting() == (1, 0))


def putter_parked(q: Any) -> Callable[[], bool]:
    return lambda: bool(q._waiting() == (0, 1))


@pytest.fixture(params=sorted(SENDERS))
def send(request: pytest.FixtureRequest) -> Callable[[], None]:
    return SENDERS[request.param]


def test_get_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.Queue()
    interrupt_while_blocked(q.get, lambda: q.put("watchdog"), send, getter_parked(q))


def test_get_with_timeout_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.Queue()
    interrupt_while_blocked(lambda: q.get(timeout=3600), lambda: q.put("watchdog"), send, getter_parked(q))


def test_put_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.Queue(1)
    q.put(0)
    item = Payload()
    ref = weakref.ref(item)
    interrupt_while_blocked(lambda: q.put(item), q.get_nowait, send, putter_parked(q))
    assert q.unfinished_tasks == 1  # the interrupted put is not a task
    del item
    assert ref() is None  # and the queue did not keep its item


def test_join_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.Queue()
    q.put(1)
    # No count of threads in join() to wait for: the first signal comes
    # 0.2 s after join() began, and later ones until one lands.
    interrupt_while_blocked(q.join, q.task_done, send)


def test_simple_get_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.SimpleQueue()
    interrupt_while_blocked(q.get, lambda: q.put("watchdog"), send, getter_parked(q))


def test_get_many_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.SimpleQueue()
    interrupt_while_blocked(lambda: q.get_many(10), lambda: q.put("watchdog"), send, getter_parked(q))


def test_spsc_get_is_interruptible_and_releases_the_side(send: Callable[[], None]) -> None:
    q = ringq.SPSCQueue(4)
    interrupt_while_blocked(q.get, q.shutdown, send, getter_parked(q))
    # The interrupted get gave the consumer side back.
    q.put(1)
    assert q.get() == 1


def test_spsc_put_is_interruptible(send: Callable[[], None]) -> None:
    q = ringq.SPSCQueue(1)
    q.put(0)
    interrupt_while_blocked(lambda: q.put(1), q.shutdown, send, putter_parked(q))
    assert q.get() == 0


@pytest.mark.parametrize("kind", ["LifoQueue", "PriorityQueue"])
def test_lifo_priority_get_put_join_are_interruptible(kind: str, send: Callable[[], None]) -> None:
    q = getattr(ringq, kind)(1)
    interrupt_while_blocked(q.get, lambda: q.put(0), send, getter_parked(q))
    q.put(1)
    interrupt_while_blocked(lambda: q.put(2), q.get_nowait, send, putter_parked(q))
    interrupt_while_blocked(q.join, lambda: None, send)
    assert q.unfinished_tasks == 1


def test_wait_for_a_busy_priority_queue_is_interruptible(send: Callable[[], None]) -> None:
    """A thread waiting for another thread's operation (stuck in a slow
    comparison) to let go of the heap is interruptible too."""
    q = ringq.PriorityQueue()
    inside, release = threading.Event(), threading.Event()

    class Stuck:
        def __lt__(self, other: Any) -> bool:
            inside.set()
            release.wait(WATCHDOG_S)
            return False

    q.put(Stuck())
    t = threading.Thread(target=q.put, args=(Stuck(),))
    t.start()
    assert inside.wait(WATCHDOG_S)
    try:
        interrupt_while_blocked(lambda: q.put(1), release.set, send)
    finally:
        release.set()
        t.join(WATCHDOG_S)
    assert q.qsize() == 2  # the interrupted put added nothing


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
