"""The readiness descriptor (fileno) and the async methods of the process
queues: select and multiprocessing.connection.wait on a ProcessQueue, and
coroutines fed by, and feeding, other processes."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import queue
import random
import select
import threading
import time
from multiprocessing.connection import wait as connection_wait
from typing import Any, List

import pytest

import ringq
from ringq import _process_aio

from process_helpers import HANG_GUARD_S

pytestmark = [
    # 3.12+ warns that forking a process with threads (pytest's watchdog,
    # a queue's readiness thread) may deadlock the child; these children
    # only use the queue, asyncio and multiprocessing.
    pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning"),
]

FORK = mp.get_context("fork")


def live_readers() -> int:
    """The loops' descriptor registrations still alive."""
    return sum(r() is not None for regs in _process_aio._READERS.values() for r in regs.values())


def readable(fd: int, within: float) -> bool:
    return bool(select.select([fd], [], [], within)[0])


def drain(q: Any) -> List[Any]:
    out = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out


def produce(q: Any, first: int, n: int) -> None:
    for i in range(first, first + n):
        q.put(i)


def consume(q: Any, n: int, out: Any) -> None:
    out.send(sorted(q.get(timeout=HANG_GUARD_S) for _ in range(n)))


def test_fileno_is_readable_while_a_message_may_be_waiting() -> None:
    q = ringq.ProcessQueue(4)
    fd = q.fileno()
    assert q.fileno() == fd, "one descriptor per object"
    assert not readable(fd, 0.05)
    q.put("a")
    q.put("b")
    assert readable(fd, HANG_GUARD_S)
    assert q.get_nowait() == "a"
    assert readable(fd, 0), "one message is still there"
    assert q.get_nowait() == "b"
    assert not readable(fd, 0.05), "a get that empties the queue rearms it"
    with pytest.raises(queue.Empty):
        q.get_nowait()
    assert not readable(fd, 0.05)


def test_multiprocessing_connection_wait_waits_on_it_beside_a_pipe() -> None:
    q = ringq.ProcessQueue(16)
    reader, writer = FORK.Pipe(duplex=False)
    p = FORK.Process(target=produce, args=(q, 0, 3))
    p.start()
    got: List[int] = []
    while len(got) < 3:
        ready = connection_wait([q, reader], timeout=HANG_GUARD_S)
        assert ready == [q]
        got += drain(q)
    p.join()
    assert got == [0, 1, 2]
    assert connection_wait([q, reader], timeout=0.05) == []
    writer.send("x")
    assert connection_wait([q, reader], timeout=HANG_GUARD_S) == [reader]


def test_shutdown_and_close_make_it_readable() -> None:
    q = ringq.ProcessQueue(4)
    fd = q.fileno()
    q.shutdown()
    assert readable(fd, HANG_GUARD_S)
    with pytest.raises(ringq.ShutDown):
        q.get_nowait()

    other = ringq.ProcessQueue(4)
    fd = other.fileno()
    other.close()
    assert readable(fd, HANG_GUARD_S)
    with pytest.raises(ValueError):
        other.fileno()


def test_coroutines_get_what_processes_put_exactly_once() -> None:
    q = ringq.ProcessQueue(64)
    producers = [FORK.Process(target=produce, args=(q, k * 2000, 2000)) for k in range(3)]

    async def main() -> List[int]:
        for p in producers:
            p.start()

        async def worker() -> List[int]:
            got = []
            while True:
                try:
                    got.append(await q.async_get(timeout=1.0))
                except queue.Empty:
                    return got

        parts = await asyncio.gather(*(worker() for _ in range(4)))
        return [x for part in parts for x in part]

    got = asyncio.run(main())
    for p in producers:
        p.join()
    assert sorted(got) == list(range(6000))


def test_a_coroutine_feeds_a_process_through_a_full_queue() -> None:
    q = ringq.ProcessQueue(8)
    reader, writer = FORK.Pipe(duplex=False)
    p = FORK.Process(target=consume, args=(q, 1000, writer))
    p.start()

    async def main() -> None:
        for i in range(500):
            await q.async_put(i)
        await q.async_put_many(range(500, 1000))

    asyncio.run(main())
    assert reader.recv() == list(range(1000))
    p.join()


def test_timeouts_and_bad_input() -> None:
    q = ringq.ProcessQueue(1)

    async def main() -> None:
        start = time.monotonic()
        with pytest.raises(queue.Empty):
            await q.async_get(timeout=0.05)
        assert time.monotonic() - start >= 0.05
        with pytest.raises(queue.Empty):
            await q.async_get(timeout=0)
        with pytest.raises(queue.Empty):
            await q.async_get_many(4, timeout=0.01)
        await q.async_put(1)
        with pytest.raises(queue.Full):
            await q.async_put(2, timeout=0.05)
        with pytest.raises(queue.Full):
            await q.async_put_many([2, 3], timeout=0.01)
        assert drain(q) == [1]

    asyncio.run(main())
    with pytest.raises(ValueError, match="non-negative"):
        q.async_get(timeout=-1)
    with pytest.raises(ValueError, match="non-negative"):
        q.async_put(1, timeout=-1)
    with pytest.raises(ValueError, match="max_items"):
        q.async_get_many(0)
    with pytest.raises(RuntimeError):
        # Nothing to take: it must wait, and there is no loop to wait on.
        q.async_get().send(None)


def test_async_join_waits_for_task_done_in_another_process() -> None:
    q = ringq.JoinableProcessQueue()

    def work(q: Any) -> None:
        for _ in range(3):
            q.get(timeout=HANG_GUARD_S)
            time.sleep(0.02)
            q.task_done()

    async def main() -> None:
        await q.async_join()  # nothing to wait for
        for i in range(3):
            await q.async_put(i)
        p = FORK.Process(target=work, args=(q,))
        p.start()
        await asyncio.wait_for(q.async_join(), HANG_GUARD_S)
        assert q.unfinished_tasks == 0
        p.join()

    asyncio.run(main())


@pytest.mark.parametrize("immediate", [False, True])
def test_shutdown_wakes_every_waiting_coroutine(immediate: bool) -> None:
    getters = ringq.ProcessQueue(2)
    putters = ringq.ProcessQueue(1)
    putters.put("full")

    async def main() -> None:
        waiting = [asyncio.ensure_future(getters.async_get()) for _ in range(3)]
        waiting += [asyncio.ensure_future(putters.async_put(i)) for i in range(3)]
        await asyncio.sleep(0.05)
        assert not any(t.done() for t in waiting)
        threading.Thread(target=getters.shutdown, args=(immediate,)).start()
        threading.Thread(target=putters.shutdown, args=(immediate,)).start()
        results = await asyncio.wait_for(
            asyncio.gather(*waiting, return_exceptions=True), HANG_GUARD_S
        )
        assert all(isinstance(r, ringq.ShutDown) for r in results), results

    asyncio.run(main())


def test_close_wakes_this_objects_coroutines_with_value_error() -> None:
    q = ringq.ProcessQueue(2)

    async def main() -> None:
        waiter = asyncio.ensure_future(q.async_get())
        await asyncio.sleep(0.05)
        q.close()
        with pytest.raises(ValueError, match="closed"):
            await asyncio.wait_for(waiter, HANG_GUARD_S)

    asyncio.run(main())


def test_cancellation_storm_with_a_producer_process() -> None:
    """Gets cancelled or timed out at random points: every message a
    process put is received exactly once or is still in the queue."""
    n = 3000
    q = ringq.ProcessQueue(64)
    rng = random.Random(7)
    received: List[int] = []
    producer = FORK.Process(target=produce, args=(q, 0, n))

    async def main() -> None:
        producer.start()
        deadline = time.monotonic() + HANG_GUARD_S
        while len(received) < n and time.monotonic() < deadline:
            choice = rng.random()
            try:
                if choice < 0.4:
                    received.append(await asyncio.wait_for(q.async_get(), rng.random() * 1e-3))
                elif choice < 0.7:
                    task = asyncio.ensure_future(q.async_get())
                    for _ in range(rng.randrange(3)):
                        await asyncio.sleep(0)
                    task.cancel()
                    try:
                        received.append(await task)
                    except asyncio.CancelledError:
                        pass
                else:
                    received.append(await q.async_get(timeout=rng.random() * 1e-3))
            except (asyncio.TimeoutError, queue.Empty):
                pass

    asyncio.run(main())
    producer.join()
    assert sorted(received + drain(q)) == list(range(n))


def test_cancellation_storm_with_a_consumer_process() -> None:
    """Puts into a full queue cancelled at random points: each either put
    its message or didn't, and the consumer process gets each put once."""
    n = 2000
    q = ringq.ProcessQueue(4)
    done = ringq.ProcessQueue(1)
    rng = random.Random(11)
    put: List[int] = []
    reader, writer = FORK.Pipe(duplex=False)

    def consumer(q: Any, done: Any, out: Any) -> None:
        got = []
        while True:
            try:
                got.append(q.get(timeout=0.01))
            except queue.Empty:
                if done.qsize():
                    got += drain(q)
                    out.send(got)
                    return

    p = FORK.Process(target=consumer, args=(q, done, writer))

    async def main() -> None:
        p.start()
        for i in range(n):
            choice = rng.random()
            try:
                if choice < 0.4:
                    await asyncio.wait_for(q.async_put(i), rng.random() * 1e-3)
                    put.append(i)
                elif choice < 0.7:
                    task = asyncio.ensure_future(q.async_put(i))
                    for _ in range(rng.randrange(3)):
                        await asyncio.sleep(0)
                    task.cancel()
                    try:
                        await task
                        put.append(i)
                    except asyncio.CancelledError:
                        pass
                else:
                    await q.async_put(i, timeout=rng.random() * 1e-3)
                    put.append(i)
            except (asyncio.TimeoutError, queue.Full):
                pass

    asyncio.run(main())
    done.put(True)
    got = reader.recv()
    p.join()
    assert sorted(got) == put


def test_many_loops_in_many_threads_share_one_queue() -> None:
    q = ringq.ProcessQueue(16)
    results: List[List[int]] = []
    lock = threading.Lock()

    def loop_thread() -> None:
        async def main() -> List[int]:
            got = []
            while True:
                try:
                    got.append(await q.async_get(timeout=0.5))
                except queue.Empty:
                    return got

        got = asyncio.run(main())
        with lock:
            results.append(got)

    threads = [threading.Thread(target=loop_thread) for _ in range(3)]
    for t in threads:
        t.start()
    producer = FORK.Process(target=produce, args=(q, 0, 3000))
    producer.start()
    producer.join()
    for t in threads:
        t.join(HANG_GUARD_S)
    assert sorted(x for r in results for x in r) == list(range(3000))


def test_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop")
    q = ringq.ProcessQueue(8)
    producer = FORK.Process(target=produce, args=(q, 0, 500))

    async def main() -> List[int]:
        producer.start()
        return [await q.async_get(timeout=HANG_GUARD_S) for _ in range(500)]

    got = uvloop.run(main()) if hasattr(uvloop, "run") else asyncio.run(main())
    producer.join()
    assert got == list(range(500))


def test_an_idle_waiter_costs_its_loop_no_wake_ups(monkeypatch: pytest.MonkeyPatch) -> None:
    q = ringq.ProcessQueue(4)
    wakes = 0
    real = _process_aio._Readers._readable

    def counting(self: Any) -> None:
        nonlocal wakes
        wakes += 1
        real(self)

    monkeypatch.setattr(_process_aio._Readers, "_readable", counting)

    async def main() -> None:
        waiter = asyncio.ensure_future(q.async_get())
        await asyncio.sleep(0.3)  # three of the watch thread's sleep slices
        assert wakes == 0
        assert not waiter.done()
        q.put("now")
        assert await asyncio.wait_for(waiter, HANG_GUARD_S) == "now"
        assert wakes == 1

    asyncio.run(main())
    assert live_readers() == 0


def test_a_forked_child_waits_on_a_descriptor_of_its_own() -> None:
    q = ringq.ProcessQueue(4)
    fd = q.fileno()
    q.put("first")
    assert readable(fd, HANG_GUARD_S)
    reader, writer = FORK.Pipe()

    def child(q: Any, conn: Any) -> None:
        # The child's gets empty the queue; they must not drain the
        # parent's descriptor, which the child's copy of the object shares.
        assert q.get_nowait() == "first"
        try:
            q.get_nowait()
        except queue.Empty:
            pass
        own = q.fileno()
        assert own != fd
        conn.send("emptied")
        conn.send(asyncio.run(q.async_get(timeout=HANG_GUARD_S)))

    p = FORK.Process(target=child, args=(q, writer))
    p.start()
    assert reader.recv() == "emptied"
    assert readable(fd, 0), "the child drained the parent's descriptor"
    q.put("for the child")
    assert reader.recv() == "for the child"
    p.join()
    assert p.exitcode == 0
    with pytest.raises(queue.Empty):
        q.get_nowait()
    assert not readable(fd, 0.05)
    q.put("again")
    assert readable(fd, HANG_GUARD_S)


def test_an_operation_moves_nothing_until_awaited_and_runs_once() -> None:
    q = ringq.ProcessQueue(4)
    q.put("kept")
    op = q.async_get()
    assert isinstance(op, ringq.ProcessOperation)
    del op
    put = q.async_put("never")
    put.close()
    assert q.qsize() == 1
    with pytest.raises(KeyError):
        q.async_get().throw(KeyError("raised as it was thrown"))
    assert q.qsize() == 1

    async def main() -> None:
        op = q.async_get()
        assert await op == "kept"
        with pytest.raises(RuntimeError, match="already awaited"):
            await op

    asyncio.run(main())


def test_a_loop_closed_while_a_coroutine_waits_leaks_nothing() -> None:
    import gc
    import weakref

    q = ringq.ProcessQueue(4)
    ref = weakref.ref(q)
    loop = asyncio.new_event_loop()
    task = loop.create_task(q.async_get())
    loop.run_until_complete(asyncio.sleep(0.05))
    assert live_readers() == 1
    loop.close()  # the task is still pending, its loop gone
    q.put(1)
    assert q.get_nowait() == 1, "nothing was taken for the dead loop"
    del task, q
    gc.collect()
    assert live_readers() == 0
    assert ref() is None, "the queue was kept alive"


CTRL_C_CHILD = """
import asyncio, signal, sys
import ringq

signal.signal(signal.SIGINT, signal.default_int_handler)
q = ringq.ProcessQueue(1)
if sys.argv[1] == "put":
    q.put("first")

async def main():
    async def announce():
        await asyncio.sleep(0.1)
        print("ready", flush=True)
    asyncio.ensure_future(announce())
    if sys.argv[1] == "put":
        await q.async_put("second")
    else:
        await q.async_get()

try:
    asyncio.run(main())
finally:
    print("left", q.qsize(), flush=True)
"""


@pytest.mark.parametrize("case", ["get", "put"])
def test_ctrl_c_while_a_coroutine_awaits(case: str) -> None:
    import signal
    import subprocess
    import sys

    child = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_CHILD, case],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    start = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=HANG_GUARD_S)
    assert time.monotonic() - start < 5
    assert child.returncode != 0
    assert err.rstrip().endswith("KeyboardInterrupt"), err
    assert "Task was destroyed" not in err and "Exception ignored" not in err, err
    # The interrupted get took nothing; the interrupted put put nothing.
    assert out == ("left 1\n" if case == "put" else "left 0\n")
