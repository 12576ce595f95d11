//! Timeouts as `queue.Queue` reads them, and waits in slices: a call that
//! waits releases the GIL, and between slices runs the signal handlers, so
//! Ctrl-C interrupts it.

use std::time::{Duration, Instant};

use pyo3::prelude::*;
use ringq::amqp::Error;

/// How long one detached wait lasts at most.
const SLICE: Duration = Duration::from_millis(50);

/// How long a call may wait.
#[derive(Clone, Copy)]
pub(crate) enum Patience {
    /// Not at all (`block=False`).
    None,
    /// Until the instant, or forever (`None`).
    Until(Option<Instant>),
}

impl Patience {
    /// Reads `block` and `timeout` as `queue.Queue.get` does.
    ///
    /// # Errors
    ///
    /// `ValueError` for a negative or NaN timeout.
    pub(crate) fn read(block: bool, timeout: Option<f64>) -> PyResult<Self> {
        if !block {
            return Ok(Self::None);
        }
        match timeout {
            None => Ok(Self::Until(None)),
            Some(t) if t < 0.0 || t.is_nan() => Err(crate::errors::negative_timeout()),
            // A timeout too long to represent waits forever.
            Some(t) => Ok(Self::Until(
                Duration::try_from_secs_f64(t)
                    .ok()
                    .and_then(|wait| Instant::now().checked_add(wait)),
            )),
        }
    }
}

/// A duration argument in seconds (`connect_timeout=`, `close_timeout=`).
///
/// # Errors
///
/// `ValueError` naming the argument for a negative or NaN number.
pub(crate) fn seconds(name: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        pyo3::exceptions::PyValueError::new_err(format!(
            "{name} must be a non-negative number of seconds"
        ))
    })
}

/// Calls `attempt(slice)` detached until it returns anything but
/// [`Error::Timeout`] or `deadline` passes (then `Timeout`).
///
/// # Errors
///
/// What a signal handler raised.
pub(crate) fn in_slices<T: Send>(
    py: Python<'_>,
    deadline: Option<Instant>,
    mut attempt: impl FnMut(Duration) -> Result<T, Error> + Send,
) -> PyResult<Result<T, Error>> {
    loop {
        let slice = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).min(SLICE),
            None => SLICE,
        };
        match py.detach(|| attempt(slice)) {
            Err(Error::Timeout) => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(Err(Error::Timeout));
                }
                py.check_signals()?;
            }
            done => return Ok(done),
        }
    }
}
