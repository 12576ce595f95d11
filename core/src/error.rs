//! Error types shared by every queue.
//!
//! Errors that carry a value hand it back to the caller, so a failed push
//! never loses an item: call `into_inner` to take it back.

use std::error::Error;
use std::fmt;

/// Why a queue could not be created.
///
/// # Examples
///
/// ```
/// use ringq::{BoundedQueue, CapacityError};
///
/// assert_eq!(BoundedQueue::<u32>::new(0).unwrap_err(), CapacityError::Zero);
/// assert!(matches!(
///     BoundedQueue::<u64>::new(usize::MAX),
///     Err(CapacityError::TooLarge { .. })
/// ));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CapacityError {
    /// A capacity of zero was requested; a bounded queue holds at least one item.
    Zero,
    /// The capacity exceeds what the index encoding or the address space allows.
    TooLarge {
        /// The capacity that was asked for.
        requested: usize,
    },
    /// The allocator could not provide a buffer of this capacity.
    AllocFailed {
        /// The capacity that was asked for.
        requested: usize,
    },
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Zero => f.write_str("queue capacity must be at least 1"),
            Self::TooLarge { requested } => {
                write!(f, "queue capacity {requested} is too large")
            }
            Self::AllocFailed { requested } => {
                write!(f, "could not allocate a buffer for {requested} items")
            }
        }
    }
}

impl Error for CapacityError {}

/// The queue is closed.
///
/// Returned by blocking pops once the queue is closed and drained, and by
/// batch operations.
///
/// # Examples
///
/// ```
/// use ringq::{BoundedQueue, Closed};
///
/// let q = BoundedQueue::<u8>::new(1).unwrap();
/// q.close();
/// assert_eq!(q.pop(), Err(Closed));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is closed")
    }
}

impl Error for Closed {}

/// A blocking push failed because the queue is closed; the value is handed back.
///
/// # Examples
///
/// ```
/// use ringq::BoundedQueue;
///
/// let q = BoundedQueue::new(1).unwrap();
/// q.close();
/// assert_eq!(q.push("job").unwrap_err().into_inner(), "job");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PushError<T>(pub T);

impl<T> PushError<T> {
    /// Takes back the value that was not pushed.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Why `try_push` failed; the value is handed back either way.
///
/// # Examples
///
/// ```
/// use ringq::{BoundedQueue, TryPushError};
///
/// let q = BoundedQueue::new(1).unwrap();
/// q.try_push(1).unwrap();
/// assert_eq!(q.try_push(2), Err(TryPushError::Full(2)));
/// q.close();
/// assert_eq!(q.try_push(3), Err(TryPushError::Closed(3)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryPushError<T> {
    /// The queue holds `capacity` items.
    Full(T),
    /// The queue is closed.
    Closed(T),
}

impl<T> TryPushError<T> {
    /// Takes back the value that was not pushed.
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(v) | Self::Closed(v) => v,
        }
    }

    /// Whether the push failed because the queue was full.
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }

    /// Whether the push failed because the queue was closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed(_))
    }
}

/// Why a push with a timeout or deadline failed; the value is handed back.
///
/// # Examples
///
/// ```
/// use ringq::{BoundedQueue, PushTimeoutError};
/// use std::time::Duration;
///
/// let q = BoundedQueue::new(1).unwrap();
/// q.push(1).unwrap();
/// let err = q.push_timeout(2, Duration::from_millis(1)).unwrap_err();
/// assert_eq!(err, PushTimeoutError::Timeout(2));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PushTimeoutError<T> {
    /// The queue stayed full until the deadline.
    Timeout(T),
    /// The queue is closed.
    Closed(T),
}

impl<T> PushTimeoutError<T> {
    /// Takes back the value that was not pushed.
    pub fn into_inner(self) -> T {
        match self {
            Self::Timeout(v) | Self::Closed(v) => v,
        }
    }

    /// Whether the push gave up because the deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout(_))
    }

    /// Whether the push failed because the queue was closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed(_))
    }
}

/// Why `try_pop` returned nothing.
///
/// # Examples
///
/// ```
/// use ringq::{BoundedQueue, TryPopError};
///
/// let q = BoundedQueue::<u8>::new(1).unwrap();
/// assert_eq!(q.try_pop(), Err(TryPopError::Empty));
/// q.close();
/// assert_eq!(q.try_pop(), Err(TryPopError::Closed));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TryPopError {
    /// The queue holds no items right now.
    Empty,
    /// The queue is closed and drained: no item will ever arrive.
    Closed,
}

/// Why a pop with a timeout or deadline returned nothing.
///
/// # Examples
///
/// ```
/// use ringq::{BoundedQueue, PopTimeoutError};
/// use std::time::Duration;
///
/// let q = BoundedQueue::<u8>::new(1).unwrap();
/// assert_eq!(q.pop_timeout(Duration::from_millis(1)), Err(PopTimeoutError::Timeout));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PopTimeoutError {
    /// No item arrived before the deadline.
    Timeout,
    /// The queue is closed and drained.
    Closed,
}

impl fmt::Display for TryPopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "queue is empty",
            Self::Closed => "queue is closed and drained",
        })
    }
}

impl fmt::Display for PopTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Timeout => "timed out waiting for an item",
            Self::Closed => "queue is closed and drained",
        })
    }
}

impl Error for TryPopError {}
impl Error for PopTimeoutError {}

// The value-carrying errors print like crossbeam's: without the value, so
// they work for any `T` and never dump a payload into a log.
impl<T> fmt::Debug for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PushError(..)")
    }
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("pushing into a closed queue")
    }
}

impl<T> Error for PushError<T> {}

impl<T> fmt::Debug for TryPushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full(_) => "Full(..)",
            Self::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Display for TryPushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full(_) => "pushing into a full queue",
            Self::Closed(_) => "pushing into a closed queue",
        })
    }
}

impl<T> Error for TryPushError<T> {}

impl<T> fmt::Debug for PushTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Timeout(_) => "Timeout(..)",
            Self::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Display for PushTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Timeout(_) => "timed out waiting for room in the queue",
            Self::Closed(_) => "pushing into a closed queue",
        })
    }
}

impl<T> Error for PushTimeoutError<T> {}

impl<T> From<TryPushError<T>> for PushTimeoutError<T> {
    fn from(err: TryPushError<T>) -> Self {
        match err {
            TryPushError::Full(v) => Self::Timeout(v),
            TryPushError::Closed(v) => Self::Closed(v),
        }
    }
}
