//! `block` and `timeout` as `multiprocessing.Queue` reads them, and waits
//! that let Ctrl-C through.
//!
//! A wait detaches the thread from the interpreter (releases the GIL) and
//! blocks in the core's `*_deadline` calls for at most [`SLICE`] at a time;
//! between slices it re-attaches and runs the signal handlers, so
//! `KeyboardInterrupt` reaches a blocked `get`, `put` or `join` within one
//! slice. Nothing crosses a slice but bytes: the queue holds no Python
//! objects, so a detached thread never touches one.

use std::time::{Duration, Instant};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use ringq::shm::ShmError;

/// The longest a wait stays detached before it runs signal handlers.
pub(crate) const SLICE: Duration = Duration::from_millis(50);

/// How long a call may wait once it found no message (or no room).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Patience {
    /// Not at all: `block` is false, or the timeout is zero or negative.
    None,
    /// Until the instant, or forever (`None`).
    Until(Option<Instant>),
}

impl Patience {
    /// Reads `block` and `timeout` as `multiprocessing.Queue.get`/`put` do:
    /// `timeout` counts only when blocking, `None` waits forever, and a
    /// negative number is the same as zero (a single try).
    ///
    /// # Errors
    ///
    /// `TypeError` for a timeout that is not a real number, `ValueError`
    /// for NaN.
    pub(crate) fn read(block: bool, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        if !block {
            return Ok(Self::None);
        }
        let Some(timeout) = timeout else {
            return Ok(Self::Until(None));
        };
        let seconds: f64 = timeout.extract()?;
        if seconds.is_nan() {
            return Err(PyValueError::new_err("Invalid value NaN (not a number)"));
        }
        if seconds <= 0.0 {
            return Ok(Self::None);
        }
        // A timeout too long to represent waits forever.
        Ok(Self::Until(
            Duration::try_from_secs_f64(seconds)
                .ok()
                .and_then(|wait| Instant::now().checked_add(wait)),
        ))
    }
}

/// Calls `attempt(slice_end)` detached, slice after slice, until it returns
/// anything but [`ShmError::TimedOut`] or `deadline` passes (then it returns
/// `TimedOut`).
///
/// `attempt` must block until `slice_end` at the latest: a core
/// `*_deadline` call.
///
/// # Errors
///
/// Whatever a signal handler raised (`KeyboardInterrupt` for Ctrl-C).
pub(crate) fn in_slices<T: Send>(
    py: Python<'_>,
    deadline: Option<Instant>,
    mut attempt: impl FnMut(Instant) -> Result<T, ShmError> + Send,
) -> PyResult<Result<T, ShmError>> {
    loop {
        let now = Instant::now();
        let slice_end = match deadline {
            Some(d) => d.min(now + SLICE),
            None => now + SLICE,
        };
        match py.detach(|| attempt(slice_end)) {
            Err(ShmError::TimedOut) => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(Err(ShmError::TimedOut));
                }
                py.check_signals()?;
            }
            done => return Ok(done),
        }
    }
}
