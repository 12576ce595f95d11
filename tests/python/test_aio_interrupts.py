"""The async face when the process around it is disturbed: Ctrl-C while a
coroutine waits, fork() while coroutines wait, and loops in many threads
that cancel their calls at random points on one queue.

Every wait here is bounded by a hang guard, so a regression fails its test
instead of hanging the suite; only a failing test ever gets near one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import json
import os
import queue
import random
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from concurrent.futures import Future
from typing import Any, Callable, ContextManager, Iterator

import pytest

import ringq

HANG_GUARD_S = 30.0

# --- Ctrl-C ---------------------------------------------------------------

# A fresh interpreter that waits in one of the ways below, prints "ready"
# once the waiter is registered (or parked), and on the way out, however it
# leaves, prints what the queue holds and who still waits on it as JSON.
# SIGINT gets Python's own handler back: a shell may have started this
# process (and so the child) with the signal ignored.
INTERRUPTED_CHILD = textwrap.dedent(
    """
    import asyncio, faulthandler, json, signal, sys, threading, weakref
    import ringq

    faulthandler.dump_traceback_later(HANG_GUARD_S, exit=True)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    case, runner = sys.argv[1], sys.argv[2]
    if runner == "uvloop":
        import uvloop
        run = uvloop.run
    else:
        run = asyncio.run

    class Payload:
        pass

    q = ringq.Queue(1)
    report = {}
    expect = {
        "get": ((1, 0), (0, 0)),
        "put": ((0, 1), (0, 0)),
        "join": ((0, 0), (0, 0)),
        "get beside a thread's get": ((1, 0), (1, 0)),
        "sync get beside a loop's get": ((1, 0), (1, 0)),
    }

    async def announce(coroutines, threads):
        while q._waiting_coroutines() != coroutines or q._waiting() != threads:
            await asyncio.sleep(0.001)
        print("ready", flush=True)

    async def wait():
        asyncio.ensure_future(announce(*expect[case]))
        if case == "put":
            await q.async_put(item)
        elif case == "join":
            await q.async_join()
        else:
            report["coroutine got"] = await q.async_get()

    def sync_get():
        report["thread got"] = q.get()

    thread = None
    item = Payload()
    item_ref = weakref.ref(item)
    if case == "put":
        q.put("first")
    if case == "join":
        q.put("undone")
        q.get()
    if case == "get beside a thread's get":
        thread = threading.Thread(target=sync_get)
        thread.start()
    try:
        if case == "sync get beside a loop's get":
            # The loop's coroutine says "ready" once this thread waits too.
            thread = threading.Thread(target=lambda: run(wait()))
            thread.start()
            report["main got"] = q.get()
        else:
            run(wait())
    finally:
        report["coroutines waiting"] = q._waiting_coroutines()
        if thread is not None:
            # The other waiter is still there: it, and nobody else, gets this.
            q.put("after")
            thread.join(HANG_GUARD_S)
            report["other unwound"] = not thread.is_alive()
        report["threads waiting"] = q._waiting()
        report["coroutines waiting after"] = q._waiting_coroutines()
        report["left"] = [q.get_nowait() for _ in range(q.qsize())]
        report["unfinished"] = q.unfinished_tasks
        del item
        report["item released"] = item_ref() is None
        print(json.dumps(report), flush=True)
    """
).replace("HANG_GUARD_S", repr(HANG_GUARD_S))

# Lines of a traceback that name an exception (its last line, or a chained
# one), and what an interrupted asyncio.run may show: the main task's
# cancellation, during whose handling the runner raises KeyboardInterrupt.
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Warning|Exit)\b.*$", re.MULTILINE)
ALLOWED_EXCEPTIONS = {"KeyboardInterrupt", "asyncio.exceptions.CancelledError"}
SIGINT_PROMPTLY_S = 5.0


def interrupt_child(case: str, runner: str) -> tuple[dict[str, Any], str]:
    """Starts the child, sends SIGINT once it waits, checks it left at once
    by KeyboardInterrupt and nothing else; returns its report and stderr."""
    with subprocess.Popen(
        [sys.executable, "-W", "error", "-c", INTERRUPTED_CHILD, case, runner],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            ready = child.stdout.readline()
            assert ready == "ready\n", (ready, child.communicate(timeout=HANG_GUARD_S))
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=HANG_GUARD_S)
            took = time.monotonic() - sent
        finally:
            if child.poll() is None:
                child.kill()
    assert child.returncode == -signal.SIGINT, (child.returncode, out, err)
    assert took < SIGINT_PROMPTLY_S, f"KeyboardInterrupt came {took:.1f} s after SIGINT"
    assert err.rstrip().splitlines()[-1] == "KeyboardInterrupt", err
    named = {m.group(0).split(":")[0] for m in EXCEPTION_LINE.finditer(err)}
    assert named <= ALLOWED_EXCEPTIONS, err
    for symptom in ("Task was destroyed", "Exception ignored", "Fatal Python error", "never awaited"):
        assert symptom not in err, err
    return json.loads(out.splitlines()[-1]), err


RUNNERS = [
    pytest.param("asyncio", id="asyncio"),
    pytest.param(
        "uvloop",
        id="uvloop",
        marks=pytest.mark.skipif(importlib.util.find_spec("uvloop") is None, reason="uvloop is not installed"),
    ),
]


@pytest.mark.parametrize("runner", RUNNERS)
def test_ctrl_c_while_a_coroutine_awaits_a_get(runner: str) -> None:
    report, _ = interrupt_child("get", runner)
    assert report == {
        "coroutines waiting": [0, 0],
        "threads waiting": [0, 0],
        "coroutines waiting after": [0, 0],
        "left": [],
        "unfinished": 0,
        "item released": True,
    }


def test_ctrl_c_while_a_coroutine_awaits_a_put_puts_nothing() -> None:
    """The interrupted put either put its item or not, and a put that was
    cancelled while it waited did not: the queue holds the first item only,
    and has let the second go."""
    report, _ = interrupt_child("put", "asyncio")
    assert report == {
        "coroutines waiting": [0, 0],
        "threads waiting": [0, 0],
        "coroutines waiting after": [0, 0],
        "left": ["first"],
        "unfinished": 1,
        "item released": True,
    }


def test_ctrl_c_while_a_coroutine_awaits_a_join() -> None:
    report, _ = interrupt_child("join", "asyncio")
    assert report == {
        "coroutines waiting": [0, 0],
        "threads waiting": [0, 0],
        "coroutines waiting after": [0, 0],
        "left": [],
        "unfinished": 1,
        "item released": True,
    }


def test_ctrl_c_reaches_the_loop_while_a_thread_waits_in_get() -> None:
    """The main thread's loop awaits a get, another thread waits in the
    sync get: Ctrl-C ends the loop, and the item put afterwards goes to the
    thread, which was left waiting as it was."""
    report, _ = interrupt_child("get beside a thread's get", "asyncio")
    assert report == {
        "coroutines waiting": [0, 0],
        "thread got": "after",
        "other unwound": True,
        "threads waiting": [0, 0],
        "coroutines waiting after": [0, 0],
        "left": [],
        "unfinished": 1,
        "item released": True,
    }


def test_ctrl_c_reaches_a_sync_get_while_a_loop_awaits() -> None:
    """The main thread waits in the sync get, a loop in another thread
    awaits a get: Ctrl-C ends the main thread's get, and the item put
    afterwards goes to the coroutine, which was left waiting as it was."""
    report, err = interrupt_child("sync get beside a loop's get", "asyncio")
    assert "CancelledError" not in err
    assert report == {
        "coroutines waiting": [1, 0],
        "coroutine got": "after",
        "other unwound": True,
        "threads waiting": [0, 0],
        "coroutines waiting after": [0, 0],
        "left": [],
        "unfinished": 1,
        "item released": True,
    }


# --- fork -----------------------------------------------------------------

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
WAITERS = 3
# How long the child's coroutine waits for an item a thread puts at once.
CHILD_WAIT_S = 2.0


class BackgroundLoop:
    """An event loop running forever in a thread of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def submit(self, coroutine: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(HANG_GUARD_S)
        assert not self.thread.is_alive()
        self.loop.close()


def forking() -> ContextManager[Any]:
    """Where os.fork() runs: 3.12+ warns that forking a process with threads
    may deadlock the child, which is what these tests look at."""
    if sys.version_info >= (3, 12):
        return pytest.warns(DeprecationWarning, match=r"fork\(\)")
    return contextlib.nullcontext()


def reap(pid: int) -> str:
    """Waits for a child; kills it after the hang guard. Returns "ok",
    "failed" or "hung"."""
    deadline = time.monotonic() + HANG_GUARD_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return "ok" if os.waitstatus_to_exitcode(status) == 0 else "failed"
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "hung"
        time.sleep(0.002)


def child_puts_and_gets(q: Any) -> None:
    q.put("a")
    q.put_many(["b", "c"])
    assert q.get_nowait() == "a"
    assert q.get_many(5) == ["b", "c"]
    with pytest.raises(queue.Empty):
        q.get_nowait()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)


def child_awaits_a_threads_put(q: Any) -> None:
    async def main() -> Any:
        getter = asyncio.ensure_future(q.async_get())
        await asyncio.sleep(0.01)
        putter = threading.Thread(target=q.put, args=("from a child thread",))
        putter.start()
        try:
            return await asyncio.wait_for(getter, CHILD_WAIT_S)
        finally:
            putter.join(HANG_GUARD_S)

    assert asyncio.run(main()) == "from a child thread"
    assert q.qsize() == 0


@needs_fork
@pytest.mark.parametrize(
    "child",
    [
        pytest.param(child_puts_and_gets, id="sync"),
        pytest.param(child_awaits_a_threads_put, id="async"),
    ],
)
def test_fork_while_coroutines_wait(child: Callable[[Any], None]) -> None:
    """The parent's coroutines wait in async_get on a loop in another thread
    when the main thread forks. The child can use the queue, without
    waiting on anything from the parent; the parent's coroutines still get
    the items put afterwards, each one exactly once."""
    q: Any = ringq.Queue()
    background = BackgroundLoop()
    try:

        async def wait() -> Any:
            return await q.async_get()

        waiting = [background.submit(wait()) for _ in range(WAITERS)]
        deadline = time.monotonic() + HANG_GUARD_S
        while q._waiting_coroutines() != (WAITERS, 0):
            assert time.monotonic() < deadline, q._waiting_coroutines()
            time.sleep(0.001)
        with forking():
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    child(q)
                    code = 0
                except BaseException:  # noqa: BLE001 - reported through the exit code
                    traceback.print_exc()
                finally:
                    os._exit(code)
        outcome = reap(pid)
        for i in range(WAITERS):
            q.put(i)
        assert sorted(f.result(HANG_GUARD_S) for f in waiting) == list(range(WAITERS))
        assert q._waiting_coroutines() == (0, 0)
        assert q.qsize() == 0
    finally:
        background.close()
    assert outcome == "ok"


# --- cancellation across loops --------------------------------------------


@contextlib.contextmanager
def released_on_failure(q: Any) -> Iterator[None]:
    """Shuts `q` down if the block fails, so no thread stays blocked on it."""
    try:
        yield
    except BaseException:
        q.shutdown(immediate=True)
        raise


def test_cancellation_storm_across_loops() -> None:
    """Loops in several threads each put and get on one queue, cancelling
    their calls at random points (before the first step, while registered,
    after being told), while plain threads put and get: every item put is
    received exactly once.

    Some calls wait with no timeout, so a wake-up lost to a cancelled
    waiter hangs a loop (and fails the test) instead of being covered by a
    timeout."""
    loops, per = 3, 4000
    q: Any = ringq.Queue(8)
    put_ok: list[list[int]] = [[] for _ in range(loops + 1)]
    got: list[list[int]] = [[] for _ in range(loops + 1)]
    producers_left = [loops + 1]
    producers_lock = threading.Lock()
    all_put = threading.Event()
    errors: list[BaseException] = []

    def produced() -> None:
        with producers_lock:
            producers_left[0] -= 1
            if producers_left[0] == 0:
                all_put.set()

    async def attempt(rng: random.Random, call: Callable[..., Any]) -> tuple[bool, Any]:
        """One call (`call(timeout=...)` makes it), waited for without a
        limit, or ended at a random point: (whether it completed, result)."""
        choice = rng.random()
        try:
            if choice < 0.2:
                return True, await call()
            if choice < 0.5:
                return True, await asyncio.wait_for(call(), rng.random() * 2e-4)
            if choice < 0.85:
                task = asyncio.ensure_future(call())
                for _ in range(rng.randrange(3)):
                    await asyncio.sleep(0)
                task.cancel()
                return True, await task
            return True, await call(timeout=rng.random() * 2e-4)
        except (asyncio.TimeoutError, asyncio.CancelledError, queue.Empty, queue.Full):
            return False, None

    def in_loop(k: int) -> None:
        rng = random.Random(k)

        async def produce() -> None:
            for i in range(k * per, (k + 1) * per):
                done, _ = await attempt(rng, lambda timeout=None, i=i: q.async_put(i, timeout=timeout))
                if done:
                    put_ok[k].append(i)
            produced()

        async def consume() -> None:
            while True:
                done, item = await attempt(rng, q.async_get)
                if done:
                    if item is None:
                        return
                    got[k].append(item)

        async def main() -> None:
            await asyncio.gather(produce(), consume())

        asyncio.run(main())

    def plain_producer() -> None:
        for i in range(loops * per, (loops + 1) * per):
            q.put(i)
            put_ok[loops].append(i)
        produced()

    def plain_consumer() -> None:
        while (item := q.get()) is not None:
            got[loops].append(item)

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                q.shutdown(immediate=True)

        return run

    targets = [functools.partial(in_loop, k) for k in range(loops)] + [plain_producer, plain_consumer]
    threads = [threading.Thread(target=guarded(t), daemon=True) for t in targets]
    with released_on_failure(q):
        for t in threads:
            t.start()
        assert all_put.wait(HANG_GUARD_S) or errors, "the producers did not finish"
        # One end marker for each consumer: the loops' and the plain one.
        for _ in range(loops + 1):
            q.put(None)
        for t in threads:
            t.join(HANG_GUARD_S)
            assert not t.is_alive(), "a consumer did not finish: a wake-up was lost"
    if errors:
        raise errors[0]
    received = sum(got, [])
    assert len(received) == len(set(received))
    assert sorted(received) == sorted(sum(put_ok, []))
    assert len(put_ok[loops]) == per
    assert q.qsize() == 0
    assert q._waiting_coroutines() == (0, 0)
    assert q._waiting() == (0, 0)
