"""ringq.amqp against a real RabbitMQ broker: the queue API (get,
task_done, join, close), at-least-once accounting, errors, and faults.

The broker comes from `make test-amqp`, which starts one and sets
RINGQ_AMQP_URL; without it these tests are skipped (the rest of the suite
needs no broker). Every test uses queues of its own and deletes them."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from typing import Any, Iterator, List

import pytest

if not sys.platform.startswith("linux"):
    pytest.skip("ringq.amqp needs Linux", allow_module_level=True)

import ringq
import ringq.amqp as amqp

URL = os.environ.get("RINGQ_AMQP_URL", "")
pytestmark = pytest.mark.skipif(
    not URL, reason="needs a RabbitMQ broker: `make test-amqp` starts one and sets RINGQ_AMQP_URL"
)
RABBITMQCTL = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
GUARD_S = 60.0


def rabbitmqctl(*args: str) -> str:
    return subprocess.run(
        [RABBITMQCTL, *args], check=True, capture_output=True, text=True, timeout=GUARD_S
    ).stdout


@pytest.fixture
def name() -> Iterator[str]:
    """A queue name of this test's own; the queues left are deleted."""
    base = f"ringq-test-{uuid.uuid4().hex[:12]}"
    yield base
    for suffix in ("", ".dead"):
        subprocess.run(
            [RABBITMQCTL, "delete_queue", base + suffix],
            capture_output=True,
            timeout=GUARD_S,
        )


def consumer(name: str, **kwargs: Any) -> amqp.Consumer:
    kwargs.setdefault("accept_pickle", True)
    kwargs.setdefault("durable", False)
    return amqp.Consumer(URL, name, **kwargs)


def drain(c: amqp.Consumer, quiet: float = 0.5) -> List[amqp.Message]:
    got = []
    while True:
        try:
            got.append(c.get(timeout=quiet))
        except queue.Empty:
            return got
        c.task_done()


def test_a_thread_pool_gets_every_message_exactly_once(name: str) -> None:
    n = 5000
    c = consumer(name, prefetch=128)
    with amqp.Publisher(URL, routing_key=name) as p:
        for i in range(n):
            p.put(i)
        p.flush(timeout=GUARD_S)
        assert p.stats()["confirmed"] == n
    got: List[int] = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            try:
                msg = c.get(timeout=1.0)
            except queue.Empty:
                return
            with lock:
                got.append(msg.value)
            c.task_done()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(GUARD_S)
    c.join()
    stats = c.stats()
    c.close()
    assert sorted(got) == list(range(n))
    assert stats["acked"] == n
    # Acks go out coalesced: fewer frames than messages.
    assert stats["ack_frames"] < n


def test_task_done_acks_this_threads_oldest_message(name: str) -> None:
    c = consumer(name, prefetch=16)
    with amqp.Publisher(URL, routing_key=name) as p:
        p.put_many(range(3))
    first, second = c.get(timeout=GUARD_S), c.get(timeout=GUARD_S)
    handed = c.get(timeout=GUARD_S)
    # Another thread has got nothing: its task_done has nothing to ack.
    errors: List[BaseException] = []

    def other() -> None:
        try:
            c.task_done()
        except BaseException as e:  # noqa: BLE001 - collected for the assert
            errors.append(e)
        c.task_done(handed)  # a message handed over between threads

    t = threading.Thread(target=other)
    t.start()
    t.join(GUARD_S)
    assert len(errors) == 1 and isinstance(errors[0], ValueError)
    c.task_done()  # first
    with pytest.raises(ValueError, match="already"):
        first.ack()
    c.task_done()  # second
    with pytest.raises(ValueError):
        c.task_done()  # nothing left for this thread either
    c.join()
    assert c.stats()["acked"] == 3
    assert second.redelivered is False
    c.close()


def test_close_requeues_what_no_worker_took(name: str) -> None:
    c = consumer(name, prefetch=10)
    with amqp.Publisher(URL, routing_key=name) as p:
        p.put_many(range(20))
    taken = c.get(timeout=GUARD_S)
    done = threading.Event()

    def finish() -> None:
        time.sleep(0.2)
        c.task_done(taken)
        done.set()

    threading.Thread(target=finish).start()
    c.close()  # waits for the task in progress
    assert done.is_set()
    with pytest.raises(ringq.ShutDown):
        c.get()
    again = consumer(name, prefetch=50)
    rest = drain(again)
    again.close()
    values = sorted(m.value for m in rest)
    assert values == [v for v in range(20) if v != taken.value]


def test_a_rejected_message_goes_to_the_dead_letter_queue(name: str) -> None:
    dead = consumer(name + ".dead")
    c = consumer(name, dead_letter_exchange="", dead_letter_routing_key=name + ".dead")
    with amqp.Publisher(URL, routing_key=name) as p:
        p.put("poison")
        p.put("fine")
    first = c.get(timeout=GUARD_S)
    c.reject(first)
    assert c.get(timeout=GUARD_S).value == "fine"
    c.task_done()  # "fine": the rejected one is not this thread's any more
    got = dead.get(timeout=GUARD_S)
    assert got.value == first.value
    assert "x-death" in got.headers
    dead.task_done()
    c.close()
    dead.close()


def test_requeued_messages_come_back_redelivered(name: str) -> None:
    c = consumer(name)
    with amqp.Publisher(URL, routing_key=name) as p:
        p.put("again")
    first = c.get(timeout=GUARD_S)
    assert not first.redelivered
    c.reject(first, requeue=True)
    second = c.get(timeout=GUARD_S)
    assert second.value == "again" and second.redelivered
    c.task_done()
    c.close()


def test_bodies_and_pickles(name: str) -> None:
    c = consumer(name)
    wary = consumer(name, accept_pickle=False)
    wary.close()
    with amqp.Publisher(URL, routing_key=name) as p:
        p.put_bytes(b"\x00raw")
        p.put({"a": 1})
    raw = c.get(timeout=GUARD_S)
    assert raw.body == b"\x00raw" and raw.content_type is None
    with pytest.raises(ValueError, match="not one that Publisher.put"):
        raw.value
    obj = c.get(timeout=GUARD_S)
    assert obj.value == {"a": 1} and obj.content_type == amqp.PICKLE_CONTENT_TYPE
    c.task_done()
    c.task_done()
    c.close()

    untrusting = consumer(name, accept_pickle=False)
    with amqp.Publisher(URL, routing_key=name) as p:
        p.put(["code could run here"])
    msg = untrusting.get(timeout=GUARD_S)
    with pytest.raises(PermissionError, match="accept_pickle"):
        msg.value
    assert msg.body  # always there
    untrusting.task_done()
    untrusting.close()


def test_bad_input_and_unreachable_brokers(name: str) -> None:
    with pytest.raises(amqp.BrokerUnreachable):
        amqp.Consumer("amqp://guest:guest@127.0.0.1:1/%2f", name, connect_timeout=5)
    with pytest.raises(amqp.BrokerUnreachable):
        amqp.Publisher("amqp://guest:guest@127.0.0.1:1/%2f", routing_key=name, connect_timeout=5)
    bad = URL.replace("guest:guest", "guest:wrong") if "guest:guest" in URL else None
    if bad:
        with pytest.raises(amqp.AccessRefused):
            amqp.Consumer(bad, name, connect_timeout=10)
    with pytest.raises(amqp.QueueNotFound):
        amqp.Consumer(URL, name + "-missing", declare=False)
    with pytest.raises(ValueError):
        amqp.Consumer("not a url", name)
    with pytest.raises(ValueError, match="prefetch"):
        amqp.Consumer(URL, name, prefetch=0)
    c = consumer(name)
    with pytest.raises(ValueError, match="non-negative"):
        c.get(timeout=-1)
    with pytest.raises(queue.Empty):
        c.get_nowait()
    with pytest.raises(queue.Empty):
        c.get(timeout=0.05)
    c.close()


def test_an_unroutable_message_is_reported_not_dropped(name: str) -> None:
    p = amqp.Publisher(URL, routing_key=name + "-nowhere")
    seq = p.put("lost?")
    with pytest.raises(amqp.PublishError) as raised:
        p.flush(timeout=GUARD_S)
    assert [(s, reason.split()[0]) for s, _, reason in raised.value.failures] == [(seq, "returned")]
    p.close()


CONSUMER_CHILD = """
import sys, ringq.amqp as amqp
c = amqp.Consumer(sys.argv[1], sys.argv[2], prefetch=5, durable=False)
print("ready", flush=True)
for _ in range(3):
    c.get(timeout=60)
print("holding", flush=True)
sys.stdin.read()
"""


def test_a_killed_consumers_messages_go_to_another(name: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CONSUMER_CHILD, URL, name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"  # it declared the queue
    with amqp.Publisher(URL, routing_key=name) as p:
        p.put_many(range(10))
    # The child holds 3 it got and 2 more prefetched, all unacked.
    assert child.stdout.readline() == "holding\n"
    c = consumer(name, prefetch=50)
    got = drain(c)
    child.send_signal(signal.SIGKILL)
    child.wait(GUARD_S)
    child.stdin.close()  # type: ignore[union-attr]
    child.stdout.close()
    got += drain(c, quiet=2.0)
    c.close()
    values = sorted(m.value for m in got)
    assert values == list(range(10))
    assert sum(m.redelivered for m in got) == 5


def test_a_long_task_holding_the_gil_keeps_the_connection(name: str) -> None:
    # Heartbeats every 1 s: a task of 4 s holding the interpreter spans
    # several; the I/O thread answers them without the GIL.
    url = URL + ("&" if "?" in URL else "?") + "heartbeat=1"
    c = amqp.Consumer(url, name, durable=False, accept_pickle=True)
    with amqp.Publisher(URL, routing_key=name) as p:
        p.put("long")
    msg = c.get(timeout=GUARD_S)
    end = time.monotonic() + 4.0
    spins = 0
    while time.monotonic() < end:  # pure Python: holds the GIL
        spins += 1
    c.task_done()
    c.join()
    assert c.stats()["reconnects"] == 0
    assert c.stats()["acked"] == 1
    assert msg.value == "long"
    c.close()


def test_force_closed_connections_lose_nothing(name: str) -> None:
    n = 3000
    c = consumer(name, prefetch=64)
    p = amqp.Publisher(URL, routing_key=name)
    got: List[amqp.Message] = []
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            try:
                msg = c.get(timeout=0.2)
            except queue.Empty:
                continue
            got.append(msg)
            c.task_done()

    worker = threading.Thread(target=work)
    worker.start()
    for i in range(n):
        p.put(i)
        if i in (n // 3, 2 * n // 3):
            rabbitmqctl("close_all_connections", "test")
    p.flush(timeout=GUARD_S)
    deadline = time.monotonic() + GUARD_S
    while len({m.value for m in got}) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    worker.join(GUARD_S)
    c.close()
    p.close()
    values = [m.value for m in got]
    assert set(values) == set(range(n)), "a confirmed message was lost"
    # A message seen twice came back from the broker marked redelivered.
    seen = set()
    for m in got:
        if m.value in seen:
            assert m.redelivered
        seen.add(m.value)
    assert c.stats()["reconnects"] >= 1 or p.stats()["reconnects"] >= 1


def test_a_forwarder_drains_a_local_queue_to_the_broker(name: str) -> None:
    c = consumer(name, prefetch=256)
    local: ringq.Queue[int] = ringq.Queue(maxsize=64)
    p = amqp.Publisher(URL, routing_key=name)
    forwarder = p.forward(local)

    def produce(first: int) -> None:  # never touches the network
        for i in range(first, first + 500):
            local.put(i)

    producers = [threading.Thread(target=produce, args=(k * 500,)) for k in range(2)]
    for t in producers:
        t.start()
    for t in producers:
        t.join(GUARD_S)
    local.shutdown()  # forwarded and confirmed, then the forwarder ends
    forwarder.join(GUARD_S)
    assert forwarder.forwarded == 1000
    got = sorted(m.value for m in drain(c))
    c.close()
    p.close()
    assert got == list(range(1000))
