//! Waiting without holding up the interpreter, and without moving items
//! while detached.
//!
//! # Where items move
//!
//! A thread that has released the GIL never takes an item out of, or puts
//! one into, a queue that the GC may be traversing. Every item moves while
//! its thread is attached to the interpreter: the fast paths never detach,
//! and a call that must wait runs [`wait_until`], which detaches, sleeps
//! until a *peek* at the queue's atomics (a length, a flag) says the
//! operation may now succeed, then re-attaches and lets the caller try the
//! operation again. A peek reads; it never moves an item.
//!
//! This one rule gives three guarantees:
//! - The GC traverses a queue while attached, and no other thread can be
//!   inside a core operation then: on a GIL build every other thread is
//!   detached (so not moving items) or waiting for the GIL; on a
//!   free-threaded build the collector stops the world, and a thread only
//!   stops at a point where it is attached to the interpreter, never in the
//!   middle of one of our calls. So traversal sees every queue at rest.
//! - `fork()` runs in a thread that is attached, with every other thread
//!   detached or stopped the same way, so a child never inherits a queue in
//!   the middle of an operation.
//! - Items are released (their reference counts change) only attached.
//!
//! A wait sleeps for at most [`SLICE`] at a time. Between slices it
//! re-attaches, runs `PyErr_CheckSignals`, and tries the operation, so
//! Ctrl-C raises `KeyboardInterrupt` in a thread blocked in `get`, `put` or
//! `join` within about one slice, and a wake-up that another thread
//! consumed (say, one that was interrupted) delays a waiter by one slice
//! at most.
//!
//! # Signals before the operation, never after
//!
//! A blocking call either raises before it moves anything, or returns what
//! it moved. So every wait runs the signal handlers *after* it wakes and
//! *before* its caller tries the operation again; a handler that raises
//! ends the call with nothing taken or put. Once the operation has
//! succeeded the call returns, and a signal that arrived in between stays
//! pending: the interpreter runs its handler at the next bytecode boundary.
//! (Checking after the operation would raise `KeyboardInterrupt` from a
//! `get` that had already taken the item, and the item would be lost.)

use std::time::{Duration, Instant};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::aio::Waiters;

use crate::errors;

/// The longest a wait stays detached before it re-checks the queue and
/// runs signal handlers.
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

/// What one attached attempt at an operation found.
pub(crate) enum Attempt<T> {
    /// It succeeded.
    Done(T),
    /// Not possible yet: no item, or no room.
    NotYet,
    /// The queue is shut down (for a get: and drained).
    ShutDown,
}

/// Why a blocking operation gave up without an error of its own.
pub(crate) enum GaveUp {
    /// The deadline passed, or the call did not block.
    TimedOut,
    /// The queue was shut down.
    ShutDown,
}

/// Runs `attempt` (attached) until it succeeds, waiting detached between
/// tries until `ready` says it may, for as long as `block` and `deadline`
/// allow.
///
/// `ready` runs detached, so it may only read atomics: it must never move
/// an item or touch a Python object (see the module docs). It should
/// return true when the attempt may succeed or report ShutDown. `waiters`
/// is the wait queue that whoever makes `ready` true notifies.
///
/// # Errors
///
/// `Ok(Err(GaveUp))` when the call timed out or found the queue shut down;
/// `Err` for whatever a signal handler raised while waiting.
pub(crate) fn wait_until<T>(
    py: Python<'_>,
    waiters: &Waiters,
    block: bool,
    deadline: Deadline,
    mut attempt: impl FnMut() -> Attempt<T>,
    ready: impl Fn() -> bool + Sync,
) -> PyResult<Result<T, GaveUp>> {
    loop {
        match attempt() {
            Attempt::Done(done) => return Ok(Ok(done)),
            Attempt::ShutDown => return Ok(Err(GaveUp::ShutDown)),
            Attempt::NotYet => {}
        }
        let now = Instant::now();
        if !block || deadline.is_some_and(|d| now >= d) {
            return Ok(Err(GaveUp::TimedOut));
        }
        let slice_end = match deadline {
            Some(d) => d.min(now + SLICE),
            None => now + SLICE,
        };
        py.detach(|| {
            waiters
                .threads()
                .wait_until(Some(slice_end), || ready().then_some(()))
        });
        if let Err(err) = py.check_signals() {
            // Leaving without acting on a wake-up: pass it on, so that
            // another waiter doesn't sleep through a state it could use.
            if ready() {
                waiters.notify_one();
            }
            return Err(err);
        }
    }
}

/// Calls `attempt(slice_end)` detached from the interpreter, slice after
/// slice, until it returns `Some` or `deadline` passes; after each slice,
/// the one that succeeded included, the thread re-attaches and checks for
/// signals, so the caller never acts on a wait while a handler is pending.
///
/// `attempt` runs detached, so it may only wait (until `slice_end` at the
/// latest) and peek at atomics: it must never move an item or touch a
/// Python object (see the module docs). [`wait_until`] builds the usual
/// attempt-then-wait loop on the same idea.
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
        let outcome = py.detach(|| attempt(slice_end));
        // Before the caller acts on the wait (see the module docs): a
        // signal that arrived while it slept raises now, with nothing moved.
        py.check_signals()?;
        if outcome.is_some() {
            return Ok(outcome);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
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
