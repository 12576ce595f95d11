//! The exceptions a `ProcessQueue` raises, as `multiprocessing.Queue` and
//! `queue.Queue` raise them.

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use ringq::shm::{OpenError, ShmError};

use crate::errors;

/// What an operation was doing, for the exception its failure raises.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Put,
    Get,
}

/// The exception for a failed core operation.
///
/// No room is `queue.Full`, no message is `queue.Empty` (as after a
/// timeout), a queue-wide close is `ShutDown`, a message that does not
/// fit is `ValueError` with the limit and how to raise it.
pub(crate) fn from_shm(py: Python<'_>, op: Op, err: ShmError) -> PyErr {
    match err {
        ShmError::Full => errors::full(),
        ShmError::Empty => errors::empty(),
        ShmError::TimedOut if op == Op::Put => errors::full(),
        ShmError::TimedOut => errors::empty(),
        ShmError::Closed => errors::shut_down(py),
        ShmError::TooLarge { len, max } => too_large(len, max),
        ShmError::TaskDoneTooOften => PyValueError::new_err("task_done() called too many times"),
        ShmError::TooManyParticipants => too_many_participants(),
        ShmError::Corrupt(what) => corrupt(what),
        other => PyRuntimeError::new_err(other.to_string()),
    }
}

/// A message longer than the queue's `max_message_size`.
pub(crate) fn too_large(len: usize, max: usize) -> PyErr {
    PyValueError::new_err(format!(
        "message of {len} bytes is larger than this queue's max_message_size of {max} bytes \
         (for put(), the pickled size); create the queue with a larger max_message_size, \
         e.g. ProcessQueue(maxsize, max_message_size={})",
        len.next_power_of_two()
    ))
}

fn too_many_participants() -> PyErr {
    PyRuntimeError::new_err(
        "every participant entry of the shared-memory queue belongs to a live process \
         (a queue takes one per process that uses it, up to max_participants)",
    )
}

fn corrupt(what: &str) -> PyErr {
    PyRuntimeError::new_err(format!(
        "corrupt shared-memory queue: {what} (the damaged message, if any, was dropped)"
    ))
}

/// `EACCES`, the same on every Linux architecture (the process queues are
/// Linux-only).
const EACCES: i32 = 13;

/// The exception for a segment that could not be created or opened.
///
/// System errors are `OSError` with their `errno` (so `FileNotFoundError`,
/// `FileExistsError`, `PermissionError`, ...) and the segment's path; a
/// file of an owner or mode the opener does not trust is `PermissionError`
/// (`EACCES`) naming them; a file that is not a usable segment, and bad
/// options or names, are `ValueError`.
pub(crate) fn from_open(name: Option<&str>, err: OpenError) -> PyErr {
    match err {
        OpenError::Io(io) => {
            let text = io.to_string();
            // std appends " (os error N)"; OSError shows the errno itself.
            let text = match text.rfind(" (os error ") {
                Some(at) => text[..at].to_owned(),
                None => text,
            };
            match (io.raw_os_error(), name) {
                (Some(errno), Some(name)) => {
                    PyOSError::new_err((errno, text, format!("/dev/shm/{}", bare(name))))
                }
                (Some(errno), None) => PyOSError::new_err((errno, text)),
                (None, _) => PyOSError::new_err(text),
            }
        }
        OpenError::TooManyParticipants => too_many_participants(),
        OpenError::Untrusted { .. } => {
            let text = err.to_string();
            let text = text.replace(
                "see ringq::shm::Trust",
                "see ProcessQueue.open's trust arguments",
            );
            match name {
                Some(name) => {
                    PyOSError::new_err((EACCES, text, format!("/dev/shm/{}", bare(name))))
                }
                None => PyOSError::new_err((EACCES, text)),
            }
        }
        other => PyValueError::new_err(other.to_string()),
    }
}

/// A name without its optional leading `/`.
pub(crate) fn bare(name: &str) -> &str {
    name.strip_prefix('/').unwrap_or(name)
}
