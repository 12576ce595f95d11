//! [`Consumer`]: messages from a RabbitMQ queue, handed to worker threads
//! through a ringq queue, acked when the workers say so.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
    BasicRejectOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, Event};

use super::error::{from_lapin, Error};
use super::io::{self, Backoff, Inbox, Ready};
use super::ledger::Ledger;
use super::message::Message;
use super::stream::next;
use crate::{BoundedQueue, PopTimeoutError, TryPopError};

/// How a [`Consumer`] connects and consumes.
///
/// # Examples
///
/// ```
/// use ringq::amqp::ConsumerOptions;
///
/// let opts = ConsumerOptions { prefetch: 64, declare: false, ..ConsumerOptions::default() };
/// assert!(opts.durable);
/// ```
#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// The most messages delivered and not yet settled, counting those
    /// waiting in the local buffer and those the workers hold (basic.qos).
    /// At least 1.
    pub prefetch: u16,
    /// Declare the queue (creating it when missing). When false the queue
    /// must exist: [`Consumer::connect`] fails with [`Error::QueueNotFound`].
    pub declare: bool,
    /// With `declare`: a durable queue, which survives a broker restart.
    pub durable: bool,
    /// With `declare`: the queue's dead-letter exchange
    /// (`x-dead-letter-exchange`), where rejected messages go.
    pub dead_letter_exchange: Option<String>,
    /// With `declare`: the routing key dead-lettered messages get
    /// (`x-dead-letter-routing-key`).
    pub dead_letter_routing_key: Option<String>,
    /// The connection's name, which the broker shows in its connection
    /// list (client property `connection_name`).
    pub connection_name: String,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// The longest wait between reconnect attempts (they start at 100 ms
    /// and double).
    pub max_backoff: Duration,
    /// How long [`Consumer::close`] waits for the workers to settle what
    /// they took; the broker requeues what is still unsettled then.
    pub close_timeout: Duration,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        ConsumerOptions {
            prefetch: 256,
            declare: true,
            durable: true,
            dead_letter_exchange: None,
            dead_letter_routing_key: None,
            connection_name: "ringq consumer".to_owned(),
            connect_timeout: Duration::from_secs(10),
            max_backoff: Duration::from_secs(5),
            close_timeout: Duration::from_secs(30),
        }
    }
}

/// Counters of what a [`Consumer`] sent, for tests and monitoring.
///
/// # Examples
///
/// ```no_run
/// # let consumer = ringq::amqp::Consumer::connect("amqp://127.0.0.1", "q", Default::default())?;
/// let stats = consumer.stats();
/// println!("{} acks in {} frames", stats.acked, stats.ack_frames);
/// # Ok::<(), ringq::amqp::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerStats {
    /// Messages delivered by the broker, over every connection.
    pub delivered: u64,
    /// Messages acked to the broker.
    pub acked: u64,
    /// `basic.ack` frames that carried them.
    pub ack_frames: u64,
    /// Messages rejected by a worker.
    pub rejected: u64,
    /// Acks and rejects dropped because their channel was gone.
    pub stale: u64,
    /// Connections lost and made again.
    pub reconnects: u64,
}

enum Cmd {
    Ack {
        generation: u64,
        tag: u64,
    },
    Reject {
        generation: u64,
        tag: u64,
        requeue: bool,
    },
    Close,
}

#[derive(Default)]
struct Counts {
    /// Messages handed to workers and not yet acked or rejected by them.
    taken: u64,
    /// Commands queued by user threads, and those the I/O thread finished.
    queued: u64,
    done: u64,
    stats: ConsumerStats,
}

struct Shared {
    buffer: BoundedQueue<Message>,
    inbox: Inbox<Cmd>,
    generation: AtomicU64,
    closing: AtomicBool,
    counts: Mutex<Counts>,
    changed: Condvar,
}

impl Shared {
    fn counts(&self) -> MutexGuard<'_, Counts> {
        // A panic while the lock is held leaves plain counters behind.
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn finished(&self, commands: u64, update: impl FnOnce(&mut ConsumerStats)) {
        let mut counts = self.counts();
        counts.done += commands;
        update(&mut counts.stats);
        drop(counts);
        self.changed.notify_all();
    }
}

/// A consumer of one RabbitMQ queue, for thread-pool code.
///
/// Worker threads share it (`&Consumer` or `Arc<Consumer>`): each calls
/// [`get`](Consumer::get), does the work, then [`ack`](Consumer::ack)s or
/// [`reject`](Consumer::reject)s. Acks are at-least-once: a message is acked
/// to the broker only after a worker acks it, and a message whose ack did
/// not reach the broker (a lost connection) is delivered again with
/// `redelivered` set. Acks that settle a run of deliveries go out as one
/// `basic.ack(multiple)`.
///
/// The network work happens on the consumer's own I/O thread, which
/// reconnects with backoff when the connection drops, declares the queue
/// again and resumes consuming.
///
/// # Examples
///
/// ```no_run
/// use ringq::amqp::{Consumer, ConsumerOptions};
///
/// let consumer = Consumer::connect(
///     "amqp://guest:guest@127.0.0.1:5672/%2f",
///     "jobs",
///     ConsumerOptions { prefetch: 256, declare: true, ..Default::default() },
/// )?;
/// std::thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             while let Ok(msg) = consumer.get() {
///                 // ... the work ...
///                 consumer.ack(&msg).unwrap();
///             }
///         });
///     }
///     // elsewhere: consumer.close() ends the workers' `get`
/// #   consumer.close().unwrap();
/// });
/// # Ok::<(), ringq::amqp::Error>(())
/// ```
pub struct Consumer {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("buffered", &self.shared.buffer.len())
            .field(
                "generation",
                &self.shared.generation.load(Ordering::Relaxed),
            )
            .finish()
    }
}

impl Consumer {
    /// Connects to the broker at `url`, declares `queue` (or checks that it
    /// exists) and starts consuming it, on a new I/O thread.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidUrl`] for a URL lapin cannot parse.
    /// - [`Error::Unreachable`] when no broker answers at the address, and
    ///   [`Error::ConnectTimeout`] when the handshake takes longer than
    ///   `options.connect_timeout`.
    /// - [`Error::AccessRefused`] or [`Error::Connection`] for wrong
    ///   credentials or virtual host.
    /// - [`Error::QueueNotFound`] when `options.declare` is false and the
    ///   queue does not exist; [`Error::Broker`] when the broker refuses the
    ///   declaration (a queue that exists with other arguments).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use ringq::amqp::{Consumer, ConsumerOptions, Error};
    ///
    /// let opts = ConsumerOptions { declare: false, ..Default::default() };
    /// match Consumer::connect("amqp://127.0.0.1", "no-such-queue", opts) {
    ///     Err(Error::QueueNotFound(q)) => assert_eq!(q, "no-such-queue"),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn connect(url: &str, queue: &str, options: ConsumerOptions) -> Result<Self, Error> {
        let prefetch = options.prefetch.max(1);
        let shared = Arc::new(Shared {
            buffer: BoundedQueue::new(usize::from(prefetch)).expect("capacity is at least 1"),
            inbox: Inbox::new(),
            generation: AtomicU64::new(0),
            closing: AtomicBool::new(false),
            counts: Mutex::new(Counts::default()),
            changed: Condvar::new(),
        });
        let (ready, started) = std::sync::mpsc::sync_channel(1);
        let task = IoTask {
            shared: Arc::clone(&shared),
            url: url.to_owned(),
            queue: queue.to_owned(),
            options: ConsumerOptions {
                prefetch,
                ..options
            },
            overflow: VecDeque::new(),
        };
        let thread = io::spawn("ringq-amqp-consumer", move || task.run(ready))?;
        match started.recv() {
            Ok(Ok(())) => Ok(Consumer {
                shared,
                thread: Mutex::new(Some(thread)),
            }),
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            Err(_) => {
                let _ = thread.join();
                Err(Error::Closed)
            }
        }
    }

    /// The next message, waiting for one as long as it takes.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] once [`close`](Consumer::close) has begun.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let consumer = ringq::amqp::Consumer::connect("amqp://127.0.0.1", "q", Default::default())?;
    /// let msg = consumer.get()?;
    /// consumer.ack(&msg)?;
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn get(&self) -> Result<Message, Error> {
        loop {
            self.check_open()?;
            let msg = self.shared.buffer.pop().map_err(|_| Error::Closed)?;
            if let Some(msg) = self.take(msg) {
                return Ok(msg);
            }
        }
    }

    /// The next message, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when no message came in time, [`Error::Closed`]
    /// once [`close`](Consumer::close) has begun.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let consumer = ringq::amqp::Consumer::connect("amqp://127.0.0.1", "q", Default::default())?;
    /// use std::time::Duration;
    /// match consumer.get_timeout(Duration::from_millis(100)) {
    ///     Ok(msg) => consumer.ack(&msg)?,
    ///     Err(ringq::amqp::Error::Timeout) => {} // nothing yet
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<Message, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            self.check_open()?;
            let msg = self
                .shared
                .buffer
                .pop_deadline(deadline)
                .map_err(|e| match e {
                    PopTimeoutError::Timeout => Error::Timeout,
                    PopTimeoutError::Closed => Error::Closed,
                })?;
            if let Some(msg) = self.take(msg) {
                return Ok(msg);
            }
        }
    }

    /// A message that is already here, without waiting.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when none is, [`Error::Closed`] once
    /// [`close`](Consumer::close) has begun.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let consumer = ringq::amqp::Consumer::connect("amqp://127.0.0.1", "q", Default::default())?;
    /// while let Ok(msg) = consumer.try_get() {
    ///     consumer.ack(&msg)?;
    /// }
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn try_get(&self) -> Result<Message, Error> {
        loop {
            self.check_open()?;
            let msg = self.shared.buffer.try_pop().map_err(|e| match e {
                TryPopError::Empty => Error::Timeout,
                TryPopError::Closed => Error::Closed,
            })?;
            if let Some(msg) = self.take(msg) {
                return Ok(msg);
            }
        }
    }

    fn check_open(&self) -> Result<(), Error> {
        // Relaxed: a get that misses a close just begun behaves as one made
        // before it; close waits for what such a get takes.
        if self.shared.closing.load(Ordering::Relaxed) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    /// Counts a popped message as taken; drops it when its channel is gone
    /// (the broker delivers it again on the new one).
    fn take(&self, msg: Message) -> Option<Message> {
        // Relaxed: a stale message let through is only a redelivery more;
        // its ack is dropped by the I/O thread, which checks again.
        if msg.generation != self.shared.generation.load(Ordering::Relaxed) {
            return None;
        }
        self.shared.counts().taken += 1;
        Some(msg)
    }

    /// Acknowledges `msg`: the work is done and the broker may forget it.
    /// The ack goes out from the I/O thread, coalesced with others.
    ///
    /// An ack for a message delivered before a reconnect is dropped: the
    /// broker delivers that message again, with `redelivered` set.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadySettled`] when `msg` was acked or rejected before,
    /// [`Error::Closed`] when the I/O thread is gone.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let consumer = ringq::amqp::Consumer::connect("amqp://127.0.0.1", "q", Default::default())?;
    /// let msg = consumer.get()?;
    /// consumer.ack(&msg)?;
    /// assert!(consumer.ack(&msg).is_err()); // once only
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn ack(&self, msg: &Message) -> Result<(), Error> {
        self.settle(
            msg,
            Cmd::Ack {
                generation: msg.generation,
                tag: msg.delivery_tag,
            },
        )
    }

    /// Rejects `msg`: with `requeue` the broker delivers it again (to this
    /// consumer or another); without, it drops it, or dead-letters it when
    /// the queue has a dead-letter exchange.
    ///
    /// # Errors
    ///
    /// As [`ack`](Consumer::ack).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let consumer = ringq::amqp::Consumer::connect("amqp://127.0.0.1", "q", Default::default())?;
    /// let msg = consumer.get()?;
    /// if msg.body.is_empty() {
    ///     consumer.reject(&msg, false)?; // poison: to the dead-letter queue
    /// }
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn reject(&self, msg: &Message, requeue: bool) -> Result<(), Error> {
        self.settle(
            msg,
            Cmd::Reject {
                generation: msg.generation,
                tag: msg.delivery_tag,
                requeue,
            },
        )
    }

    fn settle(&self, msg: &Message, cmd: Cmd) -> Result<(), Error> {
        if !msg.settle() {
            return Err(Error::AlreadySettled);
        }
        let mut counts = self.shared.counts();
        counts.taken = counts.taken.saturating_sub(1);
        counts.queued += 1;
        drop(counts);
        if self.shared.inbox.send(cmd) {
            Ok(())
        } else {
            Err(Error::Closed)
        }
    }

    /// Waits until every message handed out so far is acked or rejected and
    /// those acks and rejects have gone to the broker (or were dropped with
    /// a dead channel).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let consumer = ringq::amqp::Consumer::connect("amqp://127.0.0.1", "q", Default::default())?;
    /// // ... workers get and ack ...
    /// consumer.join();
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn join(&self) {
        while !self.join_timeout(Duration::from_secs(3600)) {}
    }

    /// As [`join`](Consumer::join), waiting at most `timeout`; returns
    /// whether everything was settled by then.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let consumer = ringq::amqp::Consumer::connect("amqp://127.0.0.1", "q", Default::default())?;
    /// use std::time::Duration;
    /// if !consumer.join_timeout(Duration::from_secs(5)) {
    ///     eprintln!("workers still busy");
    /// }
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut counts = self.shared.counts();
        while counts.taken > 0 || counts.done < counts.queued {
            if self.thread_gone() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            counts = self
                .shared
                .changed
                .wait_timeout(counts, left.min(Duration::from_millis(100)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    fn thread_gone(&self) -> bool {
        self.thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_none_or(|t| t.is_finished())
    }

    /// What the consumer has sent and received so far.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let consumer = ringq::amqp::Consumer::connect("amqp://127.0.0.1", "q", Default::default())?;
    /// assert_eq!(consumer.stats().reconnects, 0);
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn stats(&self) -> ConsumerStats {
        self.shared.counts().stats
    }

    /// Stops consuming and shuts down gracefully: cancels the consumer,
    /// hands back (`basic.nack`, requeue) the messages no worker took, waits
    /// up to `close_timeout` for the workers to settle what they took, then
    /// closes the channel and the connection. Calls to `get` from now on
    /// fail with [`Error::Closed`].
    ///
    /// # Errors
    ///
    /// None so far: a connection that is already gone leaves nothing to
    /// drain (the broker requeued everything unsettled). The `Result` is for
    /// later failures to report.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let consumer = ringq::amqp::Consumer::connect("amqp://127.0.0.1", "q", Default::default())?;
    /// consumer.close()?;
    /// assert!(consumer.get().is_err());
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn close(&self) -> Result<(), Error> {
        // Relaxed: the Close command that follows goes through the inbox.
        self.shared.closing.store(true, Ordering::Relaxed);
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            self.shared.inbox.send(Cmd::Close);
            let _ = thread.join();
        }
        self.shared.buffer.close();
        Ok(())
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// How one connection ended.
enum End {
    /// Closed on request.
    Closed,
    /// Failed; reconnect.
    Lost(Error),
}

struct IoTask {
    shared: Arc<Shared>,
    url: String,
    queue: String,
    options: ConsumerOptions,
    /// Deliveries that did not fit in the buffer (stale ones still there).
    overflow: VecDeque<Message>,
}

impl IoTask {
    async fn run(mut self, ready: Ready) {
        let mut ready = Some(ready);
        let mut backoff = Backoff::new(self.options.max_backoff);
        let mut generation = 0;
        loop {
            match self.session(generation, &mut ready, &mut backoff).await {
                End::Closed => break,
                End::Lost(error) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(Err(error));
                        break;
                    }
                }
            }
            if self.shared.closing.load(Ordering::Relaxed) {
                break;
            }
            generation += 1;
            // Relaxed: workers only compare it; a late look lets a stale
            // message through, whose ack is dropped here.
            self.shared.generation.store(generation, Ordering::Relaxed);
            self.shared.finished(0, |s| s.reconnects += 1);
            // What waits locally came on the dead channel.
            while self.shared.buffer.try_pop().is_ok() {}
            self.overflow.clear();
            // Wait, but answer a close at once.
            tokio::select! {
                _ = backoff.wait() => {}
                _ = self.wait_for_close() => break,
            }
        }
        self.shared.buffer.close();
        self.shared.inbox.close();
        // Commands left behind count as done, so that join returns.
        let mut rest = Vec::new();
        self.shared.inbox.drain(&mut rest);
        self.shared.finished(rest.len() as u64, |_| {});
    }

    /// Returns once a Close command is in the inbox; settles (drops) every
    /// other command found meanwhile, since no channel is open.
    async fn wait_for_close(&self) {
        let mut cmds = Vec::new();
        loop {
            self.shared.inbox.drain(&mut cmds);
            let closing = cmds.iter().any(|c| matches!(c, Cmd::Close));
            let n = cmds.len() as u64;
            cmds.clear();
            self.shared.finished(n, |s| s.stale += n);
            if closing || self.shared.closing.load(Ordering::Relaxed) {
                return;
            }
            self.shared.inbox.wait().await;
        }
    }

    async fn open(&self, conn: &Connection) -> Result<(Channel, lapin::Consumer), Error> {
        let lapin_err = |e: lapin::Error| from_lapin(&e, &self.queue);
        let channel = conn.create_channel().await.map_err(lapin_err)?;
        channel
            .basic_qos(self.options.prefetch, BasicQosOptions::default())
            .await
            .map_err(lapin_err)?;
        let mut args = FieldTable::default();
        if let Some(dlx) = &self.options.dead_letter_exchange {
            args.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(dlx.as_str().into()),
            );
        }
        if let Some(key) = &self.options.dead_letter_routing_key {
            args.insert(
                "x-dead-letter-routing-key".into(),
                AMQPValue::LongString(key.as_str().into()),
            );
        }
        let declare = QueueDeclareOptions {
            passive: !self.options.declare,
            durable: self.options.durable,
            ..QueueDeclareOptions::default()
        };
        channel
            .queue_declare(self.queue.as_str().into(), declare, args)
            .await
            .map_err(lapin_err)?;
        let consumer = channel
            .basic_consume(
                self.queue.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(lapin_err)?;
        Ok((channel, consumer))
    }

    async fn session(
        &mut self,
        generation: u64,
        ready: &mut Option<Ready>,
        backoff: &mut Backoff,
    ) -> End {
        let conn = match io::connect(
            &self.url,
            &self.options.connection_name,
            self.options.connect_timeout,
        )
        .await
        {
            Ok(conn) => conn,
            Err(e) => return End::Lost(e),
        };
        let (channel, mut consumer) = match self.open(&conn).await {
            Ok(open) => open,
            Err(e) => {
                let _ = conn.close(200, "OK".into()).await;
                return End::Lost(e);
            }
        };
        if let Some(ready) = ready.take() {
            let _ = ready.send(Ok(()));
        }
        backoff.reset();
        let mut events = Box::pin(conn.events_listener());
        let mut ledger = Ledger::default();
        let mut cmds = Vec::new();
        let end = loop {
            self.spill();
            let retry = !self.overflow.is_empty();
            tokio::select! {
                biased;
                _ = self.shared.inbox.wait() => {
                    self.shared.inbox.drain(&mut cmds);
                    match self.settle(&channel, &mut ledger, generation, &mut cmds).await {
                        Ok(false) => {}
                        Ok(true) => break self.drain(&channel, &mut consumer, &mut ledger, generation).await,
                        Err(e) => break End::Lost(e),
                    }
                }
                delivery = next(&mut consumer) => match delivery {
                    Some(Ok(delivery)) => self.deliver(&mut ledger, delivery, generation),
                    Some(Err(e)) => break End::Lost(from_lapin(&e, "")),
                    None => break End::Lost(Error::Connection("the broker cancelled the consumer".into())),
                },
                event = next(&mut events) => {
                    if let Some(Event::Error(e)) = event {
                        break End::Lost(from_lapin(&e, ""));
                    }
                }
                _ = tokio::time::sleep(Duration::from_millis(1)), if retry => {}
            }
        };
        if matches!(end, End::Closed) {
            let _ = channel.close(200, "OK".into()).await;
            let _ = conn.close(200, "OK".into()).await;
        }
        end
    }

    fn deliver(
        &mut self,
        ledger: &mut Ledger,
        delivery: lapin::message::Delivery,
        generation: u64,
    ) {
        ledger.delivered(delivery.delivery_tag);
        self.overflow
            .push_back(Message::from_delivery(delivery, generation));
        self.shared.finished(0, |s| s.delivered += 1);
        self.spill();
    }

    /// Moves deliveries from the overflow into the workers' buffer.
    fn spill(&mut self) {
        while let Some(msg) = self.overflow.pop_front() {
            if let Err(e) = self.shared.buffer.try_push(msg) {
                self.overflow.push_front(e.into_inner());
                break;
            }
        }
    }

    /// Sends the frames for a batch of user commands; true when the batch
    /// holds a Close. The batch counts as done either way, so that `join`
    /// returns: when the channel fails midway, the acks not sent are
    /// dropped with it and the broker delivers those messages again.
    async fn settle(
        &self,
        channel: &Channel,
        ledger: &mut Ledger,
        generation: u64,
        cmds: &mut Vec<Cmd>,
    ) -> Result<bool, Error> {
        let n = cmds.len() as u64;
        let result = self
            .send_settlements(channel, ledger, generation, cmds)
            .await;
        if result.is_err() {
            cmds.clear();
            self.shared.finished(n, |s| s.stale += n);
        }
        result
    }

    /// [`settle`](Self::settle)'s frames; counts the batch done when all
    /// went out.
    async fn send_settlements(
        &self,
        channel: &Channel,
        ledger: &mut Ledger,
        generation: u64,
        cmds: &mut Vec<Cmd>,
    ) -> Result<bool, Error> {
        let lapin_err = |e: lapin::Error| from_lapin(&e, "");
        let n = cmds.len() as u64;
        let (mut acked, mut stale, mut rejected, mut close) = (0, 0, 0, false);
        for cmd in cmds.drain(..) {
            match cmd {
                Cmd::Ack { generation: g, tag } => {
                    if g == generation && ledger.acked(tag) {
                        acked += 1;
                    } else {
                        stale += 1;
                    }
                }
                Cmd::Reject {
                    generation: g,
                    tag,
                    requeue,
                } => {
                    if g != generation || !ledger.remove(tag) {
                        stale += 1;
                        continue;
                    }
                    // Before the coalesced ack below, which must not cover
                    // this tag (the ledger no longer holds it).
                    channel
                        .basic_reject(tag, BasicRejectOptions { requeue })
                        .await
                        .map_err(lapin_err)?;
                    rejected += 1;
                }
                Cmd::Close => close = true,
            }
        }
        let plan = ledger.plan();
        let mut frames = 0;
        if let Some(tag) = plan.multiple {
            channel
                .basic_ack(tag, BasicAckOptions { multiple: true })
                .await
                .map_err(lapin_err)?;
            frames += 1;
        }
        for tag in &plan.single {
            channel
                .basic_ack(*tag, BasicAckOptions { multiple: false })
                .await
                .map_err(lapin_err)?;
            frames += 1;
        }
        self.shared.finished(n, |s| {
            s.acked += acked;
            s.ack_frames += frames;
            s.rejected += rejected;
            s.stale += stale;
        });
        Ok(close)
    }

    /// The graceful end of a close: cancel, hand back what no worker took,
    /// wait for the workers' acks.
    async fn drain(
        &mut self,
        channel: &Channel,
        consumer: &mut lapin::Consumer,
        ledger: &mut Ledger,
        generation: u64,
    ) -> End {
        let tag = consumer.tag();
        if channel
            .basic_cancel(tag, BasicCancelOptions::default())
            .await
            .is_err()
        {
            return End::Closed;
        }
        // Deliveries sent before the broker saw the cancel.
        while let Ok(Some(Ok(delivery))) =
            tokio::time::timeout(Duration::from_millis(200), next(consumer)).await
        {
            self.deliver(ledger, delivery, generation);
        }
        self.shared.buffer.close();
        let mut untaken: Vec<u64> = self.overflow.drain(..).map(|m| m.delivery_tag).collect();
        while let Ok(msg) = self.shared.buffer.try_pop() {
            untaken.push(msg.delivery_tag);
        }
        untaken.sort_unstable();
        for tag in untaken {
            ledger.remove(tag);
            let requeue = BasicNackOptions {
                multiple: false,
                requeue: true,
            };
            if channel.basic_nack(tag, requeue).await.is_err() {
                return End::Closed;
            }
        }
        // What is left in the ledger, the workers hold.
        let deadline = tokio::time::Instant::now() + self.options.close_timeout;
        let mut cmds = Vec::new();
        while !ledger.is_empty() {
            self.shared.inbox.drain(&mut cmds);
            if cmds.is_empty() {
                tokio::select! {
                    _ = self.shared.inbox.wait() => continue,
                    _ = tokio::time::sleep_until(deadline) => break,
                }
            }
            if self
                .settle(channel, ledger, generation, &mut cmds)
                .await
                .is_err()
            {
                break;
            }
        }
        End::Closed
    }
}
