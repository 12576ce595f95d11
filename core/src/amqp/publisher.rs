//! [`Publisher`]: messages to a RabbitMQ exchange with publisher confirms,
//! a window of unconfirmed messages, and every failure reported.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, Confirmation, Connection, Event};
use tokio::task::JoinSet;

use super::error::{from_lapin, Error, FailureReason, PublishFailure};
use super::io::{self, Backoff, Inbox, Ready};
use super::stream::next;

/// Where a [`Publisher`] sends and how.
///
/// # Examples
///
/// ```
/// use ringq::amqp::PublisherOptions;
///
/// let opts = PublisherOptions { routing_key: "jobs".into(), ..PublisherOptions::default() };
/// assert_eq!(opts.window, 256);
/// assert!(opts.mandatory);
/// ```
#[derive(Debug, Clone)]
pub struct PublisherOptions {
    /// The exchange; "" is the default exchange, which routes by queue name.
    pub exchange: String,
    /// The routing key of every message.
    pub routing_key: String,
    /// The most messages published and not yet confirmed; `put_bytes`
    /// waits while this many are out. At least 1.
    pub window: usize,
    /// Ask the broker to return a message no queue takes; it is then
    /// reported as [`FailureReason::Returned`].
    pub mandatory: bool,
    /// Delivery mode 2: the broker writes the message to disk in a durable
    /// queue.
    pub persistent: bool,
    /// The connection's name, which the broker shows in its connection
    /// list (client property `connection_name`).
    pub connection_name: String,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// The longest wait between reconnect attempts.
    pub max_backoff: Duration,
    /// How long [`Publisher::close`] waits for outstanding confirms.
    pub close_timeout: Duration,
}

impl Default for PublisherOptions {
    fn default() -> Self {
        PublisherOptions {
            exchange: String::new(),
            routing_key: String::new(),
            window: 256,
            mandatory: true,
            persistent: false,
            connection_name: "ringq publisher".to_owned(),
            connect_timeout: Duration::from_secs(10),
            max_backoff: Duration::from_secs(5),
            close_timeout: Duration::from_secs(30),
        }
    }
}

/// Counters of a [`Publisher`], for tests and monitoring.
///
/// # Examples
///
/// ```no_run
/// # let publisher = ringq::amqp::Publisher::connect("amqp://127.0.0.1", Default::default())?;
/// let s = publisher.stats();
/// println!("{} confirmed, {} republished", s.confirmed, s.republished);
/// # Ok::<(), ringq::amqp::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublisherStats {
    /// Messages the broker confirmed (acked and not returned).
    pub confirmed: u64,
    /// Messages nacked or returned.
    pub failed: u64,
    /// Messages published again after a reconnect, unconfirmed before it.
    pub republished: u64,
    /// Connections lost and made again.
    pub reconnects: u64,
}

enum Cmd {
    Publish { seq: u64, body: Vec<u8> },
    Close,
}

struct State {
    /// Accepted by `put_bytes` and not yet settled by a confirm.
    in_flight: usize,
    /// The broker sent connection.blocked.
    blocked: bool,
    failures: Vec<PublishFailure>,
    next_seq: u64,
    closed: bool,
    stats: PublisherStats,
}

struct Shared {
    inbox: Inbox<Cmd>,
    window: usize,
    state: Mutex<State>,
    changed: Condvar,
    /// The content type of each unconfirmed message that has one, by
    /// sequence number: set by `put_with`, read by every (re)publish,
    /// dropped once the broker settled the message.
    content_types: Mutex<BTreeMap<u64, String>>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while the lock is held leaves plain counters behind.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state());
        self.changed.notify_all();
    }
}

/// A publisher to one exchange and routing key, with publisher confirms
/// always on.
///
/// [`put_bytes`](Publisher::put_bytes) hands the message to the publisher's
/// I/O thread and returns; it waits while `window` messages are unconfirmed
/// or while the broker has blocked the connection (connection.blocked,
/// when it runs short of memory or disk). [`flush`](Publisher::flush) waits
/// for every confirm. A message the broker nacks, or returns as unroutable,
/// is reported: by the next `put_bytes`, `flush` or `close`, as
/// [`Error::Publish`] listing each one.
///
/// When the connection drops, the I/O thread reconnects with backoff and
/// publishes again every message not yet confirmed: delivery is
/// at-least-once, so a consumer may see such a message twice.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use ringq::amqp::{Publisher, PublisherOptions};
///
/// let publisher = Publisher::connect(
///     "amqp://guest:guest@127.0.0.1:5672/%2f",
///     PublisherOptions { routing_key: "jobs".into(), ..Default::default() },
/// )?;
/// for i in 0..1000u32 {
///     publisher.put_bytes(&i.to_le_bytes())?;
/// }
/// publisher.flush(Duration::from_secs(10))?; // every message confirmed
/// # Ok::<(), ringq::amqp::Error>(())
/// ```
pub struct Publisher {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    close_timeout: Duration,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.state();
        f.debug_struct("Publisher")
            .field("in_flight", &state.in_flight)
            .field("blocked", &state.blocked)
            .finish()
    }
}

impl Publisher {
    /// Connects to the broker at `url` and opens a channel in confirm mode,
    /// on a new I/O thread.
    ///
    /// # Errors
    ///
    /// As [`Consumer::connect`](super::Consumer::connect): a bad URL, no
    /// broker, a timeout, refused credentials.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use ringq::amqp::{Error, Publisher, PublisherOptions};
    ///
    /// let r = Publisher::connect("amqp://127.0.0.1:1", PublisherOptions::default());
    /// assert!(matches!(r, Err(Error::Unreachable(_))));
    /// ```
    pub fn connect(url: &str, options: PublisherOptions) -> Result<Self, Error> {
        let window = options.window.max(1);
        let shared = Arc::new(Shared {
            inbox: Inbox::new(),
            window,
            state: Mutex::new(State {
                in_flight: 0,
                blocked: false,
                failures: Vec::new(),
                next_seq: 0,
                closed: false,
                stats: PublisherStats::default(),
            }),
            changed: Condvar::new(),
            content_types: Mutex::new(BTreeMap::new()),
        });
        let close_timeout = options.close_timeout;
        let (ready, started) = std::sync::mpsc::sync_channel(1);
        let task = IoTask {
            shared: Arc::clone(&shared),
            url: url.to_owned(),
            options,
            unconfirmed: BTreeMap::new(),
            closing: false,
        };
        let thread = io::spawn("ringq-amqp-publisher", move || task.run(ready))?;
        match started.recv() {
            Ok(Ok(())) => Ok(Publisher {
                shared,
                thread: Mutex::new(Some(thread)),
                close_timeout,
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

    /// Publishes `body`, waiting as long as it takes for room in the window.
    /// Returns the message's sequence number, which failure reports name.
    ///
    /// # Errors
    ///
    /// - [`Error::Publish`] when earlier messages failed: this call
    ///   published nothing, and reports them (once).
    /// - [`Error::Closed`] after [`close`](Publisher::close).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let publisher = ringq::amqp::Publisher::connect("amqp://127.0.0.1", Default::default())?;
    /// let seq = publisher.put_bytes(b"hello")?;
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn put_bytes(&self, body: &[u8]) -> Result<u64, Error> {
        self.put(body, None)
    }

    /// As [`put_bytes`](Publisher::put_bytes), waiting at most `timeout`
    /// for room in the window.
    ///
    /// # Errors
    ///
    /// As `put_bytes`, and [`Error::Timeout`] when the window stayed full
    /// (or the connection blocked): nothing was published.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let publisher = ringq::amqp::Publisher::connect("amqp://127.0.0.1", Default::default())?;
    /// use std::time::Duration;
    /// publisher.put_bytes_timeout(b"hello", Duration::from_secs(1))?;
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn put_bytes_timeout(&self, body: &[u8], timeout: Duration) -> Result<u64, Error> {
        self.put(body, Some(Instant::now() + timeout))
    }

    /// Publishes `body` with the `content_type` property (when given),
    /// waiting at most `timeout` for room in the window; a zero timeout
    /// tries once.
    ///
    /// # Errors
    ///
    /// As [`put_bytes_timeout`](Publisher::put_bytes_timeout).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let publisher = ringq::amqp::Publisher::connect("amqp://127.0.0.1", Default::default())?;
    /// use std::time::Duration;
    /// publisher.put_with(br#"{"job": 1}"#, Some("application/json"), Duration::from_secs(1))?;
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn put_with(
        &self,
        body: &[u8],
        content_type: Option<&str>,
        timeout: Duration,
    ) -> Result<u64, Error> {
        self.put_typed(body, content_type, Instant::now().checked_add(timeout))
    }

    fn put(&self, body: &[u8], deadline: Option<Instant>) -> Result<u64, Error> {
        self.put_typed(body, None, deadline)
    }

    fn put_typed(
        &self,
        body: &[u8],
        content_type: Option<&str>,
        deadline: Option<Instant>,
    ) -> Result<u64, Error> {
        let mut state = self.shared.state();
        loop {
            if state.closed {
                return Err(Error::Closed);
            }
            if !state.failures.is_empty() {
                return Err(take_failures(&mut state));
            }
            if state.in_flight < self.shared.window && !state.blocked {
                break;
            }
            state = self.wait(state, deadline)?;
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        state.in_flight += 1;
        drop(state);
        if let Some(content_type) = content_type {
            self.shared
                .content_types
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(seq, content_type.to_owned());
        }
        let body = body.to_vec();
        if self.shared.inbox.send(Cmd::Publish { seq, body }) {
            Ok(seq)
        } else {
            Err(Error::Closed)
        }
    }

    fn wait<'a>(
        &self,
        state: MutexGuard<'a, State>,
        deadline: Option<Instant>,
    ) -> Result<MutexGuard<'a, State>, Error> {
        let slice = match deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::Timeout);
                }
                left.min(Duration::from_millis(100))
            }
            None => Duration::from_millis(100),
        };
        let (state, _) = self
            .shared
            .changed
            .wait_timeout(state, slice)
            .unwrap_or_else(|e| e.into_inner());
        Ok(state)
    }

    /// Waits until the broker has confirmed every message published so far.
    ///
    /// # Errors
    ///
    /// - [`Error::Publish`] listing the messages nacked or returned since
    ///   the last report.
    /// - [`Error::Timeout`] when confirms are still outstanding after
    ///   `timeout` (the reconnect loop keeps trying to deliver them).
    /// - [`Error::Closed`] after [`close`](Publisher::close).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let publisher = ringq::amqp::Publisher::connect("amqp://127.0.0.1", Default::default())?;
    /// use std::time::Duration;
    /// publisher.put_bytes(b"x")?;
    /// publisher.flush(Duration::from_secs(5))?;
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn flush(&self, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.state();
        while state.in_flight > 0 && !state.closed {
            state = self.wait(state, Some(deadline))?;
        }
        if !state.failures.is_empty() {
            return Err(take_failures(&mut state));
        }
        if state.in_flight > 0 {
            return Err(Error::Closed);
        }
        Ok(())
    }

    /// True while the broker has blocked the connection
    /// (connection.blocked, sent when it runs short of memory or disk):
    /// `put_bytes` waits until it unblocks.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let publisher = ringq::amqp::Publisher::connect("amqp://127.0.0.1", Default::default())?;
    /// if publisher.is_blocked() {
    ///     eprintln!("the broker is out of memory or disk");
    /// }
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn is_blocked(&self) -> bool {
        self.shared.state().blocked
    }

    /// What the publisher has done so far.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let publisher = ringq::amqp::Publisher::connect("amqp://127.0.0.1", Default::default())?;
    /// assert_eq!(publisher.stats().failed, 0);
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn stats(&self) -> PublisherStats {
        self.shared.state().stats
    }

    /// Waits up to `close_timeout` for outstanding confirms, then closes
    /// the channel and the connection.
    ///
    /// # Errors
    ///
    /// [`Error::Publish`] with every message that failed and was not yet
    /// reported, including those still unconfirmed at the end
    /// ([`FailureReason::Unconfirmed`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let publisher = ringq::amqp::Publisher::connect("amqp://127.0.0.1", Default::default())?;
    /// publisher.put_bytes(b"last")?;
    /// publisher.close()?;
    /// # Ok::<(), ringq::amqp::Error>(())
    /// ```
    pub fn close(&self) -> Result<(), Error> {
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = self.flush(self.close_timeout);
            self.shared.inbox.send(Cmd::Close);
            let _ = thread.join();
        }
        let mut state = self.shared.state();
        state.closed = true;
        if state.failures.is_empty() {
            Ok(())
        } else {
            Err(take_failures(&mut state))
        }
    }
}

/// The failures not yet reported, in publishing order (confirms can
/// arrive out of order).
fn take_failures(state: &mut State) -> Error {
    let mut failures = std::mem::take(&mut state.failures);
    failures.sort_by_key(|f| f.seq);
    Error::Publish(failures)
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

enum End {
    Closed,
    Lost(Error),
}

type Confirmed = (u64, lapin::Result<Confirmation>);

struct IoTask {
    shared: Arc<Shared>,
    url: String,
    options: PublisherOptions,
    /// Published on some channel and not yet confirmed, by sequence number.
    unconfirmed: BTreeMap<u64, Vec<u8>>,
    closing: bool,
}

impl IoTask {
    async fn run(mut self, ready: Ready) {
        let mut ready = Some(ready);
        let mut backoff = Backoff::new(self.options.max_backoff);
        loop {
            match self.session(&mut ready, &mut backoff).await {
                End::Closed => break,
                End::Lost(error) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(Err(error));
                        self.shared.update(|s| s.closed = true);
                        return;
                    }
                }
            }
            if self.closing {
                break;
            }
            self.shared.update(|s| s.stats.reconnects += 1);
            tokio::select! {
                _ = backoff.wait() => {}
                _ = self.wait_for_close() => break,
            }
        }
        // Whatever was never confirmed is reported, not dropped.
        let mut rest = Vec::new();
        self.shared.inbox.close();
        self.shared.inbox.drain(&mut rest);
        for cmd in rest {
            if let Cmd::Publish { seq, body } = cmd {
                self.unconfirmed.insert(seq, body);
            }
        }
        let unconfirmed = std::mem::take(&mut self.unconfirmed);
        self.shared.update(|s| {
            s.in_flight = 0;
            s.closed = true;
            s.stats.failed += unconfirmed.len() as u64;
            s.failures
                .extend(unconfirmed.into_iter().map(|(seq, body)| PublishFailure {
                    seq,
                    body,
                    reason: FailureReason::Unconfirmed,
                }));
        });
    }

    /// Returns once a Close command arrives; keeps new publishes for the
    /// next connection.
    async fn wait_for_close(&mut self) {
        let mut cmds = Vec::new();
        loop {
            self.shared.inbox.drain(&mut cmds);
            for cmd in cmds.drain(..) {
                match cmd {
                    Cmd::Publish { seq, body } => {
                        self.unconfirmed.insert(seq, body);
                    }
                    Cmd::Close => self.closing = true,
                }
            }
            if self.closing {
                return;
            }
            self.shared.inbox.wait().await;
        }
    }

    async fn open(&self) -> Result<(Connection, Channel), Error> {
        let conn = io::connect(
            &self.url,
            &self.options.connection_name,
            self.options.connect_timeout,
        )
        .await?;
        let channel = match conn.create_channel().await {
            Ok(channel) => channel,
            Err(e) => return Err(from_lapin(&e, "")),
        };
        if let Err(e) = channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
        {
            return Err(from_lapin(&e, ""));
        }
        Ok((conn, channel))
    }

    async fn publish(
        &self,
        channel: &Channel,
        confirms: &mut JoinSet<Confirmed>,
        seq: u64,
        body: &[u8],
    ) -> Result<(), Error> {
        let mut props = BasicProperties::default();
        if self.options.persistent {
            props = props.with_delivery_mode(2);
        }
        let content_type = self
            .shared
            .content_types
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&seq)
            .cloned();
        if let Some(content_type) = content_type {
            props = props.with_content_type(content_type.as_str().into());
        }
        let options = BasicPublishOptions {
            mandatory: self.options.mandatory,
            immediate: false,
        };
        let confirm = channel
            .basic_publish(
                self.options.exchange.as_str().into(),
                self.options.routing_key.as_str().into(),
                options,
                body,
                props,
            )
            .await
            .map_err(|e| from_lapin(&e, ""))?;
        confirms.spawn(async move { (seq, confirm.await) });
        Ok(())
    }

    async fn session(&mut self, ready: &mut Option<Ready>, backoff: &mut Backoff) -> End {
        let (conn, channel) = match self.open().await {
            Ok(open) => open,
            Err(e) => return End::Lost(e),
        };
        if let Some(ready) = ready.take() {
            let _ = ready.send(Ok(()));
        }
        backoff.reset();
        // Events on a task of their own: a publish that lapin holds back
        // while the connection is blocked must not keep the flag from
        // being seen.
        let mut events = Box::pin(conn.events_listener());
        let (lost_tx, mut lost) = tokio::sync::mpsc::unbounded_channel();
        let shared = Arc::clone(&self.shared);
        let watcher = tokio::spawn(async move {
            while let Some(event) = next(&mut events).await {
                match event {
                    Event::ConnectionBlocked(_) => shared.update(|s| s.blocked = true),
                    Event::ConnectionUnblocked => shared.update(|s| s.blocked = false),
                    Event::Error(e) => {
                        let _ = lost_tx.send(e);
                    }
                    _ => {}
                }
            }
        });
        let mut confirms = JoinSet::new();
        // Unconfirmed on a dead channel: publish again, in order.
        let again: Vec<(u64, Vec<u8>)> = self
            .unconfirmed
            .iter()
            .map(|(s, b)| (*s, b.clone()))
            .collect();
        if !again.is_empty() {
            let n = again.len() as u64;
            for (seq, body) in again {
                if let Err(e) = self.publish(&channel, &mut confirms, seq, &body).await {
                    return End::Lost(e);
                }
            }
            self.shared.update(|s| s.stats.republished += n);
        }
        let mut cmds = Vec::new();
        let end = loop {
            if self.closing && self.unconfirmed.is_empty() {
                break End::Closed;
            }
            tokio::select! {
                biased;
                Some(done) = confirms.join_next() => {
                    let Ok((seq, result)) = done else { continue };
                    match result {
                        Ok(confirmation) => self.confirmed(seq, confirmation),
                        Err(e) => break End::Lost(from_lapin(&e, "")),
                    }
                }
                _ = self.shared.inbox.wait() => {
                    self.shared.inbox.drain(&mut cmds);
                    let mut lost = None;
                    for cmd in cmds.drain(..) {
                        match cmd {
                            Cmd::Publish { seq, body } => {
                                if lost.is_none() {
                                    if let Err(e) = self.publish(&channel, &mut confirms, seq, &body).await {
                                        lost = Some(e);
                                    }
                                }
                                self.unconfirmed.insert(seq, body);
                            }
                            Cmd::Close => self.closing = true,
                        }
                    }
                    if let Some(e) = lost {
                        break End::Lost(e);
                    }
                }
                Some(e) = lost.recv() => break End::Lost(from_lapin(&e, "")),
            }
        };
        confirms.abort_all();
        watcher.abort();
        self.shared.update(|s| s.blocked = false);
        if matches!(end, End::Closed) {
            let _ = channel.close(200, "OK".into()).await;
            let _ = conn.close(200, "OK".into()).await;
        }
        end
    }

    fn confirmed(&mut self, seq: u64, confirmation: Confirmation) {
        let Some(body) = self.unconfirmed.remove(&seq) else {
            return;
        };
        self.shared
            .content_types
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&seq);
        let reason = match confirmation {
            Confirmation::Ack(None) | Confirmation::NotRequested => None,
            Confirmation::Ack(Some(returned)) => Some(FailureReason::Returned {
                code: returned.reply_code,
                text: returned.reply_text.as_str().to_owned(),
            }),
            Confirmation::Nack(_) => Some(FailureReason::Nacked),
        };
        self.shared.update(|s| {
            s.in_flight = s.in_flight.saturating_sub(1);
            match reason {
                None => s.stats.confirmed += 1,
                Some(reason) => {
                    s.stats.failed += 1;
                    s.failures.push(PublishFailure { seq, body, reason });
                }
            }
        });
    }
}
