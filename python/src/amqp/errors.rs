//! The bridge's errors as Python exceptions: the classes of
//! `ringq/amqp.py` (subclasses of the built-in ones a caller would catch:
//! `ConnectionError`, `PermissionError`, `LookupError`, `TimeoutError`),
//! and `queue.Empty`/`queue.Full`/`ShutDown` where the queue API has them.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList};
use ringq::amqp::{Error, FailureReason};

/// What the failing call was, for the errors that depend on it.
#[derive(Clone, Copy)]
pub(crate) enum Op {
    Connect,
    Get,
    Put,
    /// Waiting for every confirm (`flush`): a timeout is `AMQPTimeout`,
    /// not the `queue.Full` of a put.
    Flush,
    Settle,
}

fn module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || Ok::<_, PyErr>(py.import("ringq.amqp")?.unbind()))
        .map(|m| m.bind(py))
}

fn raise(py: Python<'_>, class: &str, args: String) -> PyErr {
    match module(py)
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1((args,)))
    {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

/// The exception for `err`, raised by a call of kind `op`.
pub(crate) fn to_py(py: Python<'_>, op: Op, err: Error) -> PyErr {
    let text = err.to_string();
    match (err, op) {
        (Error::Timeout, Op::Get) => crate::errors::empty(),
        (Error::Timeout, Op::Put) => crate::errors::full(),
        (Error::Timeout, Op::Flush) => raise(
            py,
            "AMQPTimeout",
            "confirms still outstanding when the timeout passed".to_owned(),
        ),
        (Error::Timeout, _) => raise(py, "AMQPTimeout", text),
        (Error::Closed, Op::Connect) => raise(py, "BrokerUnreachable", text),
        (Error::Closed, _) => crate::errors::shut_down(py),
        (Error::InvalidUrl(_), _) => PyValueError::new_err(text),
        (Error::Unreachable(_), _) => raise(py, "BrokerUnreachable", text),
        (Error::ConnectTimeout(_), _) => raise(py, "BrokerUnreachable", text),
        (Error::AccessRefused(_), _) => raise(py, "AccessRefused", text),
        (Error::QueueNotFound(_), _) => raise(py, "QueueNotFound", text),
        (Error::AlreadySettled, _) => {
            PyValueError::new_err("the message was already acked or rejected")
        }
        (Error::Publish(failures), _) => publish_error(py, &text, failures),
        (Error::Broker { .. }, _) | (Error::Connection(_), _) => raise(py, "AMQPError", text),
        (_, _) => PyRuntimeError::new_err(text),
    }
}

/// `PublishError(text, failures)`, each failure a
/// `(seq, body, reason)` tuple.
fn publish_error(py: Python<'_>, text: &str, failures: Vec<ringq::amqp::PublishFailure>) -> PyErr {
    let items: Vec<(u64, Bound<'_, PyBytes>, String)> = failures
        .into_iter()
        .map(|f| {
            let reason = match f.reason {
                FailureReason::Nacked => "nacked".to_owned(),
                FailureReason::Returned { code, text } => format!("returned {code} {text}"),
                FailureReason::Unconfirmed => "unconfirmed".to_owned(),
                _ => "failed".to_owned(),
            };
            (f.seq, PyBytes::new(py, &f.body), reason)
        })
        .collect();
    let list = match PyList::new(py, items) {
        Ok(list) => list,
        Err(err) => return err,
    };
    match module(py)
        .and_then(|m| m.getattr("PublishError"))
        .and_then(|c| c.call1((text, list)))
    {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}
