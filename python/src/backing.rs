//! The core queue behind `Queue` and `SimpleQueue`: bounded or unbounded.

use std::time::Instant;

use ringq::{
    BoundedQueue, CapacityError, Closed, PopTimeoutError, PushTimeoutError, TryPopError,
    TryPushError, UnboundedQueue,
};

use crate::ops::{Item, PopSide, PushSide};

/// A `ringq::BoundedQueue` with an exact capacity, or a
/// `ringq::UnboundedQueue`.
// One per queue object, and both variants are hot: boxing would add an
// indirection to every operation for a few hundred bytes.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Backing {
    Bounded(BoundedQueue<Item>),
    Unbounded(UnboundedQueue<Item>),
}

impl Backing {
    /// `queue.Queue(maxsize)`'s storage: unbounded when `maxsize <= 0`.
    pub(crate) fn with_maxsize(maxsize: isize) -> Result<Self, CapacityError> {
        match usize::try_from(maxsize) {
            Ok(capacity) if capacity > 0 => Ok(Self::Bounded(BoundedQueue::new(capacity)?)),
            _ => Ok(Self::Unbounded(UnboundedQueue::new())),
        }
    }

    pub(crate) fn is_bounded(&self) -> bool {
        matches!(self, Self::Bounded(_))
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Bounded(q) => q.len(),
            Self::Unbounded(q) => q.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Self::Bounded(q) => q.is_empty(),
            Self::Unbounded(q) => q.is_empty(),
        }
    }

    pub(crate) fn close(&self) -> bool {
        match self {
            Self::Bounded(q) => q.close(),
            Self::Unbounded(q) => q.close(),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Self::Bounded(q) => q.is_closed(),
            Self::Unbounded(q) => q.is_closed(),
        }
    }
}

impl PopSide for Backing {
    fn try_pop(&self) -> Result<Item, TryPopError> {
        match self {
            Self::Bounded(q) => q.try_pop(),
            Self::Unbounded(q) => q.try_pop(),
        }
    }

    fn pop_deadline(&self, deadline: Instant) -> Result<Item, PopTimeoutError> {
        match self {
            Self::Bounded(q) => q.pop_deadline(deadline),
            Self::Unbounded(q) => q.pop_deadline(deadline),
        }
    }

    fn try_pop_many(&self, out: &mut Vec<Item>, max: usize) -> Result<usize, Closed> {
        match self {
            Self::Bounded(q) => q.try_pop_many(out, max),
            Self::Unbounded(q) => q.try_pop_many(out, max),
        }
    }

    fn pop_many_deadline(
        &self,
        out: &mut Vec<Item>,
        max: usize,
        deadline: Instant,
    ) -> Result<usize, PopTimeoutError> {
        match self {
            Self::Bounded(q) => q.pop_many_deadline(out, max, Some(deadline)),
            Self::Unbounded(q) => q.pop_many_deadline(out, max, Some(deadline)),
        }
    }
}

impl PushSide for Backing {
    fn try_push(&self, item: Item) -> Result<(), TryPushError<Item>> {
        match self {
            Self::Bounded(q) => q.try_push(item),
            Self::Unbounded(q) => q.try_push(item),
        }
    }

    fn push_deadline(&self, item: Item, deadline: Instant) -> Result<(), PushTimeoutError<Item>> {
        match self {
            Self::Bounded(q) => q.push_deadline(item, deadline),
            // Never full: a push only fails when the queue is closed.
            Self::Unbounded(q) => q.try_push(item).map_err(|err| match err {
                TryPushError::Full(item) => PushTimeoutError::Timeout(item),
                TryPushError::Closed(item) => PushTimeoutError::Closed(item),
            }),
        }
    }

    fn try_push_vec(&self, items: &mut Vec<Item>) -> Result<usize, Closed> {
        match self {
            Self::Bounded(q) => q.try_push_vec(items),
            Self::Unbounded(q) => q.try_push_vec(items),
        }
    }
}
