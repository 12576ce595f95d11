//! The blocking operations, written once over each queue's non-blocking ones.
//!
//! Every queue implements [`PushSide`] and [`PopSide`] (an SPSC half just
//! one of them); its public blocking methods are thin
//! wrappers over the functions here, so the spin-then-park protocol of
//! [`WaitQueue`] is used the same way everywhere.

use std::time::Instant;

use crate::error::{
    Closed, PopTimeoutError, PushError, PushTimeoutError, TryPopError, TryPushError,
};
use crate::wait::WaitQueue;

/// How many items `push_iter` gathers before pushing them as one batch.
const CHUNK: usize = 64;

/// The non-blocking push operations, as the blocking layer sees them.
pub(crate) trait PushSide<T> {
    fn try_push(&self, value: T) -> Result<(), TryPushError<T>>;
    fn try_push_vec(&self, items: &mut Vec<T>) -> Result<usize, Closed>;
    /// Pushers waiting for room.
    fn writers(&self) -> &WaitQueue;
}

/// The non-blocking pop operations, as the blocking layer sees them.
pub(crate) trait PopSide<T> {
    fn try_pop(&self) -> Result<T, TryPopError>;
    fn try_pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, Closed>;
    /// Poppers waiting for an item.
    fn readers(&self) -> &WaitQueue;
}

pub(crate) fn push_until<T>(
    q: &impl PushSide<T>,
    value: T,
    deadline: Option<Instant>,
) -> Result<(), PushTimeoutError<T>> {
    let mut pending = Some(value);
    let outcome = q.writers().wait_until(deadline, || {
        let value = pending.take()?;
        match q.try_push(value) {
            Ok(()) => Some(Ok(())),
            Err(TryPushError::Closed(v)) => Some(Err(PushTimeoutError::Closed(v))),
            Err(TryPushError::Full(v)) => {
                pending = Some(v);
                None
            }
        }
    });
    match (outcome, pending) {
        (Some(result), _) => result,
        (None, Some(v)) => Err(PushTimeoutError::Timeout(v)),
        (None, None) => unreachable!("a timed-out push still holds its value"),
    }
}

pub(crate) fn push<T>(q: &impl PushSide<T>, value: T) -> Result<(), PushError<T>> {
    push_until(q, value, None).map_err(|e| PushError(e.into_inner()))
}

pub(crate) fn pop_until<T>(
    q: &impl PopSide<T>,
    deadline: Option<Instant>,
) -> Result<T, PopTimeoutError> {
    q.readers()
        .wait_until(deadline, || match q.try_pop() {
            Ok(v) => Some(Ok(v)),
            Err(TryPopError::Closed) => Some(Err(PopTimeoutError::Closed)),
            Err(TryPopError::Empty) => None,
        })
        .unwrap_or(Err(PopTimeoutError::Timeout))
}

pub(crate) fn pop<T>(q: &impl PopSide<T>) -> Result<T, Closed> {
    pop_until(q, None).map_err(|_| Closed)
}

pub(crate) fn pop_many_until<T>(
    q: &impl PopSide<T>,
    out: &mut Vec<T>,
    max: usize,
    deadline: Option<Instant>,
) -> Result<usize, PopTimeoutError> {
    if max == 0 {
        return Ok(0);
    }
    q.readers()
        .wait_until(deadline, || match q.try_pop_many(out, max) {
            Ok(0) => None,
            Ok(n) => Some(Ok(n)),
            Err(Closed) => Some(Err(PopTimeoutError::Closed)),
        })
        .unwrap_or(Err(PopTimeoutError::Timeout))
}

pub(crate) fn push_iter<T>(
    q: &impl PushSide<T>,
    items: impl IntoIterator<Item = T>,
) -> Result<usize, PushError<Vec<T>>> {
    let mut items = items.into_iter();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut pushed = 0;
    loop {
        chunk.extend(items.by_ref().take(CHUNK - chunk.len()));
        if chunk.is_empty() {
            return Ok(pushed);
        }
        match q.try_push_vec(&mut chunk) {
            Ok(0) => {
                // Full: block on the first item, then go back to batches.
                let first = chunk.remove(0);
                if let Err(PushError(first)) = push(q, first) {
                    chunk.insert(0, first);
                    return Err(PushError(chunk));
                }
                pushed += 1;
            }
            Ok(n) => pushed += n,
            // What is left of `items` stays unconsumed: it may be endless.
            Err(Closed) => return Err(PushError(chunk)),
        }
    }
}
