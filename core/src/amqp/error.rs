//! The bridge's error type.

use std::fmt;
use std::time::Duration;

/// What went wrong in a [`Consumer`](super::Consumer) or
/// [`Publisher`](super::Publisher) call.
///
/// # Examples
///
/// ```no_run
/// use ringq::amqp::{Consumer, ConsumerOptions, Error};
///
/// match Consumer::connect("amqp://127.0.0.1:1/%2f", "jobs", ConsumerOptions::default()) {
///     Err(Error::Unreachable(reason)) => eprintln!("no broker: {reason}"),
///     Err(other) => eprintln!("{other}"),
///     Ok(_) => {}
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The URL could not be parsed.
    InvalidUrl(String),
    /// No broker answered at the URL's address: the connection was refused,
    /// the host is unknown, or TLS failed.
    Unreachable(String),
    /// The broker did not finish the AMQP handshake within the connect
    /// timeout.
    ConnectTimeout(Duration),
    /// The broker refused the credentials or the virtual host (AMQP reply
    /// code 403).
    AccessRefused(String),
    /// The queue does not exist and the options said not to declare it
    /// (AMQP reply code 404).
    QueueNotFound(String),
    /// The broker closed the channel or the connection for another reason,
    /// with its reply code and text.
    Broker {
        /// The AMQP reply code, such as 406 (PRECONDITION_FAILED).
        code: u16,
        /// The broker's explanation.
        text: String,
    },
    /// The connection failed while the handle was connecting, with lapin's
    /// description.
    Connection(String),
    /// The handle was closed, or its I/O thread ended.
    Closed,
    /// The call's timeout passed first.
    Timeout,
    /// The message was already acknowledged or rejected.
    AlreadySettled,
    /// The broker did not take some published messages: each was nacked or
    /// returned as unroutable. Reported once, by the call that returns this.
    Publish(Vec<PublishFailure>),
}

/// A published message the broker did not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishFailure {
    /// The number [`Publisher::put_bytes`](super::Publisher::put_bytes)
    /// returned for the message.
    pub seq: u64,
    /// The message's body.
    pub body: Vec<u8>,
    /// Why it failed.
    pub reason: FailureReason,
}

/// Why the broker did not take a published message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureReason {
    /// The broker answered with basic.nack: it could not take the message.
    Nacked,
    /// The message was mandatory and no queue was bound to its routing key:
    /// basic.return, with the reply code (312 NO_ROUTE) and text.
    Returned {
        /// The reply code.
        code: u16,
        /// The reply text.
        text: String,
    },
    /// The publisher closed (or its first connection failed) before the
    /// broker confirmed the message: it may or may not have arrived.
    Unconfirmed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl(why) => write!(f, "invalid AMQP URL: {why}"),
            Error::Unreachable(why) => write!(f, "AMQP broker unreachable: {why}"),
            Error::ConnectTimeout(d) => write!(f, "AMQP connect timed out after {d:?}"),
            Error::AccessRefused(why) => write!(f, "AMQP access refused: {why}"),
            Error::QueueNotFound(q) => write!(f, "AMQP queue {q:?} not found"),
            Error::Broker { code, text } => write!(f, "AMQP broker error {code}: {text}"),
            Error::Connection(why) => write!(f, "AMQP connection failed: {why}"),
            Error::Closed => f.write_str("AMQP handle closed"),
            Error::Timeout => f.write_str("timed out"),
            Error::AlreadySettled => f.write_str("message already acknowledged or rejected"),
            Error::Publish(failures) => {
                write!(
                    f,
                    "{} published message(s) not taken by the broker:",
                    failures.len()
                )?;
                for failure in failures.iter().take(8) {
                    match &failure.reason {
                        FailureReason::Nacked => write!(f, " #{} nacked;", failure.seq)?,
                        FailureReason::Returned { code, text } => {
                            write!(f, " #{} returned ({code} {text});", failure.seq)?
                        }
                        FailureReason::Unconfirmed => write!(f, " #{} unconfirmed;", failure.seq)?,
                    }
                }
                if failures.len() > 8 {
                    write!(f, " ...")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {}

/// Sorts a lapin error from a connect, declare or consume into an [`Error`].
pub(crate) fn from_lapin(error: &lapin::Error, queue: &str) -> Error {
    use lapin::ErrorKind;
    match error.kind() {
        ErrorKind::IOError(e) => Error::Unreachable(e.to_string()),
        ErrorKind::ProtocolError(amqp) => {
            let code = amqp.kind().get_id();
            let text = amqp.get_message().to_string();
            match code {
                403 => Error::AccessRefused(text),
                404 if !queue.is_empty() => Error::QueueNotFound(queue.to_owned()),
                _ => Error::Broker { code, text },
            }
        }
        // RabbitMQ closes the socket during the handshake when the
        // credentials are wrong; lapin reports the connection state it was in.
        ErrorKind::InvalidConnectionState(state) => Error::Connection(format!(
            "connection closed by the broker during the handshake ({state:?}): wrong credentials or virtual host?"
        )),
        _ => Error::Connection(error.to_string()),
    }
}
