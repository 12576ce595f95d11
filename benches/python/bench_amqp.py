"""RabbitMQ benchmark: ringq.amqp against pika and aio-pika, through one
local broker, in the same run.

Publishing (64 B messages, every one confirmed unless the row says not):

- ``ringq Publisher``        put_bytes() with a window of 256 unconfirmed, then flush()
- ``pika confirms 1-by-1``   BlockingConnection, confirm_delivery(), each
                             basic_publish waits for its confirm
- ``pika no confirms``       BlockingConnection without confirms (at-most-once)
- ``aio-pika 256 in flight`` confirms, 256 publishes awaited together

Consuming into a pool of 4 worker threads, each acking after its task
(at-least-once), prefetch 256:

- ``ringq Consumer``         get() / task_done() in the workers
- ``pika pool``              a pika consumer feeds the workers through a
                             queue.Queue; each worker acks through
                             add_callback_threadsafe (dramatiq's pattern)
- ``pika auto_ack``          pika consuming with auto_ack and no pool
                             (at-most-once: the broker forgets each message
                             as it sends it)

Each consuming round first fills its queue (with ringq's publisher), then
times the consumer from its start until it has every message. Rounds are
interleaved (every case once per round, in a shuffled order); the table
reports the median messages per second, and the median of the paired
ratios ringq / peer within a round.

    python benches/python/bench_amqp.py --url amqp://guest:guest@127.0.0.1:5672/%2f [--rounds 3] [--messages 20000]

Needs a broker at the URL: ``make bench-amqp`` starts one.
"""

from __future__ import annotations

import argparse
import asyncio
import queue
import random
import statistics
import sys
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional

import ringq.amqp

SIZE = 64
WORKERS = 4
PREFETCH = 256


def body(i: int) -> bytes:
    return i.to_bytes(8, "little") * (SIZE // 8)


def fresh_queue(url: str) -> str:
    name = f"ringq-bench-{uuid.uuid4().hex[:10]}"
    ringq.amqp.Consumer(url, name, durable=False, prefetch=1).close()  # declares it
    return name


def delete_queue(url: str, name: str) -> None:
    try:
        import pika
    except ImportError:
        return
    conn = pika.BlockingConnection(pika.URLParameters(url))
    conn.channel().queue_delete(name)
    conn.close()


# ---- publishing ---------------------------------------------------------------


def publish_ringq(url: str, name: str, n: int) -> None:
    with ringq.amqp.Publisher(url, routing_key=name) as p:
        for i in range(n):
            p.put_bytes(body(i))
        p.flush(timeout=300)


def publish_pika(url: str, name: str, n: int, confirms: bool) -> None:
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    if confirms:
        ch.confirm_delivery()
    for i in range(n):
        ch.basic_publish("", name, body(i))
    conn.close()


def publish_aio_pika(url: str, name: str, n: int) -> None:
    import aio_pika

    async def main() -> None:
        conn = await aio_pika.connect(url)
        ch = await conn.channel(publisher_confirms=True)
        ex = ch.default_exchange
        for start in range(0, n, 256):
            await asyncio.gather(
                *(ex.publish(aio_pika.Message(body(i)), routing_key=name) for i in range(start, min(n, start + 256)))
            )
        await conn.close()

    asyncio.run(main())


# ---- consuming ----------------------------------------------------------------


def consume_ringq(url: str, name: str, n: int) -> None:
    c = ringq.amqp.Consumer(url, name, prefetch=PREFETCH, durable=False, declare=False)
    counted = [0] * WORKERS
    done = threading.Event()

    def worker(k: int) -> None:
        while not done.is_set():
            try:
                c.get(timeout=0.2)
            except queue.Empty:
                continue
            except ringq.ShutDown:
                return
            counted[k] += 1
            c.task_done()
            if sum(counted) >= n:
                done.set()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c.join()
    c.close()


def consume_pika_pool(url: str, name: str, n: int) -> None:
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.basic_qos(prefetch_count=PREFETCH)
    work: "queue.Queue[Optional[int]]" = queue.Queue()
    acked = [0]

    def ack(tag: int) -> None:
        ch.basic_ack(tag)
        acked[0] += 1
        if acked[0] >= n:
            ch.stop_consuming()

    def worker() -> None:
        while True:
            tag = work.get()
            if tag is None:
                return
            conn.add_callback_threadsafe(lambda tag=tag: ack(tag))

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    ch.basic_consume(name, lambda ch_, method, props, b: work.put(method.delivery_tag))
    ch.start_consuming()
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join()
    conn.close()


def consume_pika_auto_ack(url: str, name: str, n: int) -> None:
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.basic_qos(prefetch_count=PREFETCH)
    got = [0]

    def on_message(ch_: Any, method: Any, props: Any, b: bytes) -> None:
        got[0] += 1
        if got[0] >= n:
            ch.stop_consuming()

    ch.basic_consume(name, on_message, auto_ack=True)
    ch.start_consuming()
    conn.close()


def timed(url: str, n: int, run: Callable[[str, str, int], None], prefill: bool) -> float:
    name = fresh_queue(url)
    try:
        if prefill:
            publish_ringq(url, name, n)
        start = time.perf_counter()
        run(url, name, n)
        return n / (time.perf_counter() - start)
    finally:
        delete_queue(url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2f")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    n = args.messages

    publishing: Dict[str, Callable[[str, str, int], None]] = {"ringq Publisher": publish_ringq}
    consuming: Dict[str, Callable[[str, str, int], None]] = {"ringq Consumer": consume_ringq}
    try:
        import pika  # noqa: F401

        publishing["pika confirms 1-by-1"] = lambda u, q, k: publish_pika(u, q, k, True)
        publishing["pika no confirms"] = lambda u, q, k: publish_pika(u, q, k, False)
        consuming["pika pool"] = consume_pika_pool
        consuming["pika auto_ack"] = consume_pika_auto_ack
    except ImportError:
        print("pika is not installed: its rows are left out", file=sys.stderr)
    try:
        import aio_pika  # noqa: F401

        publishing["aio-pika 256 in flight"] = publish_aio_pika
    except ImportError:
        print("aio-pika is not installed: its row is left out", file=sys.stderr)

    cases = [("publish", k, f, False) for k, f in publishing.items()]
    cases += [("consume", k, f, True) for k, f in consuming.items()]
    samples: Dict[str, List[float]] = {k: [] for _, k, _, _ in cases}
    rng = random.Random(0)
    for r in range(args.rounds):
        order = list(cases)
        rng.shuffle(order)
        for _, key, run, prefill in order:
            samples[key].append(timed(args.url, n, run, prefill))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    print(f"\nRabbitMQ on this machine, {SIZE} B messages, {n} per round, {args.rounds} rounds (median msgs/s)")
    print(f"{'workload':<10}{'implementation':<26}{'msgs/s':>10}{'ringq / it':>12}")
    for kind, base in (("publish", "ringq Publisher"), ("consume", "ringq Consumer")):
        for k2, key, _, _ in [c for c in cases if c[0] == kind]:
            ratio = statistics.median(a / b for a, b in zip(samples[base], samples[key]))
            print(f"{kind:<10}{key:<26}{statistics.median(samples[key]):>10.0f}{ratio:>11.2f}x")


if __name__ == "__main__":
    main()
