"""The names of the shared-memory queues this process created.

A named ``ProcessQueue`` is a file in ``/dev/shm``. Its name lasts as long
as the queue object that created it, and never longer than the process
that created it:

- the object removes the name when it is garbage collected, or when its
  ``unlink()`` is called;
- :func:`_remove_leftovers` removes the names still there when the process
  exits normally;
- ``multiprocessing``'s resource tracker, a separate process that outlives
  this one, removes them if this process is killed.

Each name is removed only if it still refers to the file this process
created (same device and inode), so a queue created later under the same
name by someone else is left alone.
"""

from __future__ import annotations

import atexit
import os
from multiprocessing import resource_tracker

_SHM_DIR = "/dev/shm"

# name -> (pid of the creating process, st_dev, st_ino)
_created: dict[str, tuple[int, int, int]] = {}


def created(name: str, dev: int, ino: int) -> None:
    """Record a segment this process just created under ``name``."""
    resource_tracker.register("/" + name, "shared_memory")
    _created[name] = (os.getpid(), dev, ino)


def removed(name: str) -> None:
    """Forget ``name`` once this process has removed it."""
    entry = _created.get(name)
    if entry is not None and entry[0] == os.getpid():
        del _created[name]
        resource_tracker.unregister("/" + name, "shared_memory")


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
