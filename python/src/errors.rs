//! The exceptions the queues raise: the standard library's own classes.
//!
//! `queue.Empty` and `queue.Full` always come from the `queue` module, so
//! `except queue.Empty:` in existing code keeps working. `queue.ShutDown`
//! exists from Python 3.13 on; on older versions this module defines
//! `ringq.ShutDown` (a plain `Exception` subclass, as in 3.13).

use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

pyo3::import_exception!(queue, Empty);
pyo3::import_exception!(queue, Full);

pyo3::create_exception!(
    ringq,
    ShutDown,
    PyException,
    "Raised by put() on a queue that was shut down, and by get() on one that was shut down and drained."
);

/// `queue.ShutDown` where it exists, else our own `ringq.ShutDown`.
static SHUTDOWN: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The class raised for operations on a shut-down queue.
pub(crate) fn shutdown_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    SHUTDOWN
        .get_or_try_init(py, || {
            let stdlib = py.import("queue")?;
            match stdlib.getattr("ShutDown") {
                Ok(class) => Ok(class.cast_into::<PyType>()?.unbind()),
                Err(_) => Ok(py.get_type::<ShutDown>().unbind()),
            }
        })
        .map(|class| class.bind(py))
}

/// `queue.Empty()`, as `raise Empty` in the standard library makes it.
pub(crate) fn empty() -> PyErr {
    Empty::new_err(())
}

/// `queue.Full()`, as `raise Full` in the standard library makes it.
pub(crate) fn full() -> PyErr {
    Full::new_err(())
}

/// The shut-down exception, with no arguments, as `raise ShutDown` makes it.
pub(crate) fn shut_down(py: Python<'_>) -> PyErr {
    match shutdown_type(py) {
        Ok(class) => PyErr::from_type(class.clone(), ()),
        Err(err) => err,
    }
}

/// The error the standard library raises for `timeout < 0`.
pub(crate) fn negative_timeout() -> PyErr {
    PyValueError::new_err("'timeout' must be a non-negative number")
}

/// The exception that `throw(typ, val)` raises in a coroutine: `val` when
/// it is one, else `typ` when it is one, else an instance of `typ` made
/// from `val` (or from nothing).
///
/// # Errors
///
/// `TypeError` when `typ` is no exception class, or what making the
/// instance raised.
pub(crate) fn thrown(typ: &Bound<'_, PyAny>, val: Option<&Bound<'_, PyAny>>) -> PyResult<PyErr> {
    use pyo3::exceptions::{PyBaseException, PyTypeError};
    let exception = match val {
        Some(val) if !val.is_none() && val.is_instance_of::<PyBaseException>() => val.clone(),
        _ if typ.is_instance_of::<PyBaseException>() => typ.clone(),
        Some(val) if !val.is_none() => typ.call1((val,))?,
        _ => {
            if !typ.is_instance_of::<PyType>() {
                return Err(PyTypeError::new_err(
                    "exceptions must be classes or instances deriving from BaseException",
                ));
            }
            typ.call0()?
        }
    };
    Ok(PyErr::from_value(exception))
}
