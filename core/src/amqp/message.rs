//! A delivered message and its headers, in types of this crate rather than
//! lapin's, so that lapin can change without changing this API.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use lapin::types::AMQPValue;

/// A message a [`Consumer`](super::Consumer) took from its queue.
///
/// Settle it with [`Consumer::ack`](super::Consumer::ack) or
/// [`Consumer::reject`](super::Consumer::reject) once the work is done; until
/// then the broker counts it against the consumer's prefetch.
///
/// # Examples
///
/// ```no_run
/// use ringq::amqp::{Consumer, ConsumerOptions};
///
/// let consumer = Consumer::connect("amqp://127.0.0.1", "jobs", ConsumerOptions::default())?;
/// let msg = consumer.get()?;
/// println!("{} bytes via {:?}, redelivered: {}", msg.body.len(), msg.routing_key, msg.redelivered);
/// consumer.ack(&msg)?;
/// # Ok::<(), ringq::amqp::Error>(())
/// ```
#[derive(Debug)]
pub struct Message {
    /// The body.
    pub body: Vec<u8>,
    /// The AMQP headers table, converted.
    pub headers: BTreeMap<String, HeaderValue>,
    /// The exchange it was published to ("" for the default exchange).
    pub exchange: String,
    /// The routing key it was published with.
    pub routing_key: String,
    /// True when the broker delivered it before, to this consumer or another,
    /// without an ack: the work may have been done once already.
    pub redelivered: bool,
    /// The broker's delivery tag, which counts per channel. After a
    /// reconnect the tags start again at 1; see [`Message::generation`].
    pub delivery_tag: u64,
    /// The content type property, when set.
    pub content_type: Option<String>,
    /// Which connection of the consumer delivered it: 0 for the first, one
    /// more after each reconnect. An ack for an older generation than the
    /// current one is dropped, since its channel is gone and the broker
    /// delivers the message again.
    pub generation: u64,
    pub(crate) settled: AtomicBool,
}

impl Message {
    /// Marks the message settled; false if it already was.
    pub(crate) fn settle(&self) -> bool {
        // Relaxed: only the flag's own value matters; the command that
        // follows travels through a queue that orders it.
        !self.settled.swap(true, Ordering::Relaxed)
    }

    pub(crate) fn from_delivery(delivery: lapin::message::Delivery, generation: u64) -> Self {
        let headers = delivery
            .properties
            .headers()
            .as_ref()
            .map(|table| {
                table
                    .inner()
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), HeaderValue::from_amqp(v)))
                    .collect()
            })
            .unwrap_or_default();
        Message {
            content_type: delivery
                .properties
                .content_type()
                .as_ref()
                .map(|s| s.as_str().to_owned()),
            body: delivery.data,
            headers,
            exchange: delivery.exchange.as_str().to_owned(),
            routing_key: delivery.routing_key.as_str().to_owned(),
            redelivered: delivery.redelivered,
            delivery_tag: delivery.delivery_tag,
            generation,
            settled: AtomicBool::new(false),
        }
    }
}

/// One value of a message's headers table.
///
/// # Examples
///
/// ```
/// use ringq::amqp::HeaderValue;
///
/// let v = HeaderValue::Int(3);
/// assert_eq!(v.as_i64(), Some(3));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum HeaderValue {
    /// A boolean.
    Bool(bool),
    /// Any of the integer types, widened.
    Int(i64),
    /// A float or double.
    Float(f64),
    /// A short or long string that is valid UTF-8.
    Str(String),
    /// A byte array, or a long string that is not UTF-8.
    Bytes(Vec<u8>),
    /// An AMQP timestamp, in seconds.
    Timestamp(u64),
    /// An array.
    Array(Vec<HeaderValue>),
    /// A nested table.
    Table(BTreeMap<String, HeaderValue>),
    /// No value, or a type (decimal) this crate does not convert.
    Void,
}

impl HeaderValue {
    /// The integer, if this is one.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringq::amqp::HeaderValue;
    /// assert_eq!(HeaderValue::Str("x".into()).as_i64(), None);
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            HeaderValue::Int(n) => Some(*n),
            _ => None,
        }
    }

    fn from_amqp(value: &AMQPValue) -> Self {
        match value {
            AMQPValue::Boolean(b) => HeaderValue::Bool(*b),
            AMQPValue::ShortShortInt(n) => HeaderValue::Int((*n).into()),
            AMQPValue::ShortShortUInt(n) => HeaderValue::Int((*n).into()),
            AMQPValue::ShortInt(n) => HeaderValue::Int((*n).into()),
            AMQPValue::ShortUInt(n) => HeaderValue::Int((*n).into()),
            AMQPValue::LongInt(n) => HeaderValue::Int((*n).into()),
            AMQPValue::LongUInt(n) => HeaderValue::Int((*n).into()),
            AMQPValue::LongLongInt(n) => HeaderValue::Int(*n),
            AMQPValue::Float(x) => HeaderValue::Float((*x).into()),
            AMQPValue::Double(x) => HeaderValue::Float(*x),
            AMQPValue::ShortString(s) => HeaderValue::Str(s.as_str().to_owned()),
            AMQPValue::LongString(s) => match std::str::from_utf8(s.as_bytes()) {
                Ok(s) => HeaderValue::Str(s.to_owned()),
                Err(_) => HeaderValue::Bytes(s.as_bytes().to_vec()),
            },
            AMQPValue::ByteArray(b) => HeaderValue::Bytes(b.as_slice().to_vec()),
            AMQPValue::Timestamp(t) => HeaderValue::Timestamp(*t),
            AMQPValue::FieldArray(a) => {
                HeaderValue::Array(a.as_slice().iter().map(HeaderValue::from_amqp).collect())
            }
            AMQPValue::FieldTable(t) => HeaderValue::Table(
                t.inner()
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), HeaderValue::from_amqp(v)))
                    .collect(),
            ),
            _ => HeaderValue::Void,
        }
    }
}
