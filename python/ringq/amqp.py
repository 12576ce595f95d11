"""RabbitMQ behind the queue API: a Consumer whose get()/task_done() are a
thread pool's, and a Publisher with publisher confirms.

    import ringq.amqp

    jobs = ringq.amqp.Consumer("amqp://guest:guest@127.0.0.1/%2f", "jobs", accept_pickle=True)

    def worker():
        while True:
            try:
                msg = jobs.get()
            except ringq.ShutDown:  # jobs.close() was called
                return
            work(msg.value)
            jobs.task_done()  # the ack, after the work: at-least-once

One I/O thread per Consumer or Publisher, in Rust and without the GIL, does
all the network work (heartbeats included, so a long task never gets the
connection dropped), coalesces acks into ``basic.ack(multiple=True)``, and
reconnects with backoff; messages delivered before a disconnect and not yet
acked come again with ``redelivered`` set.

``task_done()`` acks the oldest message the calling thread got and has not
marked done, so the pool loop ``item = q.get(); work(item); q.task_done()``
stays as it is; ``task_done(msg)`` (or ``msg.ack()``) acks a given message,
for code that hands messages between threads.

Unpickling runs code: ``Message.value`` decodes what ``Publisher.put(obj)``
sent only on a Consumer made with ``accept_pickle=True``, for queues whose
every publisher is trusted. ``Message.body`` always works.
"""

from __future__ import annotations

import collections
import sys
import threading
from types import TracebackType
from typing import Any, Deque, Dict, Iterable, List, Optional, Tuple, Type

if not sys.platform.startswith("linux"):  # pragma: no cover
    raise ImportError("ringq.amqp needs Linux")

try:
    from ringq._ringq import AMQP_PICKLE_CONTENT_TYPE as PICKLE_CONTENT_TYPE
    from ringq._ringq import Message, _Consumer, _Publisher
except ImportError:  # pragma: no cover
    raise ImportError(
        "this build of ringq has no RabbitMQ bridge: build it with the amqp feature "
        "(the wheels and `pip install ./python` have it)"
    ) from None

__all__ = [
    "AMQPError",
    "AMQPTimeout",
    "AccessRefused",
    "BrokerUnreachable",
    "Consumer",
    "Forwarder",
    "Message",
    "PICKLE_CONTENT_TYPE",
    "PublishError",
    "Publisher",
    "QueueNotFound",
]


class AMQPError(Exception):
    """An error of the broker or the connection to it."""


class BrokerUnreachable(AMQPError, ConnectionError):
    """No broker answered at the URL, or not within connect_timeout."""


class AccessRefused(AMQPError, PermissionError):
    """The broker refused the credentials or the virtual host."""


class QueueNotFound(AMQPError, LookupError):
    """The queue does not exist, and declare=False said not to create it."""


class AMQPTimeout(AMQPError, TimeoutError):
    """An operation on the broker did not finish in time."""


class PublishError(AMQPError):
    """The broker did not take some published messages.

    ``failures`` lists them as ``(seq, body, reason)``: ``seq`` is what
    put()/put_bytes() returned, ``reason`` is ``"nacked"``, ``"returned
    CODE TEXT"`` (unroutable, mandatory) or ``"unconfirmed"`` (the
    publisher closed first: it may or may not have arrived)."""

    def __init__(self, message: str, failures: List[Tuple[int, bytes, str]]) -> None:
        super().__init__(message)
        self.failures = failures


class Consumer:
    """A queue whose items are messages from a RabbitMQ queue.

    Consumer(url, queue, *, prefetch=256, declare=True, durable=True,
             dead_letter_exchange=None, dead_letter_routing_key=None,
             accept_pickle=False, connect_timeout=10.0, close_timeout=30.0,
             connection_name="ringq consumer")

    get() returns a Message; task_done() acks (at-least-once: only after
    the work). prefetch bounds the messages held locally plus those the
    workers hold. With declare, the queue is declared (created if missing,
    durable unless durable=False), with the dead-letter exchange given, to
    which reject(msg) sends a message (requeue=False). Raises
    BrokerUnreachable, AccessRefused or QueueNotFound when it cannot start.
    """

    def __init__(
        self,
        url: str,
        queue: str,
        *,
        prefetch: int = 256,
        declare: bool = True,
        durable: bool = True,
        dead_letter_exchange: Optional[str] = None,
        dead_letter_routing_key: Optional[str] = None,
        accept_pickle: bool = False,
        connect_timeout: float = 10.0,
        close_timeout: float = 30.0,
        connection_name: str = "ringq consumer",
    ) -> None:
        self._inner = _Consumer(
            url,
            queue,
            prefetch=prefetch,
            declare=declare,
            durable=durable,
            dead_letter_exchange=dead_letter_exchange,
            dead_letter_routing_key=dead_letter_routing_key,
            connection_name=connection_name,
            connect_timeout=connect_timeout,
            close_timeout=close_timeout,
            accept_pickle=accept_pickle,
        )
        self.queue = queue
        self._taken = threading.local()

    def _mine(self) -> Deque[Message]:
        taken: Optional[Deque[Message]] = getattr(self._taken, "messages", None)
        if taken is None:
            taken = self._taken.messages = collections.deque()
        return taken

    def get(self, block: bool = True, timeout: Optional[float] = None) -> Message:
        """Remove and return the next message (block and timeout as
        queue.Queue.get: queue.Empty when none comes). Raises ShutDown
        after close()."""
        msg = self._inner.get(block, timeout)
        self._mine().append(msg)
        return msg

    def get_nowait(self) -> Message:
        """get(block=False)."""
        return self.get(False)

    def get_many(
        self, max_items: int, block: bool = True, timeout: Optional[float] = None
    ) -> List[Message]:
        """Up to max_items messages: those here now, or the first to come."""
        got: List[Message] = self._inner.get_many(max_items, block, timeout)
        self._mine().extend(got)
        return got

    def task_done(self, msg: Optional[Message] = None) -> None:
        """Ack a message: by default the oldest one this thread got and has
        not marked done; raises ValueError if there is none."""
        mine = self._mine()
        if msg is None:
            if not mine:
                raise ValueError("task_done() called more times than this thread got messages")
            msg = mine.popleft()
        else:
            try:
                mine.remove(msg)
            except ValueError:
                pass  # got by another thread, which handed it over
        self._inner.ack(msg)

    def reject(self, msg: Message, requeue: bool = False) -> None:
        """The task failed: requeue the message, or (by default) drop it,
        to the dead-letter exchange when the queue has one."""
        try:
            self._mine().remove(msg)
        except ValueError:
            pass
        self._inner.reject(msg, requeue)

    def join(self) -> None:
        """Block until every message delivered so far has been marked done
        (or rejected) and the acks have gone to the broker."""
        self._inner.join()

    def close(self) -> None:
        """Stop consuming: requeue what no worker took, wait (up to
        close_timeout) for the tasks in progress, then disconnect. get()
        then raises ShutDown."""
        self._inner.close()

    def stats(self) -> Dict[str, int]:
        """Counters: delivered, acked, ack_frames, rejected, stale (acks
        dropped with a dead channel), reconnects."""
        return self._inner.stats()

    def __enter__(self) -> "Consumer":
        return self

    def __exit__(
        self,
        typ: Optional[Type[BaseException]],
        value: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()


class Publisher:
    """Publishes to a RabbitMQ exchange with publisher confirms.

    Publisher(url, *, exchange="", routing_key, window=256, mandatory=True,
              persistent=False, connect_timeout=10.0, close_timeout=30.0,
              connection_name="ringq publisher")

    put() blocks while ``window`` messages are unconfirmed, or while the
    broker blocks publishers (a memory or disk alarm). A message the broker
    nacks, or returns as unroutable (mandatory), is reported by the next
    put(), flush() or close() as PublishError: never dropped silently.
    """

    def __init__(
        self,
        url: str,
        *,
        exchange: str = "",
        routing_key: str,
        window: int = 256,
        mandatory: bool = True,
        persistent: bool = False,
        connect_timeout: float = 10.0,
        close_timeout: float = 30.0,
        connection_name: str = "ringq publisher",
    ) -> None:
        self._inner = _Publisher(
            url,
            exchange=exchange,
            routing_key=routing_key,
            window=window,
            mandatory=mandatory,
            persistent=persistent,
            connection_name=connection_name,
            connect_timeout=connect_timeout,
            close_timeout=close_timeout,
        )

    def put(self, obj: Any, block: bool = True, timeout: Optional[float] = None) -> int:
        """Publish obj, pickled; queue.Full when the window stays full for
        timeout. Returns the message's sequence number."""
        return self._inner.put(obj, block, timeout)

    def put_nowait(self, obj: Any) -> int:
        """put(obj, block=False)."""
        return self.put(obj, False)

    def put_bytes(self, data: bytes, block: bool = True, timeout: Optional[float] = None) -> int:
        """Publish bytes as they are."""
        return self._inner.put_bytes(data, block, timeout)

    def put_many(self, objs: Iterable[Any], block: bool = True, timeout: Optional[float] = None) -> None:
        """put() each object in order."""
        for obj in objs:
            self._inner.put(obj, block, timeout)

    def forward(self, source: Any, *, raw: bool = False) -> "Forwarder":
        """Start a thread that drains ``source`` (a ringq.Queue, or any
        object with get_many() or get() and shutdown semantics) into this
        publisher, so that producer threads put into a local queue and never
        touch the network. It stops once ``source`` is shut down and
        drained, after flushing; ``join()`` on the result waits for that
        and raises what the forwarding raised (a PublishError, say). With
        ``raw``, items are bytes sent as they are (put_bytes)."""
        return Forwarder(self, source, raw)

    def flush(self, timeout: Optional[float] = None) -> None:
        """Wait until the broker confirmed every message put so far; raise
        PublishError for those it refused, AMQPTimeout after timeout."""
        self._inner.flush(timeout)

    def is_blocked(self) -> bool:
        """True while the broker blocks publishing (connection.blocked)."""
        return self._inner.is_blocked()

    def close(self) -> None:
        """Wait (up to close_timeout) for outstanding confirms, then
        disconnect; PublishError lists what failed or stayed unconfirmed."""
        self._inner.close()

    def stats(self) -> Dict[str, int]:
        """Counters: confirmed, failed, republished, reconnects."""
        return self._inner.stats()

    def __enter__(self) -> "Publisher":
        return self

    def __exit__(
        self,
        typ: Optional[Type[BaseException]],
        value: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()


class Forwarder:
    """The thread of Publisher.forward(): drains a local queue into a
    publisher until the queue is shut down and drained."""

    def __init__(self, publisher: Publisher, source: Any, raw: bool) -> None:
        self._publisher = publisher
        self._source = source
        self._send = publisher.put_bytes if raw else publisher.put
        self._error: Optional[BaseException] = None
        self.forwarded = 0
        self._thread = threading.Thread(target=self._run, name="ringq-amqp-forwarder", daemon=True)
        self._thread.start()

    def _take(self) -> List[Any]:
        many = getattr(self._source, "get_many", None)
        if many is not None:
            return list(many(256))
        return [self._source.get()]

    def _run(self) -> None:
        shut_down = _shutdown_types()
        try:
            while True:
                try:
                    items = self._take()
                except shut_down:
                    break
                for item in items:
                    self._send(item)
                    self.forwarded += 1
            self._publisher.flush()
        except BaseException as err:  # reported by join()
            self._error = err

    def join(self, timeout: Optional[float] = None) -> None:
        """Wait until the source is shut down and drained and everything
        forwarded is confirmed; raise what forwarding raised."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AMQPTimeout(f"still forwarding after {timeout} s")
        if self._error is not None:
            raise self._error


def _shutdown_types() -> Tuple[Type[BaseException], ...]:
    import queue as stdlib_queue

    import ringq

    kinds: List[Type[BaseException]] = [ringq.ShutDown]
    stdlib = getattr(stdlib_queue, "ShutDown", None)
    if stdlib is not None and stdlib is not ringq.ShutDown:
        kinds.append(stdlib)
    return tuple(kinds)
