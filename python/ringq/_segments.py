"""The names of the shared-memory queues this process created.

A named ``ProcessQueue`` is a file in ``/dev/shm``. Its name lasts as long
as the queue object that created it, and never longer than the process
that created it:

- the object removes the name when it is garbage collected, or when its
  ``unlink()`` is called;
- :func:`_remove_leftovers` removes the names still there when the process
  exits normally;
- a reaper process (``_reaper.py``), started with the first named queue,
  removes them once this process (and the children it forked) are gone,
  however they died.

Each name is removed only if it still refers to the file this process
created (same device and inode), so a queue created later under the same
name by someone else is left alone, on every path. (``multiprocessing``'s
resource tracker is not used: it removes by name alone.)
"""

from __future__ import annotations

import atexit
import os
import sys
import threading

_SHM_DIR = "/dev/shm"
_REAPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_reaper.py")

# name -> (pid of the creating process, st_dev, st_ino)
_created: dict[str, tuple[int, int, int]] = {}

# The write end of the pipe to this process's reaper. A forked child
# reports to its parent's reaper through the inherited end; a spawned one
# starts its own.
_reaper_fd: int | None = None
_reaper_lock = threading.Lock()


def _start_reaper() -> int:
    """Starts this process's reaper; returns the write end of its pipe."""
    read_end, write_end = os.pipe()  # both close-on-exec
    try:
        # A session of its own: a Ctrl-C or a kill aimed at this process
        # group must not take the cleanup down with it. posix_spawn rather
        # than subprocess: no Popen object to outlive, nothing to reap here
        # (the reaper outlives this process, and init reaps it).
        os.posix_spawn(
            sys.executable,
            [sys.executable, "-I", _REAPER],
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, read_end, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            ],
            setsid=True,
        )
    except BaseException:
        os.close(write_end)
        raise
    finally:
        os.close(read_end)
    return write_end


def _report(line: str) -> None:
    """Sends one line to the reaper, starting it first if need be."""
    global _reaper_fd
    with _reaper_lock:
        if _reaper_fd is None:
            _reaper_fd = _start_reaper()
        # One write of less than PIPE_BUF bytes: never interleaved with a
        # forked child's report.
        os.write(_reaper_fd, (line + "\n").encode("ascii"))


def _after_fork_in_child() -> None:
    # Another thread of the parent may have held the lock during the fork.
    global _reaper_lock
    _reaper_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def created(name: str, dev: int, ino: int) -> None:
    """Record a segment this process just created under ``name``."""
    try:
        _report(f"C {dev} {ino} {name}")
    except (OSError, ValueError, TypeError):
        # No reaper (an embedded interpreter without sys.executable, no
        # processes left): the queue works, and only a kill leaves its
        # name behind.
        pass
    _created[name] = (os.getpid(), dev, ino)


def removed(name: str) -> None:
    """Forget ``name`` once this process has removed it."""
    entry = _created.get(name)
    if entry is not None and entry[0] == os.getpid():
        del _created[name]
        if _reaper_fd is None:
            return  # no reaper was started: nothing to tell
        try:
            _report(f"R {name}")
        except OSError:
            pass  # the reaper is gone: nothing left to tell it


@atexit.register
def _remove_leftovers() -> None:
    pid = os.getpid()
    for name, (owner, dev, ino) in list(_created.items()):
        if owner != pid:
            continue  # inherited through fork: the parent's to remove
        path = os.path.join(_SHM_DIR, name)
        try:
            st = os.stat(path)
            if (st.st_dev, st.st_ino) == (dev, ino):
                os.unlink(path)
        except OSError:
            pass
        removed(name)
