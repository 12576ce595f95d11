"""Ctrl-C reaches a thread blocked in a ProcessQueue's get, put or join.

A helper thread sends SIGINT to the main thread again and again until the
blocked call raises KeyboardInterrupt; a watchdog unblocks the call after
a long time, so a missing KeyboardInterrupt fails the test instead of
hanging it. The queue keeps working afterwards.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any, Callable

import pytest

import ringq

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="shared memory queues need Linux")

WATCHDOG_S = 60.0


def interrupt_while_blocked(block: Callable[[], Any], unblock: Callable[[], None], is_waiting: Callable[[], bool]) -> None:
    """Runs block() on the main thread; once is_waiting() says it sleeps in
    the queue, a helper sends SIGINT until block() raises."""
    assert threading.current_thread() is threading.main_thread()
    interrupted = threading.Event()

    def raise_once(signum: int, frame: object) -> None:
        if not interrupted.is_set():
            interrupted.set()
            raise KeyboardInterrupt

    def interrupter() -> None:
        waited = 0.0
        while not interrupted.wait(0.05):
            waited += 0.05
            if waited >= WATCHDOG_S:
                unblock()
                return
            if is_waiting():
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

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


def test_ctrl_c_interrupts_get() -> None:
    q: ringq.ProcessQueue[Any] = ringq.ProcessQueue(2)
    interrupt_while_blocked(q.get, lambda: q.put("watchdog"), lambda: q.waiting_getters() > 0)
    q.put(1)
    assert q.get() == 1


def test_ctrl_c_interrupts_get_with_timeout_and_batches() -> None:
    q: ringq.ProcessQueue[Any] = ringq.ProcessQueue(2)
    interrupt_while_blocked(
        lambda: q.get_many_bytes(4, timeout=WATCHDOG_S * 2),
        lambda: q.put_bytes(b"watchdog"),
        lambda: q.waiting_getters() > 0,
    )


def test_ctrl_c_interrupts_put() -> None:
    q: ringq.ProcessQueue[Any] = ringq.ProcessQueue(1)
    q.put(0)
    interrupt_while_blocked(lambda: q.put(1), q.get_nowait, lambda: q.waiting_putters() > 0)
    assert q.get_many(4) == [0]  # the interrupted put put nothing


def test_ctrl_c_interrupts_put_many() -> None:
    q: ringq.JoinableProcessQueue[Any] = ringq.JoinableProcessQueue(2)
    interrupt_while_blocked(lambda: q.put_many(range(5)), lambda: q.get_many(5), lambda: q.waiting_putters() > 0)
    assert q.get_many(5) == [0, 1]
    # Only what went in counts as a task.
    assert q.unfinished_tasks == 2


def main_thread_runs(function: Callable[..., Any]) -> bool:
    """Whether the main thread is executing `function`'s code right now."""
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    return frame is not None and frame.f_code is function.__code__


def test_ctrl_c_interrupts_join() -> None:
    q: ringq.JoinableProcessQueue[Any] = ringq.JoinableProcessQueue(2)
    q.put(1)

    def join() -> None:
        q.join()

    # join() sleeps on the task counter, which counts no sleepers: send
    # the signal once the main thread is in the call. The watchdog marks
    # the task done if the interrupt never lands.
    interrupt_while_blocked(join, q.task_done, lambda: main_thread_runs(join))
    assert q.unfinished_tasks == 1
    q.get()
    q.task_done()
    q.join()
