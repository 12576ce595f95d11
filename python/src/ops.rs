//! `get`, `put` and their batch forms, written once for every queue.
//!
//! Each operation first tries the non-blocking core call with the thread
//! attached: when an item or room is there, the GIL is never released.
//! Only when it must wait does it go through [`wait_in_slices`].
//!
//! [`PopSide`] and [`PushSide`] are the core operations a queue offers;
//! the queue classes implement them for their backing core queue.

use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use ringq::{Closed, PopTimeoutError, PushTimeoutError, TryPopError, TryPushError};

use crate::blocking::{wait_in_slices, Deadline};
use crate::errors;

/// What the queues hold: strong references to Python objects.
pub(crate) type Item = Py<PyAny>;

/// The consuming operations of a core queue.
pub(crate) trait PopSide {
    fn try_pop(&self) -> Result<Item, TryPopError>;
    fn pop_deadline(&self, deadline: Instant) -> Result<Item, PopTimeoutError>;
    fn try_pop_many(&self, out: &mut Vec<Item>, max: usize) -> Result<usize, Closed>;
    fn pop_many_deadline(
        &self,
        out: &mut Vec<Item>,
        max: usize,
        deadline: Instant,
    ) -> Result<usize, PopTimeoutError>;
}

/// The producing operations of a core queue.
pub(crate) trait PushSide {
    fn try_push(&self, item: Item) -> Result<(), TryPushError<Item>>;
    fn push_deadline(&self, item: Item, deadline: Instant) -> Result<(), PushTimeoutError<Item>>;
    fn try_push_vec(&self, items: &mut Vec<Item>) -> Result<usize, Closed>;
}

impl<T: PopSide + ?Sized> PopSide for &T {
    fn try_pop(&self) -> Result<Item, TryPopError> {
        (**self).try_pop()
    }
    fn pop_deadline(&self, deadline: Instant) -> Result<Item, PopTimeoutError> {
        (**self).pop_deadline(deadline)
    }
    fn try_pop_many(&self, out: &mut Vec<Item>, max: usize) -> Result<usize, Closed> {
        (**self).try_pop_many(out, max)
    }
    fn pop_many_deadline(
        &self,
        out: &mut Vec<Item>,
        max: usize,
        deadline: Instant,
    ) -> Result<usize, PopTimeoutError> {
        (**self).pop_many_deadline(out, max, deadline)
    }
}

/// Forwards [`PushSide`] through a reference type.
macro_rules! push_side_through {
    ($($ref:tt)*) => {
        impl<T: PushSide + ?Sized> PushSide for $($ref)* T {
            fn try_push(&self, item: Item) -> Result<(), TryPushError<Item>> {
                (**self).try_push(item)
            }
            fn push_deadline(
                &self,
                item: Item,
                deadline: Instant,
            ) -> Result<(), PushTimeoutError<Item>> {
                (**self).push_deadline(item, deadline)
            }
            fn try_push_vec(&self, items: &mut Vec<Item>) -> Result<usize, Closed> {
                (**self).try_push_vec(items)
            }
        }
    };
}
push_side_through!(&);
push_side_through!(&mut);

/// Removes and returns one item, as `queue.Queue.get` does once its
/// arguments are checked.
///
/// # Errors
///
/// `queue.Empty` when nothing came (at once, or by the deadline), the
/// shut-down exception when the queue is closed and drained, and whatever a
/// signal handler raised while waiting.
pub(crate) fn get<S: PopSide + Send>(
    py: Python<'_>,
    src: S,
    block: bool,
    deadline: Deadline,
) -> PyResult<Item> {
    match src.try_pop() {
        Ok(item) => return Ok(item),
        Err(TryPopError::Closed) => return Err(errors::shut_down(py)),
        Err(TryPopError::Empty) if !block => return Err(errors::empty()),
        Err(TryPopError::Empty) => {}
    }
    let outcome = wait_in_slices(py, deadline, move |slice_end| {
        match src.pop_deadline(slice_end) {
            Ok(item) => Some(Ok(item)),
            Err(PopTimeoutError::Closed) => Some(Err(Closed)),
            Err(PopTimeoutError::Timeout) => None,
        }
    })?;
    match outcome {
        Some(Ok(item)) => Ok(item),
        Some(Err(Closed)) => Err(errors::shut_down(py)),
        None => Err(errors::empty()),
    }
}

/// Removes up to `max` items (at least one), waiting like [`get`] for the
/// first.
///
/// # Errors
///
/// As [`get`].
pub(crate) fn get_many<S: PopSide + Send>(
    py: Python<'_>,
    src: S,
    max: usize,
    block: bool,
    deadline: Deadline,
) -> PyResult<Vec<Item>> {
    // Don't let a huge `max_items` reserve memory up front.
    let mut out = Vec::with_capacity(max.min(1024));
    match src.try_pop_many(&mut out, max) {
        Ok(0) if !block => return Err(errors::empty()),
        Ok(0) => {}
        Ok(_) => return Ok(out),
        Err(Closed) => return Err(errors::shut_down(py)),
    }
    let out_ref = &mut out;
    let outcome = wait_in_slices(py, deadline, move |slice_end| {
        match src.pop_many_deadline(out_ref, max, slice_end) {
            Ok(0) | Err(PopTimeoutError::Timeout) => None,
            Ok(_) => Some(Ok(())),
            Err(PopTimeoutError::Closed) => Some(Err(Closed)),
        }
    })?;
    match outcome {
        Some(Ok(())) => Ok(out),
        Some(Err(Closed)) => Err(errors::shut_down(py)),
        None => Err(errors::empty()),
    }
}

/// Adds one item, as `queue.Queue.put` does once its arguments are checked.
/// On failure the item is released (the thread is attached then).
///
/// # Errors
///
/// `queue.Full` when there was no room (at once, or by the deadline), the
/// shut-down exception when the queue is closed, and whatever a signal
/// handler raised while waiting.
pub(crate) fn put<S: PushSide + Send>(
    py: Python<'_>,
    dst: S,
    item: Item,
    block: bool,
    deadline: Deadline,
) -> PyResult<()> {
    let item = match dst.try_push(item) {
        Ok(()) => return Ok(()),
        Err(TryPushError::Closed(_)) => return Err(errors::shut_down(py)),
        Err(TryPushError::Full(_)) if !block => return Err(errors::full()),
        Err(TryPushError::Full(item)) => item,
    };
    // The item travels into each slice and, if the slice ends without room,
    // back out; it is released here, attached, if the put fails.
    let mut pending = Some(item);
    let pending_ref = &mut pending;
    let outcome = wait_in_slices(py, deadline, move |slice_end| {
        let item = pending_ref
            .take()
            .expect("the item is handed back by every failed slice");
        match dst.push_deadline(item, slice_end) {
            Ok(()) => Some(Ok(())),
            Err(PushTimeoutError::Closed(item)) => {
                *pending_ref = Some(item);
                Some(Err(Closed))
            }
            Err(PushTimeoutError::Timeout(item)) => {
                *pending_ref = Some(item);
                None
            }
        }
    })?;
    drop(pending);
    match outcome {
        Some(Ok(())) => Ok(()),
        Some(Err(Closed)) => Err(errors::shut_down(py)),
        None => Err(errors::full()),
    }
}

/// Adds every item of `chunk` in order, waiting for room as needed. Counts
/// into `pushed` how many went in; on failure the rest are released.
///
/// # Errors
///
/// The shut-down exception when the queue is closed, and whatever a signal
/// handler raised while waiting.
pub(crate) fn put_vec<S: PushSide + Send>(
    py: Python<'_>,
    dst: &mut S,
    chunk: &mut Vec<Item>,
    pushed: &mut usize,
) -> PyResult<()> {
    loop {
        match dst.try_push_vec(chunk) {
            Ok(n) => *pushed += n,
            Err(Closed) => {
                chunk.clear();
                return Err(errors::shut_down(py));
            }
        }
        if chunk.is_empty() {
            return Ok(());
        }
        // Full: wait for room for the first item, then batch the rest again.
        let first = chunk.remove(0);
        if let Err(err) = put(py, &mut *dst, first, true, None) {
            chunk.clear();
            return Err(err);
        }
        *pushed += 1;
    }
}

/// How many items `put_many` takes from the iterable per batch.
pub(crate) const PUT_MANY_CHUNK: usize = 1024;

/// Takes the items of a Python iterable in batches of [`PUT_MANY_CHUNK`]
/// and hands each batch to `put`. If iterating raises, the items taken
/// before the error are still handed over, then the error is returned.
///
/// # Errors
///
/// What iterating or `put` raised.
pub(crate) fn for_each_chunk(
    items: &Bound<'_, PyAny>,
    mut put: impl FnMut(&mut Vec<Item>) -> PyResult<()>,
) -> PyResult<()> {
    let mut chunk = Vec::with_capacity(PUT_MANY_CHUNK);
    let mut take = |item: Bound<'_, PyAny>, chunk: &mut Vec<Item>| {
        chunk.push(item.unbind());
        if chunk.len() == PUT_MANY_CHUNK {
            put(chunk)?;
        }
        Ok::<_, PyErr>(())
    };
    // Lists and tuples, the common case, are read by index: no iterator
    // protocol, and nothing in them can raise.
    if let Ok(list) = items.cast::<PyList>() {
        for item in list.iter() {
            take(item, &mut chunk)?;
        }
    } else if let Ok(tuple) = items.cast::<PyTuple>() {
        for item in tuple.iter() {
            take(item, &mut chunk)?;
        }
    } else {
        for item in items.try_iter()? {
            match item {
                Ok(item) => take(item, &mut chunk)?,
                Err(err) => {
                    if !chunk.is_empty() {
                        put(&mut chunk)?;
                    }
                    return Err(err);
                }
            }
        }
    }
    if chunk.is_empty() {
        Ok(())
    } else {
        put(&mut chunk)
    }
}
