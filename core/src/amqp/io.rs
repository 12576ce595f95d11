//! The I/O thread: each [`Consumer`](super::Consumer) and
//! [`Publisher`](super::Publisher) owns one thread that runs a
//! current-thread tokio runtime, and with it every network step of the
//! handle: connecting, declaring, consuming, publishing, acks, confirms and
//! reconnects. User threads only push commands onto a ringq queue and wake
//! the thread; they never wait on the network themselves.
//!
//! lapin adds a thread of its own per connection ("lapin-io-loop"), which
//! reads and writes the socket and sends heartbeats, so heartbeats go out
//! however long the user's threads work between calls.

use std::future::Future;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use lapin::{Connection, ConnectionProperties};
use tokio::sync::Notify;

use super::error::{from_lapin, Error};
use crate::UnboundedQueue;

/// Commands from user threads to the I/O thread: a ringq queue, with a
/// `Notify` that wakes the thread's task. A notify with no task waiting
/// leaves a permit, so a wake is never lost between the task's last
/// `try_pop` and its next wait.
pub(crate) struct Inbox<C> {
    queue: UnboundedQueue<C>,
    wake: Notify,
}

impl<C> Inbox<C> {
    pub(crate) fn new() -> Self {
        Inbox {
            queue: UnboundedQueue::new(),
            wake: Notify::new(),
        }
    }

    /// Queues a command and wakes the I/O thread; false once the inbox is
    /// closed.
    pub(crate) fn send(&self, cmd: C) -> bool {
        let ok = self.queue.push(cmd).is_ok();
        self.wake.notify_one();
        ok
    }

    /// Every command queued so far, without waiting.
    pub(crate) fn drain(&self, out: &mut Vec<C>) {
        while let Ok(cmd) = self.queue.try_pop() {
            out.push(cmd);
        }
    }

    /// Waits until a command may be queued (or was, before the call).
    pub(crate) async fn wait(&self) {
        self.wake.notified().await;
    }

    pub(crate) fn close(&self) {
        self.queue.close();
        self.wake.notify_one();
    }
}

/// Starts the I/O thread, named `name`, running `task` on a current-thread
/// runtime until it returns.
pub(crate) fn spawn<F, Fut>(name: &str, task: F) -> Result<JoinHandle<()>, Error>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                // The task's handle learns of it through its closed channels.
                Err(_) => return,
            };
            runtime.block_on(task());
        })
        .map_err(|e| Error::Connection(format!("cannot start the I/O thread: {e}")))
}

/// Connects to `url`, failing with [`Error::ConnectTimeout`] when the
/// handshake takes longer than `timeout`.
pub(crate) async fn connect(url: &str, name: &str, timeout: Duration) -> Result<Connection, Error> {
    if let Err(why) = url.parse::<lapin::uri::AMQPUri>() {
        return Err(Error::InvalidUrl(why));
    }
    let props = ConnectionProperties::default().with_connection_name(name.into());
    match tokio::time::timeout(timeout, Connection::connect(url, props)).await {
        Err(_) => Err(Error::ConnectTimeout(timeout)),
        Ok(Err(e)) => Err(from_lapin(&e, "")),
        Ok(Ok(conn)) => Ok(conn),
    }
}

/// Exponential backoff between reconnects: 100 ms doubling to `max`.
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(max: Duration) -> Self {
        Backoff {
            next: Duration::from_millis(100),
            max,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.next = Duration::from_millis(100);
    }

    pub(crate) async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(self.max);
    }
}

/// A one-shot report from the I/O thread to the thread blocked in
/// `connect`: how the first connection went.
pub(crate) type Ready = std::sync::mpsc::SyncSender<Result<(), Error>>;
