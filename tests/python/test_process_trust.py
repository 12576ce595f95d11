"""ProcessQueue.open() and the files it trusts.

Anyone on the machine can create /dev/shm/<name> before the program that
means to, and get() unpickles what it reads, so opening a stranger's file
would run the stranger's code. open() refuses a file of another owner, or
one its group or everyone can write, unless the caller says whom to trust.
Cases that need a second user run only as root.
"""

from __future__ import annotations

import gc
import os
import pickle
import sys
from typing import Any

import pytest

import ringq
from process_helpers import HANG_GUARD_S, SHM_DIR, leftover_segments, unique_name

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="shared memory queues need Linux")

STRANGER = 65534  # nobody
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="becoming another user needs root")


@pytest.fixture(autouse=True)
def no_leaked_names() -> Any:
    yield
    gc.collect()
    assert leftover_segments() == []


class Payload:
    """A pickle that, when loaded, creates a file: the squatter's code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (open, (self.marker, "w"))


def squat(name: str, mode: int, marker: str) -> None:
    """In a child running as another user, create `name` with `mode` and put
    a payload in it; the file outlives the child."""
    payload = pickle.dumps(Payload(marker))
    # The child cannot read the interpreter's files once it is another
    # user: a named queue made here first imports what creating one needs.
    warm = ringq.ProcessQueue(1, name=unique_name())
    warm.unlink()
    warm.close()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.setgid(STRANGER)
            os.setuid(STRANGER)
            q = ringq.ProcessQueue(4, name=name)
            q.put_bytes(payload)
            os.chmod(f"{SHM_DIR}/{name}", mode)
            code = 0
        finally:
            os._exit(code)  # no destructor: the name stays
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@needs_root
@pytest.mark.parametrize("mode", [0o666, 0o600])
def test_a_queue_another_user_created_first_is_refused(tmp_path: Any, mode: int) -> None:
    name = unique_name()
    marker = str(tmp_path / "ran")
    os.chmod(tmp_path, 0o777)
    squat(name, mode, marker)
    try:
        with pytest.raises(PermissionError) as info:
            ringq.ProcessQueue.open(name)
        text = str(info.value)
        assert "belongs to another user" in text
        assert f"uid {STRANGER}" in text and f"{mode:03o}" in text
        assert info.value.filename == f"{SHM_DIR}/{name}"
        # The name is taken: creating it fails, and nothing was unpickled.
        with pytest.raises(FileExistsError):
            ringq.ProcessQueue(4, name=name)
        assert not os.path.exists(marker)
        if mode == 0o600:
            # Trusting that owner is a choice the caller can make.
            q = ringq.ProcessQueue.open(name, trusted_owner=STRANGER)
            assert q.qsize() == 1
            q.close()
        else:
            with pytest.raises(PermissionError):
                ringq.ProcessQueue.open(name, trusted_owner=STRANGER)
    finally:
        os.unlink(f"{SHM_DIR}/{name}")


def test_a_queue_its_group_can_write_needs_the_group_trusted() -> None:
    name = unique_name()
    q = ringq.ProcessQueue(4, name=name)
    path = f"{SHM_DIR}/{name}"
    os.chmod(path, 0o660)
    with pytest.raises(PermissionError, match="group can write"):
        ringq.JoinableProcessQueue.open(name)
    with pytest.raises(PermissionError):
        ringq.ProcessQueue.open(name, trusted_group=os.getegid() + 1)
    member = ringq.ProcessQueue.open(name, trusted_group=os.getegid())
    q.put("for the group")
    assert member.get(timeout=HANG_GUARD_S) == "for the group"

    os.chmod(path, 0o666)
    with pytest.raises(PermissionError, match="every user can write"):
        ringq.ProcessQueue.open(name, trusted_group=os.getegid())
    anyone = ringq.ProcessQueue.open(name, trust_anyone=True)
    assert anyone.empty()
    for handle in (member, anyone, q):
        handle.close()
    del member, anyone, q


def test_trust_arguments_are_keyword_only_and_typed() -> None:
    with pytest.raises(TypeError):
        ringq.ProcessQueue.open("x", 0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        ringq.ProcessQueue.open("x", trusted_owner="root")  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        ringq.ProcessQueue.open("x", trusted_group=-1)
