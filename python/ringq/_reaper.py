"""Removes the names of the queues a process created, once it is gone.

A process that creates a named ``ProcessQueue`` starts one of these (see
``_segments.py``) and keeps the write end of a pipe to it; children it
forks inherit that end. The reaper reads what they report::

    C <dev> <ino> <name>   created: <name> is a segment with this device
                           and inode
    R <name>               removed by its creator: forget it

When every write end is closed (the creator and its children have exited,
however they died), it removes each name still reported, but only while
that name is the very file that was created. It keeps each file open from
the moment it is reported, so the inode cannot be reused by another file
in the meantime, and compares the name's device and inode with it just
before the unlink. A name removed by anyone else, or taken by another
program since, is left alone.

What remains is the moment between that comparison and the unlink: a
program that removes the name and creates its own under it in exactly that
moment loses it. ``unlink`` takes no descriptor, so no program can close
that window; it is microseconds long, after the creator has died.

Run as a script (``python -I _reaper.py``) with the pipe's read end on
standard input. It imports nothing beyond the standard library, ignores
SIGINT and SIGTERM (a Ctrl-C meant for the creator's process group must
not stop the cleanup), and prints nothing.
"""

from __future__ import annotations

import os
import signal
import sys

SHM_DIR = "/dev/shm"


def valid_name(name: str) -> bool:
    """The names the queues accept: no slash, no leading dot."""
    return (
        0 < len(name) <= 200
        and not name.startswith(".")
        and all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    )


def track(line: str, tracked: dict[str, int]) -> None:
    """Applies one report to `tracked` (name -> descriptor of the file)."""
    parts = line.split(" ", 3)
    if parts[0] == "R" and len(parts) == 2:
        fd = tracked.pop(parts[1], None)
        if fd is not None:
            os.close(fd)
        return
    if parts[0] != "C" or len(parts) != 4 or not valid_name(parts[3]):
        return
    dev, ino, name = int(parts[1]), int(parts[2]), parts[3]
    try:
        fd = os.open(os.path.join(SHM_DIR, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return  # already gone: nothing to remove
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != (dev, ino):
        os.close(fd)  # the name is already someone else's
        return
    old = tracked.pop(name, None)
    if old is not None:
        os.close(old)
    tracked[name] = fd


def reap(tracked: dict[str, int]) -> None:
    """Removes each tracked name that is still the file it was."""
    for name, fd in tracked.items():
        path = os.path.join(SHM_DIR, name)
        try:
            mine = os.fstat(fd)
            now = os.lstat(path)
            if (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
                os.unlink(path)
        except OSError:
            pass
        finally:
            os.close(fd)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    tracked: dict[str, int] = {}
    pending = b""
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            try:
                track(line.decode("ascii"), tracked)
            except (UnicodeDecodeError, ValueError):
                pass  # not a report this version writes
    reap(tracked)


if __name__ == "__main__":
    main()
    sys.exit(0)
