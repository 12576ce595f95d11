//! A blocking bridge to RabbitMQ (AMQP 0-9-1), for thread-pool code: a
//! [`Consumer`] whose messages worker threads take and ack, and a
//! [`Publisher`] with publisher confirms. Behind the `amqp` feature.
//!
//! ```toml
//! [dependencies]
//! ringq = { version = "0.1", features = ["amqp"] }
//! ```
//!
//! # How it works
//!
//! Each handle owns one I/O thread running a small current-thread tokio
//! runtime, and [lapin](https://docs.rs/lapin) on it, which adds its own
//! socket thread per connection. Every network step (connecting, the
//! channel, heartbeats, confirms, acks, reconnects) happens there, so a
//! worker that spends minutes on one message never starves the heartbeats.
//! Worker threads talk to the I/O thread through ringq queues: deliveries
//! wait in a [`BoundedQueue`](crate::BoundedQueue) sized to the prefetch,
//! acks and publishes go the other way through an
//! [`UnboundedQueue`](crate::UnboundedQueue).
//!
//! - **At-least-once.** A message is acked to the broker only after a
//!   worker calls [`Consumer::ack`]. Acks that settle a run of deliveries
//!   at the front of the channel's unsettled ones go out as one
//!   `basic.ack(multiple = true)`.
//! - **Prefetch** (`basic.qos`) bounds the messages buffered locally plus
//!   those the workers hold.
//! - **Reconnects.** When the connection drops, the I/O thread reconnects
//!   with exponential backoff, declares the queue again and resumes
//!   consuming. Delivery tags count per channel, so every message carries
//!   its connection's [generation](Message::generation): an ack for an older
//!   generation is dropped, never sent on the new channel, and the broker
//!   delivers that message again with `redelivered` set. The publisher
//!   publishes again every message not confirmed before the drop.
//! - **Failures are reported.** A publish the broker nacks, or returns as
//!   unroutable (`mandatory`), comes back from the next
//!   [`Publisher::put_bytes`], [`Publisher::flush`] or [`Publisher::close`]
//!   as [`Error::Publish`], listing each message.
//! - **Closing** a consumer cancels it, hands back the messages no worker
//!   took (`basic.nack`, requeue), waits for the workers' acks, then closes
//!   the channel and the connection.
//!
//! URLs are AMQP URIs: `amqp://user:password@host:5672/vhost` (the default
//! vhost `/` is `%2f`), and `amqps://` for TLS with rustls and the system's
//! root certificates.
//!
//! # Minimum Rust
//!
//! The `amqp` feature needs Rust 1.88, lapin's minimum; the rest of the
//! crate builds with the `rust-version` in its manifest.
//!
//! # Examples
//!
//! Four workers consume a queue while the main thread publishes to it:
//!
//! ```no_run
//! use std::time::Duration;
//! use ringq::amqp::{Consumer, ConsumerOptions, Publisher, PublisherOptions};
//!
//! let url = "amqp://guest:guest@127.0.0.1:5672/%2f";
//! let consumer = Consumer::connect(url, "jobs", ConsumerOptions::default())?;
//! let publisher = Publisher::connect(
//!     url,
//!     PublisherOptions { routing_key: "jobs".into(), ..Default::default() },
//! )?;
//!
//! std::thread::scope(|s| -> Result<(), ringq::amqp::Error> {
//!     for _ in 0..4 {
//!         s.spawn(|| {
//!             while let Ok(msg) = consumer.get() {
//!                 // ... the work ...
//!                 consumer.ack(&msg).unwrap();
//!             }
//!         });
//!     }
//!     for i in 0..10_000u32 {
//!         publisher.put_bytes(&i.to_le_bytes())?; // waits while 256 are unconfirmed
//!     }
//!     publisher.flush(Duration::from_secs(30))?; // all confirmed, none returned
//!     consumer.close() // the workers' `get` now fails and they end
//! })?;
//! # Ok::<(), ringq::amqp::Error>(())
//! ```
//!
//! # README section (draft)
//!
//! > **RabbitMQ.** With the `amqp` feature, `ringq::amqp` consumes and
//! > publishes RabbitMQ messages from plain threads: `Consumer::get` /
//! > `ack` / `reject`, `Publisher::put_bytes` / `flush`. One I/O thread per
//! > handle does the network work, acks are at-least-once and coalesced,
//! > publisher confirms are always on, and reconnects are automatic. The
//! > tests run against a real broker: `make test-amqp` (installs Debian's
//! > `rabbitmq-server` when missing).
mod consumer;
mod error;
mod io;
mod ledger;
mod message;
mod publisher;
mod stream;

pub use consumer::{Consumer, ConsumerOptions, ConsumerStats};
pub use error::{Error, FailureReason, PublishFailure};
pub use message::{HeaderValue, Message};
pub use publisher::{Publisher, PublisherOptions, PublisherStats};
