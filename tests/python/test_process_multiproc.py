"""ProcessQueue between processes: every start method, unrelated processes
meeting by name, exactly-once delivery with several producers and
consumers, task counting across processes, fork safety, and no segment
left behind in /dev/shm.

Every wait has a hang guard (HANG_GUARD_S); no test asserts how long
anything takes.
"""

from __future__ import annotations

import collections
import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import warnings
from multiprocessing import resource_sharer
from typing import Any

import pytest

import process_helpers as helpers
import ringq
from process_helpers import HANG_GUARD_S, SHM_DIR, leftover_segments, unique_name

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="shared memory queues need Linux"),
    # 3.12+ warns that forking a process with threads (pytest's faulthandler
    # watchdog is one) may deadlock the child; these children only use the
    # queue and multiprocessing.
    pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning"),
]

START_METHODS = ["fork", "spawn", "forkserver"]
HELPERS_DIR = os.path.dirname(os.path.abspath(helpers.__file__))


@pytest.fixture(autouse=True)
def no_leaked_names() -> Any:
    yield
    gc.collect()
    assert leftover_segments() == []


def join_all(procs: list[Any]) -> None:
    for p in procs:
        p.join(HANG_GUARD_S)
        assert p.exitcode is not None, f"{p.name} did not finish"


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Runs `code` in a fresh interpreter: a process unrelated to ours."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        check=False,
    )


# --- start methods --------------------------------------------------------


@pytest.mark.parametrize("method", START_METHODS)
@pytest.mark.parametrize("named", [False, True], ids=["anonymous", "named"])
def test_passes_to_a_child_under_every_start_method(method: str, named: bool) -> None:
    ctx = multiprocessing.get_context(method)
    jobs: ringq.ProcessQueue[Any] = ringq.ProcessQueue(8, name=unique_name() if named else None)
    results: ringq.ProcessQueue[Any] = ringq.JoinableProcessQueue(64, max_message_size=512)
    child = ctx.Process(target=helpers.echo_doubled, args=(jobs, results))
    child.start()
    for i in range(40):  # more than the queue holds: the child must keep up
        jobs.put(i)
    jobs.put(None)
    got = list(iter(lambda: results.get(timeout=HANG_GUARD_S), None))
    join_all([child])
    assert child.exitcode == 0
    assert got == [i * 2 for i in range(40)]


@pytest.mark.parametrize("method", START_METHODS)
def test_child_sees_the_same_queue_and_class(method: str) -> None:
    ctx = multiprocessing.get_context(method)
    name = unique_name()
    q: ringq.JoinableProcessQueue[Any] = ringq.JoinableProcessQueue(6, max_message_size=256, name=name)
    results: ringq.ProcessQueue[Any] = ringq.ProcessQueue(4)
    q.put("from parent")
    child = ctx.Process(target=helpers.report_name_and_state, args=(q, results))
    child.start()
    assert results.get(timeout=HANG_GUARD_S) == ("JoinableProcessQueue", name, 6, 256, "from parent")
    join_all([child])


def test_queue_sent_through_a_queue_to_a_running_process() -> None:
    # Outside process start-up the descriptor goes through multiprocessing's
    # resource sharer, so a queue can even travel inside another queue.
    ctx = multiprocessing.get_context("spawn")
    inbox: ringq.ProcessQueue[Any] = ringq.ProcessQueue(4)
    payload: ringq.ProcessQueue[Any] = ringq.ProcessQueue(4)
    results: ringq.ProcessQueue[Any] = ringq.ProcessQueue(4)
    child = ctx.Process(target=helpers.use_received_queue, args=(inbox, results))
    child.start()
    payload.put("inside")
    inbox.put(payload)  # this process must live until the child has it
    assert results.get(timeout=HANG_GUARD_S) == ("ProcessQueue", "inside")
    join_all([child])
    # The sharer's thread would make every later fork in this process warn.
    resource_sharer.stop()


# --- unrelated processes ---------------------------------------------------


def test_unrelated_process_opens_by_name() -> None:
    name = unique_name()
    q: ringq.ProcessQueue[Any] = ringq.ProcessQueue(16, name=name)
    q.put({"job": 1})
    q.put_bytes(b"raw bytes")
    out = run_python(
        """
        import sys, ringq
        q = ringq.ProcessQueue.open(sys.argv[1])
        job = q.get(timeout=60)
        raw = q.get_bytes(timeout=60)
        q.put(("done", job["job"], raw.decode()))
        """,
        name,
    )
    assert out.returncode == 0, out.stderr
    assert q.get(timeout=HANG_GUARD_S) == ("done", 1, "raw bytes")


def test_bytes_from_an_unrelated_producer() -> None:
    name = unique_name()
    q: ringq.ProcessQueue[Any] = ringq.ProcessQueue(4, max_message_size=64, name=name)
    producer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, ringq\n"
            "q = ringq.ProcessQueue.open(sys.argv[1])\n"
            "q.put_many_bytes(b'%d' % i for i in range(500))\n",
            name,
        ],
    )
    got = []
    while len(got) < 500:
        got += q.get_many_bytes(64, timeout=HANG_GUARD_S)
    assert producer.wait(HANG_GUARD_S) == 0
    assert got == [b"%d" % i for i in range(500)]


# --- exactly once ---------------------------------------------------------


@pytest.mark.parametrize("batches", [False, True], ids=["single", "batches"])
def test_exactly_once_with_several_producers_and_consumers(batches: bool) -> None:
    ctx = multiprocessing.get_context("fork")
    producers, consumers, count = 3, 2, 2000
    q: ringq.ProcessQueue[Any] = ringq.ProcessQueue(16, max_message_size=128)
    results: ringq.ProcessQueue[Any] = ringq.ProcessQueue(64, max_message_size=128)
    produce = helpers.produce_in_batches if batches else helpers.produce
    consume = helpers.consume_batches_until_none if batches else helpers.consume_until_none
    extra = (7,) if batches else ()
    procs = [ctx.Process(target=produce, args=(q, p, count, *extra)) for p in range(producers)]
    procs += [ctx.Process(target=consume, args=(q, results)) for _ in range(consumers)]
    for p in procs:
        p.start()
    seen: dict[int, list[int]] = collections.defaultdict(list)
    total = producers * count
    received = 0
    while received < total:
        producer, seq = results.get(timeout=HANG_GUARD_S) or (None, None)
        if producer is None:
            continue  # a consumer's end marker cannot come before its items
        seen[producer].append(seq)
        received += 1
    join_all(procs[:producers])
    for _ in range(consumers):
        q.put(None)
    join_all(procs[producers:])
    assert all(p.exitcode == 0 for p in procs)
    for producer in range(producers):
        assert sorted(seen[producer]) == list(range(count)), f"producer {producer}"
    assert q.empty()


def test_each_producers_order_is_kept() -> None:
    ctx = multiprocessing.get_context("fork")
    producers, count = 3, 1500
    q: ringq.ProcessQueue[Any] = ringq.ProcessQueue(8, max_message_size=128)
    procs = [ctx.Process(target=helpers.produce, args=(q, p, count)) for p in range(producers)]
    for p in procs:
        p.start()
    seen: dict[int, list[int]] = collections.defaultdict(list)
    for _ in range(producers * count):
        producer, seq = q.get(timeout=HANG_GUARD_S)
        seen[producer].append(seq)
    join_all(procs)
    assert {p: seen[p] for p in range(producers)} == {p: list(range(count)) for p in range(producers)}


def test_task_counting_across_processes() -> None:
    ctx = multiprocessing.get_context("fork")
    tasks: ringq.JoinableProcessQueue[Any] = ringq.JoinableProcessQueue(8)
    done: ringq.ProcessQueue[Any] = ringq.ProcessQueue(256)
    workers = [ctx.Process(target=helpers.do_tasks, args=(tasks, done)) for _ in range(2)]
    for w in workers:
        w.start()
    tasks.put_many(range(100))
    tasks.join()  # returns only once every task is reported done ...
    assert tasks.unfinished_tasks == 0
    # ... and each worker reports a task before marking it done.
    assert done.qsize() == 100
    assert sorted(done.get_many(1000)) == list(range(100))
    for _ in workers:
        tasks.put(None)
    tasks.join()
    join_all(workers)
    assert all(w.exitcode == 0 for w in workers)


# --- fork safety ------------------------------------------------------------


def test_child_forked_while_a_thread_is_blocked_uses_the_queue() -> None:
    q: ringq.ProcessQueue[Any] = ringq.ProcessQueue(4)
    got: list[Any] = []
    blocked = threading.Thread(target=lambda: got.append(q.get(timeout=HANG_GUARD_S)))
    blocked.start()
    helpers.wait_until(lambda: q.waiting_getters() > 0, "the getter to block")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, 3.12+
        pid = os.fork()
    if pid == 0:  # the child: its copy of the blocked thread does not exist
        code = 1
        try:
            q.put("from the child")
            q.put("second")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    blocked.join(HANG_GUARD_S)
    assert got == ["from the child"]
    assert q.get(timeout=HANG_GUARD_S) == "second"


# --- no segment left behind -------------------------------------------------


def test_names_removed_when_the_creator_exits() -> None:
    name = unique_name()
    out = run_python(
        """
        import sys, ringq
        q = ringq.ProcessQueue(4, name=sys.argv[1])
        q.put("left behind")
        print("created", flush=True)
        """,
        name,
    )
    assert out.returncode == 0 and "created" in out.stdout, out.stderr
    assert leftover_segments() == []


def test_names_removed_when_the_creator_is_killed() -> None:
    name = unique_name()
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, ringq\n"
            "q = ringq.ProcessQueue(4, name=sys.argv[1])\n"
            "print('created', flush=True)\n"
            "time.sleep(600)\n",
            name,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as creator:
        try:
            assert creator.stdout is not None and creator.stderr is not None
            assert creator.stdout.readline().strip() == "created"
            assert leftover_segments() == [name]
            reader: ringq.ProcessQueue[Any] = ringq.ProcessQueue.open(name)
        finally:
            creator.kill()
        creator.wait(HANG_GUARD_S)
        # The creator's reaper removes the name once the creator is gone;
        # a process that still holds the queue keeps it.
        helpers.wait_until(lambda: leftover_segments() == [], "the reaper to remove the name")
        reader.put_bytes(b"still usable")
        assert reader.get_bytes() == b"still usable"
        assert creator.stderr.read() == ""


def test_a_killed_creators_cleanup_leaves_a_later_queue_of_the_same_name_alone() -> None:
    """The creator is SIGKILLed after its name was removed and taken by
    another program's queue: the cleanup after the creator removes the
    creator's other name, and not the other program's queue."""
    taken, left = unique_name(), unique_name()
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, ringq\n"
            "a = ringq.ProcessQueue(4, name=sys.argv[1])\n"
            "b = ringq.ProcessQueue(4, name=sys.argv[2])\n"
            "print('created', flush=True)\n"
            "time.sleep(600)\n",
            taken,
            left,
        ],
        stdout=subprocess.PIPE,
        text=True,
    ) as creator:
        try:
            assert creator.stdout is not None
            assert creator.stdout.readline().strip() == "created"
            # The name is removed, and another program creates its own
            # queue under it.
            os.unlink(f"{SHM_DIR}/{taken}")
            theirs: ringq.ProcessQueue[Any] = ringq.ProcessQueue(4, name=taken)
            theirs.put("theirs")
        finally:
            creator.kill()
        creator.wait(HANG_GUARD_S)
    # The cleanup handles names in the order they were created, so once the
    # second is gone the first has been decided.
    helpers.wait_until(lambda: not os.path.exists(f"{SHM_DIR}/{left}"), "the cleanup of the creator's names")
    assert os.path.exists(f"{SHM_DIR}/{taken}")
    reopened: ringq.ProcessQueue[Any] = ringq.ProcessQueue.open(taken)
    assert reopened.get(timeout=HANG_GUARD_S) == "theirs"
    reopened.close()
    theirs.close()
    del reopened, theirs


def test_nothing_left_after_children_of_every_start_method_exit() -> None:
    for method in START_METHODS:
        ctx = multiprocessing.get_context(method)
        q: ringq.ProcessQueue[Any] = ringq.ProcessQueue(4, name=unique_name())
        results: ringq.ProcessQueue[Any] = ringq.ProcessQueue(4)
        child = ctx.Process(target=helpers.echo_doubled, args=(q, results))
        child.start()
        q.put(21)
        q.put(None)
        assert results.get(timeout=HANG_GUARD_S) == 42
        join_all([child])
        del q
        gc.collect()
        assert leftover_segments() == []


def test_a_subclass_defined_in_a_function_reaches_a_spawn_child() -> None:
    # A subclass pickles as its base class (the receiver gets a plain
    # ProcessQueue, as from open()), so a class the child cannot import
    # is no obstacle.
    class Local(ringq.ProcessQueue):  # type: ignore[type-arg]
        pass

    q = Local(4)
    results: ringq.ProcessQueue[Any] = ringq.ProcessQueue(4)
    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=helpers.echo_doubled, args=(q, results))
    child.start()
    q.put(21)
    q.put(None)
    assert results.get(timeout=HANG_GUARD_S) == 42
    assert results.get(timeout=HANG_GUARD_S) is None
    join_all([child])
