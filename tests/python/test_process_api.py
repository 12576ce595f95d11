"""ProcessQueue and JoinableProcessQueue within one process: the
multiprocessing.Queue API, the errors it raises, batches, bytes, names.

The tests in the first part run against multiprocessing.Queue as well, so
they pin down the behaviour ProcessQueue must share with it. Nothing here
asserts how long anything takes; a timeout only bounds how long a failing
test can wait.
"""

from __future__ import annotations

import gc
import inspect
import multiprocessing
import os
import pickle
import queue
import socket
import sys
import threading
import time
from typing import Any, Callable

import pytest

import ringq
from process_helpers import HANG_GUARD_S, SHM_DIR, leftover_segments, unique_name

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="shared memory queues need Linux")

DEFAULT_MAX_MESSAGE_SIZE = 16384
DEFAULT_CAPACITY = 1024


@pytest.fixture(autouse=True)
def no_leaked_names() -> Any:
    yield
    gc.collect()
    assert leftover_segments() == []


# --- shared with multiprocessing.Queue -----------------------------------

MAKERS: dict[str, Callable[..., Any]] = {
    "multiprocessing": lambda maxsize=0: multiprocessing.get_context("fork").Queue(maxsize),
    "ringq": lambda maxsize=0: ringq.ProcessQueue(maxsize),
}


@pytest.fixture(params=sorted(MAKERS))
def make(request: pytest.FixtureRequest) -> Callable[..., Any]:
    return MAKERS[request.param]


def test_fifo_objects_round_trip(make: Callable[..., Any]) -> None:
    q = make()
    items = [1, "two", (3.0, None), {"four": [4]}, b"five", list(range(100))]
    for item in items:
        q.put(item)
    assert [q.get(timeout=HANG_GUARD_S) for _ in items] == items
    q.close()
    q.join_thread()


def test_empty_and_full_raise_queue_exceptions(make: Callable[..., Any]) -> None:
    q = make(2)
    with pytest.raises(queue.Empty):
        q.get_nowait()
    with pytest.raises(queue.Empty):
        q.get(False)
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)
    q.put(1)
    q.put_nowait(2)
    with pytest.raises(queue.Full):
        q.put_nowait(3)
    with pytest.raises(queue.Full):
        q.put(3, True, 0.01)
    with pytest.raises(queue.Full):
        q.put(3, block=False)
    assert [q.get(timeout=HANG_GUARD_S), q.get(timeout=HANG_GUARD_S)] == [1, 2]


@pytest.mark.parametrize("timeout", [0, -1, -0.5])
def test_zero_and_negative_timeouts_try_once(make: Callable[..., Any], timeout: float) -> None:
    q = make(1)
    with pytest.raises(queue.Empty):
        q.get(timeout=timeout)
    q.put(1)
    with pytest.raises(queue.Full):
        q.put(2, timeout=timeout)


def test_keywords_as_multiprocessing_names_them(make: Callable[..., Any]) -> None:
    q = make()
    q.put(obj="x", block=True, timeout=None)
    assert q.get(block=True, timeout=HANG_GUARD_S) == "x"


def test_close_means_this_object_is_done(make: Callable[..., Any]) -> None:
    q = make()
    q.close()
    with pytest.raises(ValueError, match="is closed"):
        q.put(1)
    with pytest.raises(ValueError, match="is closed"):
        q.get()
    q.close()  # closing twice is fine
    q.join_thread()
    q.cancel_join_thread()


def test_qsize_counts_messages(make: Callable[..., Any]) -> None:
    q = make(4)
    for i in range(3):
        q.put(i)
    # multiprocessing counts a put at once (its feeder may lag behind).
    assert q.qsize() == 3
    for _ in range(3):
        q.get(timeout=HANG_GUARD_S)
    assert q.qsize() == 0


# --- ProcessQueue only ----------------------------------------------------


def test_exceptions_are_the_standard_librarys() -> None:
    assert ringq.Empty is queue.Empty and ringq.Full is queue.Full


def test_blocked_getters_each_get_one_message() -> None:
    # Two threads wait on an empty queue; each message goes to exactly one
    # of them, and one that finds its message taken waits on.
    q: ringq.ProcessQueue[int] = ringq.ProcessQueue(4)
    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.append(q.get(timeout=HANG_GUARD_S))) for _ in range(2)]
    for t in threads:
        t.start()
    wait_until = time.monotonic() + HANG_GUARD_S
    while q.waiting_getters() < 2 and time.monotonic() < wait_until:
        time.sleep(0.001)
    q.put(1)
    q.put(2)
    for t in threads:
        t.join(HANG_GUARD_S)
    assert sorted(got) == [1, 2]


def test_defaults() -> None:
    q: ringq.ProcessQueue[int] = ringq.ProcessQueue()
    assert q.maxsize == DEFAULT_CAPACITY
    assert q.max_message_size == DEFAULT_MAX_MESSAGE_SIZE
    assert q.name is None and not q.is_shutdown
    assert ringq.ProcessQueue(-5).maxsize == DEFAULT_CAPACITY
    assert ringq.ProcessQueue(7).maxsize == 7
    # The signature advertises the real default.
    sig = inspect.signature(ringq.ProcessQueue)
    assert sig.parameters["max_message_size"].default == DEFAULT_MAX_MESSAGE_SIZE
    assert sig.parameters["max_message_size"].kind is inspect.Parameter.KEYWORD_ONLY
    assert ringq.ProcessQueue[int] is not None  # annotations work at run time


def test_full_and_empty_snapshots() -> None:
    q = ringq.ProcessQueue(2)
    assert q.empty() and not q.full()
    q.put(1)
    assert not q.empty() and not q.full()
    q.put(2)
    assert q.full() and q.qsize() == 2


def test_accepts_and_ignores_ctx() -> None:
    q = ringq.ProcessQueue(3, ctx=multiprocessing.get_context())
    q.put(1)
    assert q.get() == 1


def test_messages_are_pickle_protocol_5() -> None:
    q = ringq.ProcessQueue(4)
    q.put({"k": 1})
    data = q.get_bytes()
    assert data[:2] == b"\x80\x05"
    assert pickle.loads(data) == {"k": 1}


def test_bytes_round_trip_unpickled() -> None:
    q = ringq.ProcessQueue(8, max_message_size=64)
    q.put_bytes(b"raw")
    q.put_bytes(bytearray(b"array"))
    q.put_bytes(memoryview(b"xxviewxx")[2:6])
    q.put_bytes(b"")
    q.put_bytes(b"m" * 64)
    assert [q.get_bytes() for _ in range(5)] == [b"raw", b"array", b"view", b"", b"m" * 64]
    with pytest.raises(TypeError):
        q.put_bytes("text")  # type: ignore[arg-type]
    with pytest.raises(BufferError):
        q.put_bytes(memoryview(b"abcdef")[::2])


def test_message_too_large_is_a_clear_value_error() -> None:
    q = ringq.ProcessQueue(4, max_message_size=100)
    with pytest.raises(ValueError, match=r"larger than this queue's max_message_size of 100 bytes.*max_message_size="):
        q.put(b"x" * 200)
    with pytest.raises(ValueError, match="max_message_size of 100"):
        q.put_bytes(b"x" * 101)
    q.put_bytes(b"x" * 100)
    assert q.qsize() == 1  # nothing else went in


def test_invalid_options() -> None:
    with pytest.raises(ValueError):
        ringq.ProcessQueue(4, max_message_size=0)
    with pytest.raises(ValueError):
        ringq.ProcessQueue(1 << 30)  # above the largest capacity
    with pytest.raises(OverflowError):
        ringq.ProcessQueue(4, max_message_size=-1)
    with pytest.raises(TypeError):
        ringq.ProcessQueue("4")  # type: ignore[arg-type]


def test_bad_timeouts() -> None:
    q = ringq.ProcessQueue(1)
    with pytest.raises(TypeError):
        q.get(timeout="soon")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NaN"):
        q.get(timeout=float("nan"))
    # Like multiprocessing, a timeout counts only when blocking.
    with pytest.raises(queue.Empty):
        q.get(False, "ignored")  # type: ignore[arg-type]


def test_unpicklable_object_raises_and_puts_nothing() -> None:
    q = ringq.ProcessQueue(4)
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        q.put(lambda: None)
    assert q.empty()


def test_objects_only_multiprocessing_can_pickle_still_go() -> None:
    # Plain pickle refuses a socket; multiprocessing's ForkingPickler sends
    # its descriptor, as multiprocessing.Queue would.
    q = ringq.ProcessQueue(4)
    a, b = socket.socketpair()
    with a, b:
        q.put(a)
        got = q.get()
        with got:
            got.sendall(b"ping")
            assert b.recv(4) == b"ping"


def test_unpickling_error_consumes_the_message() -> None:
    q = ringq.ProcessQueue(4)
    q.put_bytes(b"not a pickle")
    q.put("next")
    with pytest.raises(pickle.UnpicklingError):
        q.get()
    assert q.get() == "next"


def test_batches() -> None:
    q = ringq.ProcessQueue(64)
    q.put_many(range(10))
    q.put_many(iter(["a", "b"]))
    q.put_many([])
    assert q.get_many(4) == [0, 1, 2, 3]
    assert q.get_many(100) == [4, 5, 6, 7, 8, 9, "a", "b"]
    with pytest.raises(queue.Empty):
        q.get_many(3, block=False)
    with pytest.raises(queue.Empty):
        q.get_many(3, timeout=0.01)
    with pytest.raises(ValueError, match="max_items"):
        q.get_many(0)
    q.put_many_bytes([b"x", bytearray(b"y"), memoryview(b"z")])
    assert q.get_many_bytes(10) == [b"x", b"y", b"z"]


def test_put_many_larger_than_a_chunk_and_than_the_queue() -> None:
    q = ringq.ProcessQueue(300)
    q.put_many(range(300))
    with pytest.raises(queue.Full):
        q.put_many([1], block=False)
    with pytest.raises(queue.Full):
        q.put_many([1], timeout=0.01)
    got: list[int] = []
    while len(got) < 300:
        got += q.get_many(1000)
    assert got == list(range(300))


def test_put_many_full_part_way_keeps_what_went_in() -> None:
    q = ringq.ProcessQueue(3)
    with pytest.raises(queue.Full):
        q.put_many(range(5), timeout=0.01)
    assert q.get_many(10) == [0, 1, 2]


def test_put_many_puts_what_came_before_a_bad_item() -> None:
    q = ringq.ProcessQueue(8, max_message_size=64)
    with pytest.raises(ValueError, match="max_message_size"):
        q.put_many([1, 2, b"x" * 100, 3])
    assert q.get_many(10) == [1, 2]

    def broken() -> Any:
        yield "a"
        raise RuntimeError("iterator broke")

    with pytest.raises(RuntimeError, match="iterator broke"):
        q.put_many(broken())
    assert q.get_many(10) == ["a"]
    with pytest.raises(ValueError, match="max_message_size"):
        q.put_many_bytes([b"ok", b"y" * 65])
    assert q.get_many_bytes(10) == [b"ok"]


def test_get_many_keeps_the_messages_after_one_that_fails_to_unpickle() -> None:
    q = ringq.ProcessQueue(8)
    q.put(1)
    q.put_bytes(b"garbage")
    q.put(3)
    q.put(4)
    assert q.get_many(10) == [1]  # stops before the bad message
    with pytest.raises(pickle.UnpicklingError):
        q.get_many(10)  # the bad one raises; 3 and 4 are kept
    assert q.get() == 3
    assert q.get_many(10) == [4]
    q.put_bytes(b"garbage")
    q.put(5)
    with pytest.raises(pickle.UnpicklingError):
        q.get_many(10)
    assert q.get_many(10) == [5]


def test_shutdown_is_queue_wide() -> None:
    name = unique_name()
    q = ringq.ProcessQueue(8, name=name)
    other = ringq.ProcessQueue.open(name)  # a second handle on the same queue
    q.put(1)
    q.put(2)
    other.shutdown()
    assert q.is_shutdown and other.is_shutdown
    with pytest.raises(ringq.ShutDown):
        q.put(3)
    with pytest.raises(ringq.ShutDown):
        q.put_many([3])
    assert q.get() == 1 and q.get_many(5) == [2]
    with pytest.raises(ringq.ShutDown):
        q.get()
    with pytest.raises(ringq.ShutDown):
        q.get_nowait()
    with pytest.raises(ringq.ShutDown):
        other.get_many_bytes(3)


def test_shutdown_immediate_discards_and_counts_tasks_done() -> None:
    q: ringq.JoinableProcessQueue[int] = ringq.JoinableProcessQueue(8)
    q.put_many([1, 2, 3])
    assert q.unfinished_tasks == 3
    q.get()
    q.shutdown(immediate=True)
    assert q.unfinished_tasks == 1  # the one taken is not done yet
    with pytest.raises(ringq.ShutDown):
        q.get()
    q.task_done()
    q.join()


def test_joinable_counts_tasks() -> None:
    q: ringq.JoinableProcessQueue[int] = ringq.JoinableProcessQueue(4)
    assert isinstance(q, ringq.ProcessQueue)
    q.join()  # nothing to wait for
    q.put(1)
    q.put_many([2, 3])
    q.put_bytes(pickle.dumps(4))
    assert q.unfinished_tasks == 4
    with pytest.raises(queue.Full):
        q.put(5, timeout=0.01)
    with pytest.raises(queue.Full):
        q.put_many([5, 6], block=False)
    assert q.unfinished_tasks == 4  # failed puts count nothing
    assert q.get_many(4) == [1, 2, 3, 4]
    for _ in range(4):
        q.task_done()
    with pytest.raises(ValueError, match="too many times"):
        q.task_done()
    q.join()


def test_no_python_objects_held_for_the_gc_to_see() -> None:
    # The queue holds bytes in shared memory, never Python objects: the GC
    # finds nothing to traverse in it, whatever was put.
    q = ringq.ProcessQueue(4)
    item = [1, 2, 3]
    q.put(item)
    assert gc.get_referents(q) == [type(q)]  # its class, nothing else
    assert not any(r is q for r in gc.get_referrers(item))


def test_repr() -> None:
    q = ringq.JoinableProcessQueue(5, max_message_size=64)
    assert repr(q) == "<ringq.JoinableProcessQueue maxsize=5 max_message_size=64 name=None>"


# --- names ----------------------------------------------------------------


def test_named_queue_opens_and_unlinks() -> None:
    name = unique_name()
    q = ringq.ProcessQueue(4, name=name)
    assert q.name == name
    assert os.stat(os.path.join(SHM_DIR, name)).st_mode & 0o777 == 0o600
    other = ringq.ProcessQueue.open(name)
    assert type(other) is ringq.ProcessQueue and other.name == name
    q.put("hello")
    assert other.get() == "hello"
    assert ringq.JoinableProcessQueue.open("/" + name).name == name
    with pytest.raises(FileExistsError):
        ringq.ProcessQueue(4, name=name)
    q.unlink()
    assert leftover_segments() == []
    with pytest.raises(FileNotFoundError):
        ringq.ProcessQueue.open(name)
    with pytest.raises(FileNotFoundError):
        q.unlink()
    q.put("still works")
    assert other.get() == "still works"


def test_name_removed_when_the_creating_object_goes() -> None:
    name = unique_name()
    q = ringq.ProcessQueue(4, name=name)
    opener = ringq.ProcessQueue.open(name)
    del opener  # an opener does not remove the name
    assert leftover_segments() == [name]
    del q
    gc.collect()
    assert leftover_segments() == []


def test_a_later_queue_of_the_same_name_is_left_alone() -> None:
    name = unique_name()
    old = ringq.ProcessQueue(4, name=name)
    opener = ringq.ProcessQueue.open(name)
    opener.unlink()  # anyone may remove the name
    new = ringq.ProcessQueue(4, name=name)
    del old  # must not remove the new queue's name
    gc.collect()
    assert leftover_segments() == [name]
    assert ringq.ProcessQueue.open(name).maxsize == new.maxsize
    with pytest.raises(FileNotFoundError):
        opener.unlink()  # the name now belongs to another queue
    del new
    gc.collect()


def test_open_errors() -> None:
    with pytest.raises(FileNotFoundError):
        ringq.ProcessQueue.open(unique_name())
    with pytest.raises(ValueError, match="name"):
        ringq.ProcessQueue.open("no/slashes")
    with pytest.raises(ValueError, match="name"):
        ringq.ProcessQueue(4, name="")
    with pytest.raises(ValueError, match="anonymous"):
        ringq.ProcessQueue(4).unlink()
    # A file in /dev/shm that is not a queue.
    name = unique_name()
    path = os.path.join(SHM_DIR, name)
    with open(path, "wb") as f:
        f.write(b"\0" * 8192)
    try:
        with pytest.raises(ValueError, match="not a ringq"):
            ringq.ProcessQueue.open(name)
    finally:
        os.unlink(path)
