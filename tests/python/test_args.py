"""Bad arguments raise clear Python exceptions, never crash."""

from __future__ import annotations

import math

import pytest

import ringq


@pytest.mark.parametrize("maxsize", [2**40, 2**62, 2**63 - 1])
def test_huge_maxsize_is_refused(maxsize: int) -> None:
    with pytest.raises((MemoryError, ValueError), match="maxsize"):
        ringq.Queue(maxsize)


def test_maxsize_types() -> None:
    with pytest.raises(TypeError):
        ringq.Queue(1.5)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        ringq.Queue(2**80)
    with pytest.raises(ValueError, match="maxsize must be at least 1"):
        ringq.SPSCQueue(0)
    with pytest.raises((MemoryError, ValueError), match="maxsize"):
        ringq.SPSCQueue(2**62)


def test_nan_timeout() -> None:
    for q in (ringq.Queue(), ringq.SimpleQueue(), ringq.SPSCQueue(1)):
        with pytest.raises(ValueError, match="NaN"):
            q.get(timeout=math.nan)


def test_huge_timeouts_wait_for_the_item() -> None:
    for timeout in (1e300, math.inf, 2**70):
        q = ringq.Queue()
        q.put(1)
        assert q.get(timeout=timeout) == 1


def test_wrong_argument_names_and_counts() -> None:
    q = ringq.Queue()
    with pytest.raises(TypeError):
        q.put()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        q.put(1, True, None, "extra")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        q.get(blocking=False)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ringq.SimpleQueue(5)  # type: ignore[call-arg]
