"""Process-to-process queue benchmark: ringq.ProcessQueue against
multiprocessing.Queue, multiprocessing.SimpleQueue, faster-fifo and
iceoryx2's Python binding.

Implementations (one table, parametrized over them):

- ``mp.Queue``           multiprocessing.Queue (pickle, a pipe, a feeder thread)
- ``mp.SimpleQueue``     multiprocessing.SimpleQueue (pickle, a pipe, locks)
- ``faster-fifo``        faster_fifo.Queue (pickle, a mutex in shared memory)
- ``iceoryx2 polling``   iceoryx2 publish-subscribe, the consumer busy-polls
                         ``receive()`` (one producer and one consumer only)
- ``iceoryx2 blocking``  the same, plus an event per message that the
                         consumer sleeps on when it finds nothing
- ``ringq put/get``      ringq.ProcessQueue put()/get(): pickled objects
- ``ringq bytes``        put_bytes()/get_bytes(): no pickle
- ``ringq batch``        put_many()/get_many() in batches of BATCH
- ``ringq bytes batch``  put_many_bytes()/get_many_bytes()

Every ringq consumer blocks (it spins briefly, then sleeps on a futex); it
never busy-polls. The ringq queues have their defaults (1024 messages of up
to 16 KiB).

Each message is a ``bytes`` of SIZE bytes (64 or 4096) naming its producer
and sequence number. Producers build their messages before the start, so
the clock sees only the queue: the same ``bytes`` objects go to every
implementation (pickled by those that pickle). Worker processes are forked
and set up their ends; those of a queue in shared memory first move an
untimed warm-up pass through it, so that each process has faulted in the
pages it touches. Then they wait on a barrier and each reads the clock
itself, so start-up is not timed: a measurement runs from the first
producer's start to the last consumer's end. A consumer stops at an end
marker, which the producer puts after its messages, or, with two producers,
this process puts as soon as both have said they are done (and flushed,
for multiprocessing.Queue). Consumers keep what they receive and check it
after their clock stops: every message exactly once, each producer's in
order. They keep 64-byte messages whole and only the header of 4 KB ones,
as a consumer that uses a message and drops it would: keeping every 4 KB
message would fault in fresh pages for each and time the kernel.

Rounds are interleaved: every case runs once per round, each round starting
one case further along, so that drift in the machine's load hits all alike.
Tables report medians over rounds in nanoseconds per message (wall time and
the consumers' CPU time), and targets are paired ratios: the median over
rounds of the per-round ratio.

    python benches/python/bench_process.py [--rounds 5] [--messages 100000]

``--rust-json`` names the raw Rust/C API results of ``make bench-shm``
(benches/results/shm.json by default), shown beside the Python rows.
"""

from __future__ import annotations

import argparse
import array
import ctypes
import gc
import json
import multiprocessing
import os
import platform
import queue
import select
import statistics
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import ringq

BATCH = 32
SIZES = (64, 4096)
TOPOLOGIES = ((1, 1), (2, 2))
END = b"!"  # the end marker; every data message is SIZE >= 64 bytes long
HEADER = struct.Struct("<II")  # producer, sequence number
# Consumers keep what they receive, to check it once the clock stops: small
# messages whole (that costs a list append), large ones (above KEEP_WHOLE
# bytes) only their header, as a consumer that uses a message and drops it
# would: keeping every 4 KB message would fault in fresh pages for each one
# and time the kernel instead of the queue.
KEEP_WHOLE = 512
HEADER_SIZE = HEADER.size
HANG_GUARD_S = 300.0
# A consumer that sees nothing for this long reports the case as failed.
STALL_S = 30.0
# How often a peer's failed measurement is tried before the peer is dropped.
PEER_TRIES = 3
IDLE_WAIT_S = 0.5
CTX = multiprocessing.get_context("fork")

try:
    import faster_fifo
except ImportError:  # pragma: no cover - reported at start
    faster_fifo = None

try:
    import iceoryx2 as iox2

    iox2.set_log_level_from_env_or(iox2.LogLevel.Error)
except ImportError:  # pragma: no cover - reported at start
    iox2 = None


# --- implementations --------------------------------------------------------
#
# Each implementation makes a shared object in this process (before the
# fork), and gives each worker a producer or consumer end made from it
# after the fork. A producer end has put(msg) and, for batches,
# put_batch(msgs); flush() runs after its last message. A consumer end is
# a Receiver (below).


# How a consumer end receives: ("one", get) where get() returns the next
# message, or ("many", get_many) where get_many(BATCH) returns a list. The
# loops in receive_until_end call them directly, so that the harness adds as
# little as it can per message.
Receiver = tuple[str, Callable[..., Any]]


class Ends:
    """The ends of one implementation for one case."""

    batch = False

    def __init__(self, size: int) -> None:
        self.size = size

    def producer(self) -> Any:
        return self

    def consumer(self) -> Any:
        return self

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class MpQueueEnds(Ends):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.q = CTX.Queue()
        self.put = self.q.put

    def consumer(self) -> Any:
        return ("one", self.q.get)

    def flush(self) -> None:
        # put() hands the message to a feeder thread; wait for it to reach
        # the pipe, so the end marker cannot overtake it.
        self.q.close()
        self.q.join_thread()


class MpSimpleQueueEnds(Ends):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.q = CTX.SimpleQueue()
        self.put = self.q.put

    def consumer(self) -> Any:
        return ("one", self.q.get)


class FasterFifoEnds(Ends):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        # Room for about 1024 messages, like the ringq queues.
        self.q = faster_fifo.Queue(max_size_bytes=max(1 << 20, 1024 * (size + 64)))
        self.put = self.q.put

    def consumer(self) -> Any:
        # get() blocks for up to 10 s by default, far longer than any wait here.
        return ("one", self.q.get)


class RingqEnds(Ends):
    def __init__(self, size: int, kind: str) -> None:
        super().__init__(size)
        self.q: ringq.ProcessQueue[bytes] = ringq.ProcessQueue()
        self.kind = kind
        self.batch = kind in ("batch", "bytes batch")
        # Producers, and the end markers, go the way the consumer reads.
        self.put = self.q.put_bytes if kind in ("bytes", "bytes batch") else self.q.put
        self.put_batch: Callable[[list[bytes]], None]
        if kind == "batch":
            self.put_batch = self.q.put_many
        elif kind == "bytes batch":
            self.put_batch = self.q.put_many_bytes

    def consumer(self) -> Any:
        q = self.q
        if self.kind == "put/get":
            return ("one", q.get)
        if self.kind == "bytes":
            return ("one", q.get_bytes)
        return ("many", q.get_many if self.kind == "batch" else q.get_many_bytes)


class Iceoryx2Ends(Ends):
    """iceoryx2 publish-subscribe of byte slices, without overflow (a
    publisher waits while the subscriber's buffer is full), so every
    message arrives. With `blocking`, each send is followed by an event
    the consumer sleeps on when it finds no sample."""

    def __init__(self, size: int, blocking: bool) -> None:
        super().__init__(size)
        self.blocking = blocking
        self.name = f"ringq-bench-{os.getpid()}-{time.monotonic_ns()}"

    def close(self) -> None:
        # Workers end with os._exit, without dropping their iceoryx2 ports:
        # remove what their (now dead) nodes left in /dev/shm and /tmp. In a
        # fresh process: this one forks every worker and must not hold
        # iceoryx2 state (after listing nodes once, it saw later dead ones
        # as alive).
        subprocess.run([sys.executable, "-c", IOX2_CLEANUP], check=False, timeout=HANG_GUARD_S)

    def _service(self, node: Any) -> Any:
        return (
            node.service_builder(iox2.ServiceName.new(self.name))
            .publish_subscribe(iox2.Slice[ctypes.c_uint8])
            .enable_safe_overflow(False)
            .subscriber_max_buffer_size(1024)
            .history_size(0)
            .open_or_create()
        )

    def _event(self, node: Any) -> Any:
        return node.service_builder(iox2.ServiceName.new(self.name + "-event")).event().open_or_create()

    def producer(self) -> Any:
        node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)
        service = self._service(node)
        publisher = (
            service.publisher_builder()
            .initial_max_slice_len(self.size)
            .backpressure_strategy(iox2.BackpressureStrategy.RetryUntilDelivered)
            .create()
        )
        notifier = self._event(node).notifier_builder().create() if self.blocking else None
        memmove = ctypes.memmove

        def put(msg: bytes) -> None:
            sample = publisher.loan_slice_uninit(len(msg))
            memmove(sample.payload_ptr, msg, len(msg))
            sample.assume_init().send()
            if notifier is not None:
                notifier.notify()

        class Producer:
            def __init__(self) -> None:
                self.put = put
                self.keep = (node, service, publisher, notifier)

            def wait_for_subscriber(self) -> None:
                # Samples sent before the subscriber connects are not kept.
                deadline = time.monotonic() + HANG_GUARD_S
                while service.dynamic_config.number_of_subscribers < 1:
                    if time.monotonic() > deadline:
                        raise RuntimeError("iceoryx2: no subscriber connected")
                    time.sleep(0.001)
                publisher.update_connections()

            def flush(self) -> None:
                pass

        return Producer()

    def consumer(self) -> Any:
        node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)
        service = self._service(node)
        subscriber = service.subscriber_builder().buffer_size(1024).create()
        listener = self._event(node).listener_builder().create() if self.blocking else None
        string_at = ctypes.string_at
        self.consumer_ports = (node, service, subscriber, listener)

        def get() -> bytes:
            since = None
            while True:
                sample = subscriber.receive()
                if sample is not None:
                    # Copied out whole, as the others deliver it.
                    msg = string_at(sample.payload_ptr, sample.header.number_of_elements)
                    sample.delete()
                    return msg
                if since is None:
                    since = time.monotonic()
                elif time.monotonic() - since > STALL_S:
                    raise RuntimeError(f"iceoryx2: no sample for {STALL_S:.0f} s")
                if listener is not None:
                    listener.timed_wait(iox2.Duration.from_millis(100))

        return ("one", get)


IOX2_CLEANUP = """
import iceoryx2 as iox2
iox2.set_log_level_from_env_or(iox2.LogLevel.Error)
for state in iox2.Node.list(iox2.ServiceType.Ipc, iox2.config.global_config()):
    if isinstance(state, iox2.NodeState.Dead):
        state._0.try_remove_stale_resources()
"""


@dataclass(frozen=True)
class Impl:
    name: str
    make: Callable[[int], Ends]
    available: bool = True
    multi: bool = True  # may have several producers or consumers
    ringq: bool = False
    # Lives in shared memory, whose pages each process faults in on first
    # touch: a warm-up pass through the queue, untimed, maps them first.
    shared_memory: bool = True


IMPLS = [
    Impl("mp.Queue", MpQueueEnds, shared_memory=False),
    Impl("mp.SimpleQueue", MpSimpleQueueEnds, shared_memory=False),
    Impl("faster-fifo", FasterFifoEnds, available=faster_fifo is not None),
    Impl("iceoryx2 polling", lambda s: Iceoryx2Ends(s, False), available=iox2 is not None, multi=False),
    Impl("iceoryx2 blocking", lambda s: Iceoryx2Ends(s, True), available=iox2 is not None, multi=False),
    Impl("ringq put/get", lambda s: RingqEnds(s, "put/get"), ringq=True),
    Impl("ringq bytes", lambda s: RingqEnds(s, "bytes"), ringq=True),
    Impl("ringq batch", lambda s: RingqEnds(s, "batch"), ringq=True),
    Impl("ringq bytes batch", lambda s: RingqEnds(s, "bytes batch"), ringq=True),
]


# --- one measurement ----------------------------------------------------------


@dataclass(frozen=True)
class Case:
    impl: Impl
    size: int
    producers: int
    consumers: int
    messages: int  # in all, a multiple of `producers`

    @property
    def label(self) -> str:
        return f"{self.size} B {self.producers}p/{self.consumers}c {self.impl.name}"


@dataclass
class Sample:
    wall_ns: float  # per message
    consumer_cpu_ns: float  # per message, all consumers together
    producer_cpu_ns: float  # per message, all producers together


# Warm-up messages per producer: enough for every process to touch every
# slot of a 1024-message queue a few times over.
WARM_UP = 2048


def receive_until_end(ends: Ends, receiver: Receiver, got: list[bytes], whole: bool) -> None:
    """Receives into `got` up to an end marker: each message whole, or its
    header. A batch may hold the markers of other consumers too (they come
    after every message): those go back into the queue."""
    kind, get = receiver
    append = got.append
    markers = 1
    if kind == "one" and whole:
        while (msg := get()) != END:
            append(msg)
    elif kind == "one":
        while (msg := get()) != END:
            append(msg[:HEADER_SIZE])
    else:
        while True:
            msgs = get(BATCH)
            ended = msgs[-1] == END
            if ended:
                markers = msgs.count(END)
                del msgs[-markers:]
            got += msgs if whole else [m[:HEADER_SIZE] for m in msgs]
            if ended:
                break
    if markers > 1:
        back = ends.producer()
        for _ in range(markers - 1):
            back.put(END)


def make_messages(producer: int, count: int, size: int) -> list[bytes]:
    pad = b"\0" * (size - HEADER.size)
    return [HEADER.pack(producer, seq) + pad for seq in range(count)]


@dataclass
class Links:
    """How a case's workers and this process talk: the start barrier, a
    queue of reports, and a pipe on which each producer writes one byte
    when it is done (a pipe, so this process learns it at once)."""

    barrier: Any
    report: Any
    done_r: int
    done_w: int


def reporting_failures(main: Callable[[Case, Ends, int, Links], None]) -> Callable[[Case, Ends, int, Links], None]:
    """Runs a worker body; a failure goes to the report queue, so the
    benchmark stops with it instead of waiting for a worker that died."""

    def run(case: Case, ends: Ends, index: int, links: Links) -> None:
        try:
            main(case, ends, index, links)
        except BaseException:
            import traceback

            links.report.put(("error", index, traceback.format_exc()))
            links.barrier.abort()
            raise

    return run


@reporting_failures
def producer_main(case: Case, ends: Ends, index: int, links: Links) -> None:
    per = case.messages // case.producers
    msgs = make_messages(index, per, case.size)
    end = ends.producer()
    if hasattr(end, "wait_for_subscriber"):
        end.wait_for_subscriber()
    if case.impl.shared_memory:
        for _ in range(WARM_UP):
            end.put(msgs[0])
        if case.producers == 1:
            for _ in range(case.consumers):
                end.put(END)
        links.report.put(("warm", index))
    gc.disable()
    links.barrier.wait()
    start = time.perf_counter_ns()
    cpu = time.process_time_ns()
    if ends.batch:
        put_batch = end.put_batch
        for i in range(0, per, BATCH):
            put_batch(msgs[i : i + BATCH])
    else:
        put = end.put
        for msg in msgs:
            put(msg)
    if case.producers == 1:
        for _ in range(case.consumers):
            end.put(END)
    end.flush()
    cpu = time.process_time_ns() - cpu
    os.write(links.done_w, b"p")
    links.report.put(("producer", index, start, cpu))


@reporting_failures
def consumer_main(case: Case, ends: Ends, index: int, links: Links) -> None:
    receiver = ends.consumer()
    got: list[bytes] = []
    whole = case.size <= KEEP_WHOLE
    if case.impl.shared_memory:
        receive_until_end(ends, receiver, got, True)
        got.clear()
    gc.disable()
    links.barrier.wait()
    cpu = time.process_time_ns()
    receive_until_end(ends, receiver, got, whole)
    end = time.perf_counter_ns()
    cpu = time.process_time_ns() - cpu
    # Checked after the clock stops: each producer's messages in order, and
    # the sequence numbers reported for the exactly-once check.
    seqs: dict[int, array.array[int]] = {}
    kept = case.size if case.size <= KEEP_WHOLE else HEADER_SIZE
    for msg in got:
        assert len(msg) == kept, f"unexpected message of {len(msg)} bytes"
        producer, seq = HEADER.unpack_from(msg)
        mine = seqs.setdefault(producer, array.array("I"))
        assert not mine or mine[-1] < seq, f"producer {producer}: {seq} after {mine[-1]}"
        mine.append(seq)
    links.report.put(("consumer", index, end, cpu, {p: s.tobytes() for p, s in seqs.items()}))


class CaseFailed(Exception):
    """A measurement did not complete: a worker failed or stalled."""


def run_case(case: Case) -> Sample:
    ends = case.impl.make(case.size)
    done_r, done_w = os.pipe()
    links = Links(CTX.Barrier(case.producers + case.consumers), CTX.Queue(), done_r, done_w)
    procs = [CTX.Process(target=consumer_main, args=(case, ends, i, links)) for i in range(case.consumers)]
    procs += [CTX.Process(target=producer_main, args=(case, ends, i, links)) for i in range(case.producers)]
    try:
        for p in procs:
            p.start()
        return measure(case, ends, links, procs)
    finally:
        os.close(done_r)
        os.close(done_w)
        ends.close()


def measure(case: Case, ends: Ends, links: Links, procs: list[Any]) -> Sample:
    starts: list[int] = []
    producer_cpus: list[int] = []
    ends_ns: list[int] = []
    cpus: list[int] = []
    seen: dict[int, list[int]] = {}
    warm = 0

    def fail(why: str) -> None:
        for p in procs:
            p.kill()
        for p in procs:
            p.join(HANG_GUARD_S)
        raise CaseFailed(f"{case.label}: {why}")

    def take_report() -> None:
        nonlocal warm
        try:
            kind, index, *rest = links.report.get(timeout=STALL_S * 2)
        except queue.Empty:
            fail(f"no report for {STALL_S * 2:.0f} s")
        if kind == "error":
            fail(f"worker {index} failed:\n{rest[0]}")
        elif kind == "warm":
            warm += 1
        elif kind == "producer":
            starts.append(rest[0])
            producer_cpus.append(rest[1])
        else:
            ends_ns.append(rest[0])
            cpus.append(rest[1])
            for producer, raw in rest[2].items():
                seen.setdefault(producer, []).extend(array.array("I", raw))

    def send_end_markers() -> None:
        # With one producer, the producer puts them after its messages.
        if case.producers > 1:
            end = ends.producer()
            for _ in range(case.consumers):
                end.put(END)
            end.flush()

    if case.impl.shared_memory:
        while warm < case.producers:
            take_report()
        send_end_markers()
    if case.producers > 1:
        done = 0
        while done < case.producers:
            ready, _, _ = select.select([links.done_r], [], [], STALL_S * 2)
            if not ready:
                fail(f"producers not done after {STALL_S * 2:.0f} s")
            done += len(os.read(links.done_r, case.producers - done))
        send_end_markers()
    while len(starts) < case.producers or len(ends_ns) < case.consumers:
        take_report()
    for p in procs:
        p.join(HANG_GUARD_S)
        assert p.exitcode == 0, f"{case.label}: a worker failed ({p.exitcode})"
    per = case.messages // case.producers
    for producer in range(case.producers):
        got = sorted(seen.get(producer, []))
        assert got == list(range(per)), f"{case.label}: producer {producer} lost or duplicated messages"
    wall = max(ends_ns) - min(starts)
    return Sample(wall / case.messages, sum(cpus) / case.messages, sum(producer_cpus) / case.messages)


# --- idle cost ------------------------------------------------------------------


def idle_cpu_ns(impl: Impl) -> float:
    """CPU time a consumer uses while it waits IDLE_WAIT_S on an empty queue."""
    ends = impl.make(64)
    out = CTX.SimpleQueue()

    def wait() -> None:
        ends.consumer()
        if isinstance(ends, (RingqEnds, MpQueueEnds, FasterFifoEnds)):
            try:  # the first call sets this process up; don't count it
                ends.q.get_nowait()
            except queue.Empty:
                pass
        cpu = time.process_time_ns()
        if isinstance(ends, RingqEnds):
            try:
                ends.q.get(timeout=IDLE_WAIT_S)
            except queue.Empty:
                pass
        elif isinstance(ends, (MpQueueEnds, FasterFifoEnds)):
            try:
                ends.q.get(timeout=IDLE_WAIT_S)
            except queue.Empty:
                pass
        else:  # iceoryx2: receive() keeps waiting; give it a deadline
            deadline = time.monotonic() + IDLE_WAIT_S
            subscriber, listener = ends.consumer_ports[2], ends.consumer_ports[3]  # type: ignore[attr-defined]
            while time.monotonic() < deadline:
                if subscriber.receive() is None and listener is not None:
                    listener.timed_wait(iox2.Duration.from_millis(100))
        out.put(time.process_time_ns() - cpu)

    p = CTX.Process(target=wait)
    p.start()
    cpu = out.get()
    p.join(HANG_GUARD_S)
    ends.close()
    return float(cpu)


# --- report -----------------------------------------------------------------------


def paired(samples: dict[str, list[Sample]], a: str, b: str) -> float:
    """Median over rounds of wall(a) / wall(b): above 1, b is faster."""
    return statistics.median(x.wall_ns / y.wall_ns for x, y in zip(samples[a], samples[b]))


def paired_cpu(samples: dict[str, list[Sample]], a: str, b: str) -> float:
    """As `paired`, for the CPU time of producers and consumers together."""

    def cpu(x: Sample) -> float:
        return x.consumer_cpu_ns + x.producer_cpu_ns

    return statistics.median(cpu(x) / cpu(y) for x, y in zip(samples[a], samples[b]))


def load_average() -> str:
    try:
        return "%.2f" % os.getloadavg()[0]
    except OSError:
        return "?"


def rust_rows(path: str) -> list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return []
    return list(data.get("rows", []))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=100_000, help="per 64-byte case; 4 KB cases move a quarter")
    parser.add_argument(
        "--rust-json",
        default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "results", "shm.json"),
    )
    parser.add_argument("--json", default="", help="write the medians and ratios here")
    parser.add_argument("--only", default="", help="run only implementations whose name contains one of these (comma-separated)")
    parser.add_argument("--sizes", default="64,4096", help="message sizes, comma-separated")
    args = parser.parse_args()

    print(
        f"process-to-process queues: Python {platform.python_version()}, {os.cpu_count()} hardware threads, "
        f"load {load_average()}; {args.rounds} rounds (plus a warm-up), cases interleaved"
    )
    for impl in IMPLS:
        if not impl.available:
            pip_name = "faster-fifo" if "faster" in impl.name else "iceoryx2"
            print(f"  {impl.name}: not installed (pip install {pip_name}); skipped")
    impls = [i for i in IMPLS if i.available]
    if args.only:
        wanted = args.only.split(",")
        impls = [i for i in impls if any(w in i.name for w in wanted)]
    sizes = tuple(int(x) for x in args.sizes.split(","))

    cases: list[Case] = []
    for size in sizes:
        count = args.messages if size <= 64 else args.messages // 4
        for producers, consumers in TOPOLOGIES:
            for impl in impls:
                if (producers > 1 or consumers > 1) and not impl.multi:
                    continue
                n = count // producers // BATCH * BATCH * producers
                cases.append(Case(impl, size, producers, consumers, n))

    failed: dict[str, str] = {}
    retried: dict[str, int] = {}

    def attempt(case: Case, run: Case) -> Optional[Sample]:
        """Runs `run` for `case`. A ringq failure stops the benchmark; a
        peer's failed measurement is retried (PEER_TRIES in all), then the
        peer is dropped from the run, and either is reported."""
        if case.impl.name in failed:
            return None
        for tries in range(1, PEER_TRIES + 1):
            try:
                return run_case(run)
            except CaseFailed as exc:
                if case.impl.ringq:
                    raise
                print(f"  {case.impl.name}: a measurement failed ({str(exc).splitlines()[-1]})", flush=True)
                retried[case.impl.name] = retried.get(case.impl.name, 0) + 1
                if tries == PEER_TRIES:
                    failed[case.impl.name] = str(exc)
        return None

    for case in cases:  # a shorter warm-up round
        unit = BATCH * case.producers
        attempt(case, Case(case.impl, case.size, case.producers, case.consumers, max(unit, case.messages // 10 // unit * unit)))
    samples: dict[str, list[Sample]] = {c.label: [] for c in cases}
    for r in range(args.rounds):
        for k in range(len(cases)):
            case = cases[(k + r) % len(cases)]
            sample = attempt(case, case)
            if sample is not None:
                samples[case.label].append(sample)
        print(f"  round {r + 1}/{args.rounds} done, load {load_average()}", flush=True)
    for case in cases:
        if case.impl.name in failed:
            samples.pop(case.label, None)
    cases = [c for c in cases if c.label in samples]

    medians = {label: statistics.median(s.wall_ns for s in ss) for label, ss in samples.items()}
    cpus = {label: statistics.median(s.consumer_cpu_ns for s in ss) for label, ss in samples.items()}
    pcpus = {label: statistics.median(s.producer_cpu_ns for s in ss) for label, ss in samples.items()}
    rust = rust_rows(args.rust_json)
    for size in sizes:
        for producers, consumers in TOPOLOGIES:
            print(f"\n{size} B messages, {producers} producer(s) -> {consumers} consumer(s)")
            print(
                f"  {'implementation':<20} {'ns/msg':>9} {'min..max':>17} {'consumer CPU':>15}"
                f" {'producer CPU':>15} {'Mmsg/s':>7} {'vs mp.Queue':>11}"
            )
            base = f"{size} B {producers}p/{consumers}c mp.Queue"
            for case in cases:
                if (case.size, case.producers, case.consumers) != (size, producers, consumers):
                    continue
                walls = [s.wall_ns for s in samples[case.label]]
                m = medians[case.label]
                vs = paired(samples, base, case.label) if base in samples else float("nan")
                star = "*" if case.impl.ringq else " "
                print(
                    f" {star}{case.impl.name:<20} {m:>9.0f} {min(walls):>8.0f}..{max(walls):<8.0f}"
                    f" {cpus[case.label]:>9.0f} ns/msg {pcpus[case.label]:>9.0f} ns/msg"
                    f" {1e3 / m:>7.2f} {vs:>10.2f}x"
                )
            for row in rust:
                if (row.get("size"), row.get("producers"), row.get("consumers")) == (size, producers, consumers):
                    name = f"{row.get('impl')} API" + (f" batch {row['batch']}" if row.get("batch", 1) > 1 else "")
                    print(
                        f" {'~':1}{name:<20} {row['median_ns_per_msg']:>9.0f} {'':>17}"
                        f" {row['median_consumer_cpu_ns_per_msg']:>9.0f} ns/msg {'':>15}"
                        f" {1e3 / row['median_ns_per_msg']:>7.2f}"
                    )
    for name, count in retried.items():
        if name not in failed:
            print(f"\n  {name}: {count} measurement(s) failed and were run again")
    for name, why in failed.items():
        print(f"\n  {name}: failed {PEER_TRIES} times in a row, left out: {why}")
    print("\n  * ringq.ProcessQueue (blocking consumers)")
    if rust:
        print(f"  ~ raw Rust and C API, from make bench-shm ({os.path.normpath(args.rust_json)}; a separate run)")
    else:
        print(f"  (no raw Rust/C API results at {os.path.normpath(args.rust_json)}: run make bench-shm)")

    print("\nidle: CPU time of a consumer blocked %.1f s on an empty queue" % IDLE_WAIT_S)
    for impl in impls:
        if impl.name in failed or impl.name in ("mp.SimpleQueue", "ringq bytes", "ringq batch", "ringq bytes batch", "iceoryx2 polling"):
            continue  # no timeout (SimpleQueue), or the same wait as a row shown
        cpu = idle_cpu_ns(impl)
        print(f"  {impl.name:<20} {cpu / 1e3:>8.0f} us")
    print("  iceoryx2 polling     a whole core, by design")

    results: dict[str, Any] = {
        "rounds": args.rounds,
        "load_average": load_average(),
        "medians_ns": medians,
        "consumer_cpu_ns": cpus,
        "producer_cpu_ns": pcpus,
        "targets": [],
    }
    print(
        "\ntargets (paired ratios of wall time at 1 producer -> 1 consumer, blocking ringq consumers;"
        " above the bar: MET), with the same ratio of CPU time (producers + consumers)"
    )

    def target(what: str, a: str, b: str, bar: float) -> None:
        if a not in samples or b not in samples:
            return  # left out of this run (--only, --sizes, or a peer that failed)
        r = paired(samples, a, b)
        by_cpu = paired_cpu(samples, a, b)
        verdict = "MET" if r >= bar else "MISS"
        print(f"  {verdict:<5} {what}: {r:.2f}x (target {bar:g}x); by CPU time: {by_cpu:.2f}x")
        results["targets"].append(
            {"what": what, "ratio": round(r, 3), "cpu_ratio": round(by_cpu, 3), "target": bar, "verdict": verdict}
        )

    t = "1p/1c"
    target("put/get vs mp.Queue, 64 B", f"64 B {t} mp.Queue", f"64 B {t} ringq put/get", 5)
    target("put/get vs faster-fifo, 64 B", f"64 B {t} faster-fifo", f"64 B {t} ringq put/get", 5)
    for size in SIZES:
        target(f"bytes vs mp.Queue, {size} B", f"{size} B {t} mp.Queue", f"{size} B {t} ringq bytes", 10)
    for size in SIZES:
        target(f"bytes vs iceoryx2 polling, {size} B", f"{size} B {t} iceoryx2 polling", f"{size} B {t} ringq bytes", 3)
    for size in SIZES:
        target(f"batches vs single, objects, {size} B", f"{size} B {t} ringq put/get", f"{size} B {t} ringq batch", 3)
        target(f"batches vs single, bytes, {size} B", f"{size} B {t} ringq bytes", f"{size} B {t} ringq bytes batch", 3)
    print("\nthe same ratios at 2 producers -> 2 consumers (for information)")
    for size in SIZES:
        for a, b in (("mp.Queue", "ringq put/get"), ("faster-fifo", "ringq put/get"), ("mp.Queue", "ringq bytes"), ("ringq bytes", "ringq bytes batch")):
            la, lb = f"{size} B 2p/2c {a}", f"{size} B 2p/2c {b}"
            if la in samples and lb in samples:
                print(f"  {size:>5} B {b} vs {a}: {paired(samples, la, lb):.2f}x")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
