"""Subclassing ringq's classes, with and without the standard library's
hooks (_init, _qsize, _put, _get).

A subclass that overrides a hook must behave as the same subclass of the
standard library's class does: most tests here run the same scenario on
both and compare what the hooks saw and what the calls returned.
"""

from __future__ import annotations

import queue
import threading
from types import ModuleType
from typing import Any

import pytest

import ringq
from conftest import STDLIB_HAS_SHUTDOWN

HOOKED_KINDS = ["Queue", "LifoQueue", "PriorityQueue"]
ALL_KINDS = ["Queue", "SimpleQueue", "LifoQueue", "PriorityQueue"]


def queue_maxsize_is_assignable() -> bool:
    try:
        ringq.Queue(3).maxsize = 2
    except AttributeError:
        return False
    return True


needs_assignable_queue_maxsize = pytest.mark.skipif(
    not queue_maxsize_is_assignable(), reason="ringq.Queue.maxsize cannot be assigned in this build"
)


@pytest.mark.parametrize("kind", ALL_KINDS + ["SPSCQueue"])
def test_plain_subclass_keeps_the_native_methods(kind: str) -> None:
    base = getattr(ringq, kind)

    class Plain(base):  # type: ignore[misc,valid-type]
        pass

    assert "put" not in vars(Plain) and Plain.put is base.put
    assert getattr(Plain, "_ringq_stdlib_path", None) is None
    q = Plain(4) if kind in ("Queue", "LifoQueue", "PriorityQueue", "SPSCQueue") else Plain()
    assert isinstance(q, base) and type(q) is Plain
    q.put(2)
    q.put(1)
    assert q.qsize() == 2
    assert sorted([q.get(), q.get()]) == [1, 2]
    assert not hasattr(q, "mutex")  # native: no stdlib attributes


@pytest.mark.parametrize("kind", HOOKED_KINDS)
def test_default_hooks_are_the_stdlib_ones(kind: str) -> None:
    for hook in ("_init", "_qsize", "_put", "_get"):
        assert getattr(getattr(ringq, kind), hook) is getattr(getattr(queue, kind), hook)


def recording_subclass(mod: ModuleType, kind: str, log: list[Any]) -> type:
    base = getattr(mod, kind)

    class Recording(base):  # type: ignore[misc,valid-type]
        def _init(self, maxsize: int) -> None:
            log.append(("init", maxsize))
            super()._init(maxsize)

        def _put(self, item: Any) -> None:
            log.append(("put", item))
            super()._put(item)

        def _get(self) -> Any:
            item = super()._get()
            log.append(("get", item))
            return item

    return Recording


def scenario(q: Any) -> list[Any]:
    """Exercises every method; returns what the calls returned or raised."""
    seen: list[Any] = []

    def attempt(fn: Any, *args: Any) -> None:
        try:
            seen.append(fn(*args))
        except Exception as exc:  # noqa: BLE001 - recorded for comparison
            seen.append(type(exc).__name__)

    for x in (5, 2, 8):
        attempt(q.put, x)
    attempt(q.put_nowait, 1)  # full: maxsize 3
    attempt(q.put, 1, True, 0.01)
    attempt(q.qsize)
    attempt(q.full)
    attempt(q.get)
    attempt(q.get_nowait)
    attempt(q.empty)
    attempt(q.get, True, 0.5)
    attempt(q.get_nowait)
    attempt(q.get, True, 0.01)
    attempt(q.put, 7, True, -1)
    attempt(q.task_done)
    seen.append(q.unfinished_tasks)
    q.maxsize = 1
    attempt(q.put_nowait, 3)
    attempt(q.put_nowait, 4)
    attempt(q.get)
    return seen


@pytest.mark.parametrize("kind", HOOKED_KINDS)
def test_hooked_subclass_behaves_as_the_stdlib_one(kind: str) -> None:
    runs = {}
    for mod in (queue, ringq):
        log: list[Any] = []
        q = recording_subclass(mod, kind, log)(3)
        runs[mod.__name__] = (scenario(q), log)
        assert type(q.mutex).__name__ == "lock" and hasattr(q, "not_empty") and hasattr(q, "queue")
    assert runs["ringq"] == runs["queue"]


@pytest.mark.parametrize("kind", HOOKED_KINDS)
def test_failing_hooks_leave_the_counts_as_the_stdlib_does(kind: str) -> None:
    class Boom(Exception):
        pass

    results = {}
    for mod in (queue, ringq):
        base = getattr(mod, kind)

        class Failing(base):  # type: ignore[misc,valid-type]
            fail_put = fail_get = False

            def _put(self, item: Any) -> None:
                if self.fail_put:
                    raise Boom
                base._put(self, item)

            def _get(self) -> Any:
                if self.fail_get:
                    raise Boom
                return base._get(self)

        q = Failing()
        q.put(1)
        q.fail_put = True
        with pytest.raises(Boom):
            q.put(2)
        q.fail_put, q.fail_get = False, True
        with pytest.raises(Boom):
            q.get()
        q.fail_get = False
        results[mod.__name__] = (q.qsize(), q.unfinished_tasks, q.get())
    assert results["ringq"] == results["queue"] == (1, 1, 1)


@pytest.mark.parametrize("kind", HOOKED_KINDS)
def test_hooked_subclass_blocks_and_wakes(kind: str) -> None:
    log: list[Any] = []
    q = recording_subclass(ringq, kind, log)(1)
    q.put("a")
    t = threading.Thread(target=q.put, args=("b",))
    t.start()
    assert q.get(timeout=60) == "a"
    t.join(60)
    assert q.get(timeout=60) == "b"
    assert ("put", "b") in log


@pytest.mark.skipif(not STDLIB_HAS_SHUTDOWN, reason="stdlib shutdown is 3.13+")
@pytest.mark.parametrize("kind", HOOKED_KINDS)
def test_hooked_shutdown_matches_the_stdlib(kind: str) -> None:
    results = {}
    for mod in (queue, ringq):
        q = recording_subclass(mod, kind, [])(4)
        for x in (1, 2, 3):
            q.put(x)
        q.get()
        q.shutdown(immediate=True)
        results[mod.__name__] = (q.qsize(), q.unfinished_tasks, q.is_shutdown)
        with pytest.raises(mod.ShutDown):
            q.get()
        with pytest.raises(mod.ShutDown):
            q.put(1)
    assert results["ringq"] == results["queue"]


@pytest.mark.parametrize("kind", HOOKED_KINDS)
def test_hooked_shutdown_on_every_version(kind: str) -> None:
    q = recording_subclass(ringq, kind, [])()
    q.put(1)
    q.shutdown()
    with pytest.raises(ringq.ShutDown):
        q.put(2)
    assert q.get() == 1
    with pytest.raises(ringq.ShutDown):
        q.get()


@pytest.mark.parametrize("kind", ["LifoQueue", "PriorityQueue"])
def test_super_calls_from_a_hooked_subclass_reach_the_hooks(kind: str) -> None:
    """The native methods themselves hand a hooked instance to the
    standard-library path, so super() works from an overriding method."""
    puts: list[Any] = []

    class Logged(getattr(ringq, kind)):  # type: ignore[misc]
        def _put(self, item: Any) -> None:
            puts.append(item)
            getattr(queue, kind)._put(self, item)

        def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
            super().put(item, block, timeout)

    q = Logged()
    q.put(1)
    getattr(ringq, kind).put(q, 2)  # the native method, called directly
    assert puts == [1, 2] and len(q.queue) == 2 and q.qsize() == 2
    assert sorted(q.get_many(5)) == [1, 2]


@pytest.mark.parametrize("kind", ["SimpleQueue", "LifoQueue", "PriorityQueue"])
def test_subclass_with_its_own_constructor_arguments(kind: str) -> None:
    base = getattr(ringq, kind)

    class Named(base):  # type: ignore[misc,valid-type]
        def __init__(self, name: str, size: int = 0) -> None:
            if kind == "SimpleQueue":
                super().__init__()
            else:
                super().__init__(size)
            self.name = name

    q = Named("jobs", 2)
    assert q.name == "jobs" and "put" not in vars(Named)
    if kind != "SimpleQueue":
        assert q.maxsize == 2
    q.put(1)
    assert q.get() == 1


@needs_assignable_queue_maxsize
def test_queue_subclass_with_its_own_constructor_arguments() -> None:
    class Named(ringq.Queue):  # type: ignore[misc]
        def __init__(self, name: str, size: int = 0) -> None:
            super().__init__(size)
            self.name = name

    q = Named("jobs", 2)
    assert q.name == "jobs" and q.maxsize == 2
    q.put(1)
    q.put(2)
    assert q.full()


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_init_subclass_keywords_pass_through(kind: str) -> None:
    base = getattr(ringq, kind)

    class Flavoured(base):  # type: ignore[misc,valid-type]
        def __init_subclass__(cls, flavour: str = "", **kwargs: Any) -> None:
            super().__init_subclass__(**kwargs)
            cls.flavour = flavour

    class Sweet(Flavoured, flavour="sweet"):
        pass

    assert Sweet.flavour == "sweet"  # type: ignore[attr-defined]
    with pytest.raises(TypeError):

        class Bad(base, nonsense=1):  # type: ignore[misc,valid-type,call-arg]
            pass


def test_hooks_added_further_down_the_tree() -> None:
    class Plain(ringq.LifoQueue):  # type: ignore[misc]
        def describe(self) -> str:
            return "plain"

    class Hooked(Plain):
        def _get(self) -> Any:
            return ("via hook", super()._get())

    class Deeper(Hooked):
        pass

    assert getattr(Plain, "_ringq_stdlib_path") is None
    for cls in (Hooked, Deeper):
        q = cls()
        q.put(1)
        assert q.get() == ("via hook", 1) and q.describe() == "plain"
    assert Plain().describe() == "plain"


def test_hooked_subclass_with_a_mixin() -> None:
    class Mixin:
        def greet(self) -> str:
            return "hi"

    class Mixed(Mixin, ringq.PriorityQueue):  # type: ignore[misc]
        def _put(self, item: Any) -> None:
            queue.PriorityQueue._put(self, (-item[0], item[1]))  # type: ignore[arg-type]

        def _get(self) -> Any:
            key, value = queue.PriorityQueue._get(self)  # type: ignore[arg-type]
            return (-key, value)

    q = Mixed()
    for x in (1, 3, 2):
        q.put((x, str(x)))
    assert [q.get()[0] for _ in range(3)] == [3, 2, 1] and q.greet() == "hi"
