"""Ctrl-C never loses or duplicates an item.

A blocking get either raises before it takes anything, or returns what it
took; a blocking put either raises before it puts anything, or returns
having put it. Each trial blocks the main thread in a call, has a helper
thread send SIGINT to it and then, a moment later (0 to 1.5 ms), make the
call possible (put an item, or take one to make room). The signal handler
raises KeyboardInterrupt. The call is written as Python code uses it,
``got.append(q.get())``: if the call took an item and a handler was pending,
the interpreter runs the handler as soon as the call returns and the item is
dropped on the floor. Afterwards every item must be accounted for exactly:
returned, or still in the queue.
"""

from __future__ import annotations

import functools
import queue
import random
import signal
import sys
import threading
import time
from typing import Any, Callable

import pytest

import ringq

TRIALS = 25
# The helper waits this long at most for the main thread to block.
WATCHDOG_S = 60.0


def sleeping_getters(q: Any) -> int:
    if isinstance(q, ringq.ProcessQueue):
        return q.waiting_getters()
    if isinstance(q, ringq.SPSCQueue):
        return -1  # no count: the helper gives the get a moment instead
    return int(q._waiting()[0])


def sleeping_putters(q: Any) -> int:
    if isinstance(q, ringq.ProcessQueue):
        return q.waiting_putters()
    if isinstance(q, ringq.SPSCQueue):
        return -1
    return int(q._waiting()[1])


def wait_blocked(count: Callable[[], int]) -> None:
    deadline = time.monotonic() + WATCHDOG_S
    n = count()
    if n < 0:
        time.sleep(0.003)
        return
    while n == 0:
        assert time.monotonic() < deadline, "the main thread never blocked"
        time.sleep(0.0002)
        n = count()


def trials(
    blocked: Callable[[], int],
    call: Callable[[], Any],
    unblock: Callable[[], None],
    prepare: Callable[[], None] = lambda: None,
) -> int:
    """Runs `prepare()`, then `call` on the main thread, TRIALS times, each
    call interrupted by a SIGINT that a helper sends once `blocked()` says
    the call sleeps, just before it runs `unblock()`. Returns how many calls
    raised KeyboardInterrupt."""
    assert threading.current_thread() is threading.main_thread()
    main = threading.main_thread().ident or 0
    armed = threading.Event()

    def raise_once(signum: int, frame: object) -> None:
        if armed.is_set():
            armed.clear()
            raise KeyboardInterrupt

    rng = random.Random(1234)
    interrupted = 0
    old = signal.signal(signal.SIGINT, raise_once)
    try:
        for _ in range(TRIALS):
            prepare()
            delay = rng.uniform(0.0, 0.0015)

            def helper() -> None:
                wait_blocked(blocked)
                armed.set()
                signal.pthread_kill(main, signal.SIGINT)
                end = time.perf_counter() + delay
                while time.perf_counter() < end:
                    pass
                unblock()

            thread = threading.Thread(target=helper)
            try:
                thread.start()
                call()
            except KeyboardInterrupt:
                interrupted += 1
            # A handler still pending (it can only be ours) runs here.
            while thread.is_alive() or armed.is_set():
                try:
                    thread.join(0.001)
                except KeyboardInterrupt:
                    interrupted += 1
    finally:
        signal.signal(signal.SIGINT, old)
    return interrupted


def drain(q: Any) -> list[Any]:
    out = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out


THREAD_CLASSES = [ringq.Queue, ringq.SimpleQueue, ringq.LifoQueue, ringq.PriorityQueue]
LINUX = sys.platform.startswith("linux")


def queues() -> list[Any]:
    out: list[Any] = [pytest.param(cls, id=cls.__name__) for cls in THREAD_CLASSES]
    out.append(pytest.param(lambda: ringq.SPSCQueue(64), id="SPSCQueue"))
    if LINUX:
        out.append(pytest.param(lambda: ringq.ProcessQueue(64), id="ProcessQueue"))
        out.append(pytest.param(lambda: ringq.JoinableProcessQueue(64), id="JoinableProcessQueue"))
    return out


GETS = {
    "get": (lambda q: q.get, 1),
    "get_timeout": (lambda q: functools.partial(q.get, timeout=WATCHDOG_S), 1),
    "get_many": (lambda q: functools.partial(q.get_many, 8), 8),
    "get_many_timeout": (lambda q: functools.partial(q.get_many, 8, timeout=WATCHDOG_S), 8),
}


@pytest.mark.parametrize("make", queues())
@pytest.mark.parametrize("how", list(GETS))
def test_an_interrupted_get_loses_nothing(make: Callable[[], Any], how: str) -> None:
    q = make()
    getter, batch = GETS[how]
    take = getter(q)
    got: list[Any] = []
    sent: list[int] = []

    def call() -> None:
        if batch == 1:
            got.append(take())
        else:
            got.extend(take())

    def unblock() -> None:
        items = list(range(len(sent), len(sent) + batch))
        if batch == 1:
            q.put(items[0])
        else:
            q.put_many(items)
        sent.extend(items)

    def prepare() -> None:
        # What an interrupted call left in the queue: the next get would
        # take it without blocking.
        got.extend(drain(q))

    interrupted = trials(lambda: sleeping_getters(q), call, unblock, prepare)
    assert interrupted > 0  # the race was run
    left = drain(q)
    assert sorted(got + left) == sent, f"{interrupted} interrupted, {len(got)} returned, {len(left)} left"


PUTS = {
    "put": lambda q, x: q.put(x),
    "put_timeout": lambda q, x: q.put(x, timeout=WATCHDOG_S),
    "put_many": lambda q, x: q.put_many([x]),
}


def bounded_queues() -> list[Any]:
    out: list[Any] = [
        pytest.param(lambda cls=cls: cls(1), id=cls.__name__) for cls in (ringq.Queue, ringq.LifoQueue, ringq.PriorityQueue)
    ]
    out.append(pytest.param(lambda: ringq.SPSCQueue(1), id="SPSCQueue"))
    if LINUX:
        out.append(pytest.param(lambda: ringq.ProcessQueue(1), id="ProcessQueue"))
    return out


@pytest.mark.parametrize("make", bounded_queues())
@pytest.mark.parametrize("how", list(PUTS))
def test_an_interrupted_put_puts_nothing(make: Callable[[], Any], how: str) -> None:
    q = make()
    put = PUTS[how]
    q.put(-1)
    accepted: list[int] = [-1]
    taken: list[Any] = []
    counter = iter(range(10**9))

    def call() -> None:
        item = next(counter)
        put(q, item)
        accepted.append(item)

    def unblock() -> None:
        taken.append(q.get_nowait())

    def prepare() -> None:
        # An interrupted put left the room that was made for it.
        if q.qsize() == 0:
            item = next(counter)
            q.put_nowait(item)
            accepted.append(item)

    interrupted = trials(lambda: sleeping_putters(q), call, unblock, prepare)
    assert interrupted > 0
    # A put that took place but raised would leave an item nobody accepted;
    # one that returned without putting would lose one.
    left = drain(q)
    assert sorted(taken + left) == sorted(accepted), f"{interrupted} interrupted"
