//! Waiting without holding up the interpreter.
//!
//! A wait detaches the thread from the interpreter (releases the GIL) and
//! blocks in the core's `*_deadline` calls for at most [`SLICE`] at a time.
//! Between slices it re-attaches and runs `PyErr_CheckSignals`, so Ctrl-C
//! raises `KeyboardInterrupt` in a thread blocked in `get`, `put` or `join`
//! within about one slice. Only waits pay for this: the callers try the
//! non-blocking operation first, with the thread attached.
//!
//! While detached the closures only move `Py<PyAny>` values in and out of
//! the core queues; they never drop one, so no reference count changes and
//! no Python code runs without the interpreter.

use std::time::{Duration, Instant};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors;

/// The longest a wait stays detached before it checks for signals.
pub(crate) const SLICE: Duration = Duration::from_millis(50);

/// When a blocking call gives up: `None` waits forever.
pub(crate) type Deadline = Option<Instant>;

/// Turns a `timeout` argument into a deadline, as `queue.Queue` reads it.
///
/// `None` waits forever. A number below zero is the standard library's
/// `ValueError`. A timeout too long to represent also waits forever.
///
/// # Errors
///
/// `ValueError` for a negative number or NaN, `TypeError` for a value that
/// is not a real number.
pub(crate) fn deadline(timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Deadline> {
    let Some(timeout) = timeout else {
        return Ok(None);
    };
    let seconds = timeout_seconds(timeout)?;
    if seconds < 0.0 {
        return Err(errors::negative_timeout());
    }
    Ok(Duration::try_from_secs_f64(seconds)
        .ok()
        .and_then(|wait| Instant::now().checked_add(wait)))
}

/// Reads a `timeout` as seconds. A negative result is left to the caller,
/// which decides which error comes first.
///
/// # Errors
///
/// `ValueError` for NaN, `TypeError` for a value that is not a real number.
pub(crate) fn timeout_seconds(timeout: &Bound<'_, PyAny>) -> PyResult<f64> {
    let seconds: f64 = timeout.extract()?;
    if seconds.is_nan() {
        return Err(PyValueError::new_err("Invalid value NaN (not a number)"));
    }
    Ok(seconds)
}

/// Reads `get`'s `block` and `timeout` as `queue.Queue.get` does: no
/// deadline unless blocking, and a queue that is shut down and drained
/// (`shut_down_and_empty`, asked only for a negative timeout) reports
/// ShutDown before the negative timeout is refused.
///
/// # Errors
///
/// The shut-down exception, or [`deadline`]'s errors.
pub(crate) fn get_deadline(
    py: Python<'_>,
    block: bool,
    timeout: Option<&Bound<'_, PyAny>>,
    shut_down_and_empty: impl FnOnce() -> bool,
) -> PyResult<Deadline> {
    if !block {
        return Ok(None);
    }
    if is_negative(timeout)? && shut_down_and_empty() {
        return Err(errors::shut_down(py));
    }
    deadline(timeout)
}

/// Whether a number read by [`timeout_seconds`] is one `put`/`get` refuse.
pub(crate) fn is_negative(timeout: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
    match timeout {
        Some(t) => Ok(timeout_seconds(t)? < 0.0),
        None => Ok(false),
    }
}

/// Calls `attempt(slice_end)` detached from the interpreter, slice after
/// slice, until it returns `Some` or `deadline` passes.
///
/// `attempt` must block until `slice_end` at the latest (a core
/// `*_deadline` call) and must not drop Python objects. Between slices the
/// thread re-attaches and checks for signals.
///
/// Returns `Ok(Some(_))` when `attempt` succeeded and `Ok(None)` when the
/// deadline passed.
///
/// # Errors
///
/// Whatever a signal handler raised (`KeyboardInterrupt` for Ctrl-C).
pub(crate) fn wait_in_slices<T, F>(
    py: Python<'_>,
    deadline: Deadline,
    mut attempt: F,
) -> PyResult<Option<T>>
where
    T: Send,
    F: FnMut(Instant) -> Option<T> + Send,
{
    loop {
        let now = Instant::now();
        let slice_end = match deadline {
            Some(d) => d.min(now + SLICE),
            None => now + SLICE,
        };
        if let Some(done) = py.detach(|| attempt(slice_end)) {
            return Ok(Some(done));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
        py.check_signals()?;
    }
}

/// A `block` argument, read for its truth value as `queue.Queue` reads it
/// (`if not block:`), so `get(0)` and `put(x, 1)` work as there.
#[derive(Clone, Copy)]
pub(crate) struct Block(pub(crate) bool);

impl<'a, 'py> FromPyObject<'a, 'py> for Block {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        obj.is_truthy().map(Block)
    }
}
