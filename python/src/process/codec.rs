//! Objects to messages and back: pickle, protocol 5.
//!
//! `put` pickles with the C `pickle.dumps`. Objects it cannot pickle get a
//! second try with `multiprocessing.reduction.ForkingPickler`, which knows
//! how to send what `multiprocessing.Queue` can send and plain pickle
//! cannot (connections, sockets: their descriptors go through
//! `multiprocessing`'s resource sharer). The common case pays nothing for
//! that: the second try only runs after the first has failed.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyBytes;

/// The pickle protocol of every message: 5, the newest of CPython 3.8+.
pub(crate) const PROTOCOL: u8 = 5;

static DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn pickle_function<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    name: &str,
) -> PyResult<&'py Bound<'py, PyAny>> {
    cell.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("pickle")?.getattr(name)?.unbind())
    })
    .map(|f| f.bind(py))
}

/// Pickles `obj` into a new `bytes`.
///
/// # Errors
///
/// What pickling raised (the plain pickler's error when the fallback fails
/// too).
pub(crate) fn dumps<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let py = obj.py();
    match pickle_function(py, &DUMPS, "dumps")?.call1((obj, PROTOCOL)) {
        Ok(data) => Ok(data.cast_into::<PyBytes>()?),
        Err(err) => dumps_for_multiprocessing(obj).map_err(|_| err),
    }
}

#[cold]
fn dumps_for_multiprocessing<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let py = obj.py();
    let pickler = py
        .import("multiprocessing.reduction")?
        .getattr("ForkingPickler")?;
    // ForkingPickler.dumps returns a memoryview of its buffer.
    let view = pickler.call_method1("dumps", (obj, PROTOCOL))?;
    Ok(py
        .get_type::<PyBytes>()
        .call1((view,))?
        .cast_into::<PyBytes>()?)
}

/// Unpickles one message.
///
/// # Errors
///
/// What unpickling raised.
pub(crate) fn loads<'py>(data: &Bound<'py, PyBytes>) -> PyResult<Bound<'py, PyAny>> {
    pickle_function(data.py(), &LOADS, "loads")?.call1((data,))
}
