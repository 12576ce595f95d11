"""An asyncio front end handing work to a thread pool through queues.

A small line-protocol server on the standard library (``asyncio``) takes
requests such as ``fib 27``. It does not compute on its event loop: each
request becomes a job on one queue, which worker *threads* take with the
plain blocking ``get()``; each result comes back on another queue, which
the loop awaits. One ringq queue serves threads and coroutines alike:
threads call ``put``/``get``, coroutines ``await async_put``/``async_get``.

    python examples/python/asyncio_bridge.py --impl ringq
    python examples/python/asyncio_bridge.py --impl janus   # pip install janus

Without ``--serve`` the script is its own client: it starts the server on
127.0.0.1 (a free port), sends ``--requests`` requests over a few
connections, checks every answer and prints a summary. With ``--serve PORT``
it keeps serving until Ctrl-C; try ``nc 127.0.0.1 PORT``.

What it shows:

- Jobs and results travel on separate queues, and each job carries the id
  of the future awaiting it, so one dispatcher coroutine routes every
  result to the request that asked for it.
- The loop never blocks: a bounded job queue makes ``async_put`` wait
  (without blocking the loop) when the workers fall behind.
- Shutting down wakes everyone: ``shutdown()`` makes the workers' ``get``
  raise ``ShutDown`` and the dispatcher's ``async_get`` too.
- ``--impl janus`` runs the same server on janus's ``sync_q``/``async_q``
  (which must be created inside the running loop), for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Optional


def fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


@dataclass(frozen=True)
class Job:
    id: int
    n: int


@dataclass(frozen=True)
class Done:
    id: int
    value: Optional[int]
    error: Optional[str] = None


@dataclass
class Bridge:
    """The two queues, as each side sees them."""

    put_job: Callable[[Job], Awaitable[None]]  # loop side
    get_job: Callable[[], Job]  # thread side
    put_done: Callable[[Done], None]  # thread side
    get_done: Callable[[], Awaitable[Done]]  # loop side
    shutdown: Callable[[], None]
    stopped: type[BaseException]


def ringq_bridge(workers: int) -> Bridge:
    import ringq

    jobs: ringq.Queue[Job] = ringq.Queue(maxsize=4 * workers)
    done: ringq.Queue[Done] = ringq.Queue()

    def shutdown() -> None:
        jobs.shutdown(immediate=True)
        done.shutdown(immediate=True)

    return Bridge(jobs.async_put, jobs.get, done.put, done.async_get, shutdown, ringq.ShutDown)


def janus_bridge(workers: int) -> Bridge:
    import janus  # type: ignore[import-not-found, unused-ignore]

    jobs: Any = janus.Queue(maxsize=4 * workers)
    done: Any = janus.Queue()

    def shutdown() -> None:
        jobs.shutdown(immediate=True)
        done.shutdown(immediate=True)

    return Bridge(
        jobs.async_q.put,
        jobs.sync_q.get,
        done.sync_q.put,
        done.async_q.get,
        shutdown,
        janus.SyncQueueShutDown,
    )


def worker(bridge: Bridge) -> None:
    while True:
        try:
            job = bridge.get_job()
        except bridge.stopped:
            return
        try:
            if job.n < 0 or job.n > 10_000:
                raise ValueError(f"n out of range: {job.n}")
            result = Done(job.id, fib(job.n))
        except Exception as exc:
            result = Done(job.id, None, str(exc))
        try:
            bridge.put_done(result)
        except bridge.stopped:
            return


class Server:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.waiting: dict[int, asyncio.Future[Done]] = {}
        self.ids = itertools.count()

    async def dispatch(self) -> None:
        """Routes each result to the request awaiting it."""
        while True:
            try:
                done = await self.bridge.get_done()
            except Exception:  # shut down (ringq.ShutDown, janus's own)
                return
            future = self.waiting.pop(done.id, None)
            if future is not None and not future.done():
                future.set_result(done)

    async def compute(self, n: int) -> Done:
        job = Job(next(self.ids), n)
        future: asyncio.Future[Done] = asyncio.get_running_loop().create_future()
        self.waiting[job.id] = future
        await self.bridge.put_job(job)
        return await future

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                words = line.decode(errors="replace").split()
                if len(words) != 2 or words[0] != "fib" or not words[1].lstrip("-").isdigit():
                    writer.write(b"error: expected 'fib N'\n")
                else:
                    done = await self.compute(int(words[1]))
                    answer = f"{done.value}" if done.error is None else f"error: {done.error}"
                    writer.write(answer.encode() + b"\n")
                await writer.drain()
        finally:
            writer.close()


async def client(port: int, requests: list[int]) -> list[str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers = []
    for n in requests:
        writer.write(f"fib {n}\n".encode())
        await writer.drain()
        answers.append((await reader.readline()).decode().strip())
    writer.close()
    await writer.wait_closed()
    return answers


async def main(args: argparse.Namespace) -> int:
    bridge = ringq_bridge(args.workers) if args.impl == "ringq" else janus_bridge(args.workers)
    threads = [threading.Thread(target=worker, args=(bridge,)) for _ in range(args.workers)]
    for t in threads:
        t.start()
    server = Server(bridge)
    dispatcher = asyncio.ensure_future(server.dispatch())
    listener = await asyncio.start_server(server.handle, "127.0.0.1", args.serve or 0)
    port = listener.sockets[0].getsockname()[1]
    status = 0
    try:
        if args.serve:
            print(f"serving on 127.0.0.1:{port} with {args.impl}; Ctrl-C stops", flush=True)
            await listener.serve_forever()
        else:
            connections = 4
            numbers = [(i * 7) % 40 for i in range(args.requests)]
            start = time.perf_counter()
            answers = await asyncio.gather(*(client(port, numbers[c::connections]) for c in range(connections)))
            elapsed = time.perf_counter() - start
            expected = [[str(fib(n)) for n in numbers[c::connections]] for c in range(connections)]
            wrong = sum(a != e for got, want in zip(answers, expected) for a, e in zip(got, want))
            print(
                f"{args.impl}: {args.requests} requests over {connections} connections, "
                f"{args.workers} worker threads, {elapsed * 1e3:.0f} ms, {wrong} wrong answers"
            )
            status = 1 if wrong else 0
    finally:
        listener.close()
        await listener.wait_closed()
        bridge.shutdown()
        await dispatcher
        for t in threads:
            t.join()
    return status


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=["ringq", "janus"], default="ringq")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--serve", type=int, metavar="PORT", help="serve until Ctrl-C instead of testing")
    return parser.parse_args(argv)


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
    except KeyboardInterrupt:
        sys.exit(130)
