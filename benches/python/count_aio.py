"""Instructions per item of an await that completes at once, for callgrind.

Runs ``put_nowait`` and an awaited ``async_get`` (or asyncio.Queue's
``get``) ``N`` times inside one coroutine, driven by hand: no event loop,
so what is counted is the await itself. Run it twice, with N and with 0,
and divide the difference by N:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python benches/python/count_aio.py ringq 100000
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python benches/python/count_aio.py ringq 0
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import ringq


async def body(q: Any, n: int) -> None:
    put, get = q.put_nowait, q.async_get if hasattr(q, "async_get") else q.get
    for i in range(n):
        put(i)
        await get()


def main() -> None:
    which, n = sys.argv[1], int(sys.argv[2])
    q: Any = ringq.Queue(1024) if which == "ringq" else asyncio.Queue(1024)
    coro = body(q, n)
    try:
        coro.send(None)
    except StopIteration:
        pass


if __name__ == "__main__":
    main()
