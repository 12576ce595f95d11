"""Flags are read for their truth value, as the standard library reads them
(`if immediate:`, `if not block:`)."""

from __future__ import annotations

from types import ModuleType

import pytest


@pytest.mark.parametrize("immediate", [1, "yes", [0], 2.5])
def test_shutdown_immediate_is_read_for_truth(shutdown_mod: ModuleType, immediate: object) -> None:
    q = shutdown_mod.Queue()
    q.put(1)
    q.put(2)
    q.shutdown(immediate)
    with pytest.raises(shutdown_mod.ShutDown):
        q.get_nowait()
    assert q.unfinished_tasks == 0


@pytest.mark.parametrize("immediate", [0, "", [], None, 0.0])
def test_shutdown_not_immediate_is_read_for_truth(shutdown_mod: ModuleType, immediate: object) -> None:
    q = shutdown_mod.Queue()
    q.put(1)
    q.shutdown(immediate)
    assert q.get_nowait() == 1
    with pytest.raises(shutdown_mod.ShutDown):
        q.get_nowait()


def test_shutdown_immediate_keyword(shutdown_mod: ModuleType) -> None:
    q = shutdown_mod.Queue()
    q.put(1)
    q.shutdown(immediate=True)
    assert q.is_shutdown
    with pytest.raises(shutdown_mod.ShutDown):
        q.get(timeout=0)


class Falsy:
    def __bool__(self) -> bool:
        return False


class Broken:
    def __bool__(self) -> bool:
        raise ZeroDivisionError("no truth value")


def test_block_uses_dunder_bool(qmod: ModuleType) -> None:
    q = qmod.Queue(1)
    q.put(1)
    with pytest.raises(qmod.Full):
        q.put(2, Falsy())
    assert q.get(Falsy()) == 1
    with pytest.raises(qmod.Empty):
        q.get(Falsy())


def test_a_flag_whose_truth_raises_raises(qmod: ModuleType) -> None:
    q = qmod.Queue(1)
    with pytest.raises(ZeroDivisionError):
        q.put(1, Broken())
    with pytest.raises(ZeroDivisionError):
        q.get(Broken())
    assert q.qsize() == 0
