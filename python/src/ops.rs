//! What the queue classes share: the batch helpers and wake-ups.

use crate::aio::Waiters;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

pub(crate) use crate::backing::Item;

/// Wakes the waiters that `n` new items (or `n` freed slots) may let
/// through: one for one, all for more.
#[inline(always)]
pub(crate) fn wake(waiters: &Waiters, n: usize) {
    match n {
        0 => {}
        1 => waiters.notify_one(),
        _ => waiters.notify_all(),
    }
}

/// Checks a `max_items` argument.
pub(crate) fn batch_size(max_items: isize) -> PyResult<usize> {
    match usize::try_from(max_items) {
        Ok(max) if max > 0 => Ok(max),
        _ => Err(PyValueError::new_err(format!(
            "max_items must be at least 1, got {max_items}"
        ))),
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
