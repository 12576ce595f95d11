"""A producer or a consumer process SIGKILLed under traffic: the others
carry on, nothing is delivered twice, and nothing is lost beyond what the
shared-memory queue documents (the one message the killed process was
putting, or had taken and not yet passed on).

Kills land wherever the victim happens to be: inside a put or get (often
waiting on a full or empty queue, sometimes between claiming a slot and
finishing with it), or between calls. Every wait has a hang guard.
"""

from __future__ import annotations

import collections
import gc
import multiprocessing
import os
import queue
import signal
import sys
import time
from typing import Any

import pytest

import process_helpers as helpers
import ringq
from process_helpers import HANG_GUARD_S, leftover_segments

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="shared memory queues need Linux"),
    # 3.12+ warns that forking a process with threads (pytest's faulthandler
    # watchdog is one) may deadlock the child; these children only use the
    # queue and multiprocessing.
    pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning"),
]

ROUNDS = 3


@pytest.fixture(autouse=True)
def no_leaked_names() -> Any:
    yield
    gc.collect()
    assert leftover_segments() == []


def kill(proc: Any) -> None:
    assert proc.pid is not None
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(HANG_GUARD_S)
    assert proc.exitcode == -signal.SIGKILL


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_killed_producer(round_: int) -> None:
    ctx = multiprocessing.get_context("fork")
    producers, count = 3, 3000
    q: ringq.ProcessQueue[Any] = ringq.ProcessQueue(8, max_message_size=128)
    procs = [ctx.Process(target=helpers.produce, args=(q, p, count)) for p in range(producers)]
    for p in procs:
        p.start()
    victim = procs[0]
    seen: dict[int, list[int]] = collections.defaultdict(list)
    # Kill producer 0 part way through its items, at a point that varies
    # from round to round.
    kill_after = 300 + 700 * round_
    killed = False
    while True:
        if not killed and len(seen[0]) >= kill_after:
            kill(victim)
            killed = True
        if killed and all(len(seen[p]) == count for p in range(1, producers)):
            break
        producer, seq = q.get(timeout=HANG_GUARD_S)
        seen[producer].append(seq)
    for p in procs[1:]:
        p.join(HANG_GUARD_S)
        assert p.exitcode == 0
    # What the victim managed to put before dying is in the queue.
    while not q.empty():
        producer, seq = q.get(timeout=HANG_GUARD_S)
        seen[producer].append(seq)
    for p in range(1, producers):
        assert seen[p] == list(range(count)), f"producer {p}"
    # The victim's messages: in order, no duplicate, no gap. The message of
    # the put it was killed in may or may not have made it.
    got = seen[0]
    assert len(got) >= kill_after
    assert got == list(range(len(got)))
    # The queue still works, for everyone, in both directions.
    q.put_many(range(8))
    assert q.get_many(8) == list(range(8))


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_killed_consumer(round_: int) -> None:
    ctx = multiprocessing.get_context("fork")
    consumers, count = 2, 4000
    q: ringq.ProcessQueue[Any] = ringq.ProcessQueue(8, max_message_size=128)
    results: ringq.ProcessQueue[Any] = ringq.ProcessQueue(8, max_message_size=128)
    procs = [ctx.Process(target=helpers.consume_until_none, args=(q, results)) for _ in range(consumers)]
    for p in procs:
        p.start()
    producer = ctx.Process(target=helpers.produce, args=(q, 0, count))
    producer.start()
    victim = procs[0]
    received: list[int] = []
    kill_after = 300 + 700 * round_
    killed = marker_sent = False
    deadline = time.monotonic() + HANG_GUARD_S
    while True:
        if not killed and len(received) >= kill_after:
            kill(victim)
            killed = True
        if killed and not marker_sent and producer.exitcode is not None:
            assert producer.exitcode == 0
            q.put(None)  # for the consumer still alive
            marker_sent = True
        try:
            item = results.get(timeout=0.05)
        except queue.Empty:
            assert time.monotonic() < deadline, "hang guard"
            continue
        if item is None:
            break
        received.append(item[1])
    procs[1].join(HANG_GUARD_S)
    assert procs[1].exitcode == 0
    # No duplicates; at most one message lost: the one the victim had
    # claimed in a get, or had got and not yet put into `results` (one
    # thread cannot be in both at once).
    assert len(received) == len(set(received))
    missing = set(range(count)) - set(received)
    assert len(missing) <= 1, sorted(missing)[:10]
    assert q.empty() and results.empty()
    results.put("after")
    assert results.get() == "after"


def put_forever(q: Any, message: bytes) -> None:
    while True:
        q.put_bytes(message)


def test_a_stopped_process_is_named_by_claim_holders() -> None:
    """A producer stopped (SIGSTOP) in the middle of a put keeps its slot:
    claim_holders() names it, and once it is killed the others recover the
    slot. Large messages make most stops land inside a put."""
    ctx = multiprocessing.get_context("fork")
    size = 4 << 20
    q: ringq.ProcessQueue[Any] = ringq.ProcessQueue(2, max_message_size=size)
    assert q.claim_holders() == []
    producer = ctx.Process(target=put_forever, args=(q, b"x" * size))
    producer.start()
    assert producer.pid is not None
    named = False
    deadline = time.monotonic() + HANG_GUARD_S
    while not named:
        assert time.monotonic() < deadline, "never stopped inside a put"
        try:
            q.get_bytes(timeout=HANG_GUARD_S)
        except queue.Empty:
            pass
        os.kill(producer.pid, signal.SIGSTOP)
        helpers.wait_until(lambda: helpers.process_state(producer.pid) == "T", "stopped")
        holders = q.claim_holders()
        assert holders in ([], [producer.pid])
        named = holders == [producer.pid]
        if not named:
            os.kill(producer.pid, signal.SIGCONT)
    kill(producer)
    q.recover_dead()
    assert q.claim_holders() == []
    while True:  # what it had published is intact
        try:
            assert q.get_bytes(timeout=0.05) == b"x" * size
        except queue.Empty:
            break
    q.put_bytes(b"after")
    assert q.get_bytes(timeout=HANG_GUARD_S) == b"after"
