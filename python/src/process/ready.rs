//! The readiness and async face of the process queues: `fileno()`, the
//! private descriptors the async methods wait on, and the async methods
//! (see `awaitable.rs`, and `ringq/_process_aio.py` for how they wait).

use std::os::fd::RawFd;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use ringq::shm::Event;

use super::awaitable::{Op, ProcessOp};
use super::class::{JoinableProcessQueue, ProcessQueue};

fn event(code: u8) -> PyResult<Event> {
    match code {
        0 => Ok(Event::Message),
        1 => Ok(Event::Room),
        2 => Ok(Event::TasksDone),
        _ => Err(PyValueError::new_err(format!("no readiness event {code}"))),
    }
}

/// A timeout as the async methods take it.
fn check(timeout: Option<f64>) -> PyResult<Option<f64>> {
    match timeout {
        Some(t) if t < 0.0 || t.is_nan() => Err(crate::errors::negative_timeout()),
        other => Ok(other),
    }
}

/// `ringq._process_aio`, imported on first use (it imports asyncio).
pub(crate) fn aio(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("ringq._process_aio")?.unbind())
        })
        .map(|m| m.bind(py))
}

fn watch_fd(slf: &Bound<'_, ProcessQueue>, event: Event) -> PyResult<RawFd> {
    ProcessQueue::check_open(slf)?;
    let queue = slf.get().transfer();
    queue
        .watches
        .fd(&queue.shm, event)
        .map_err(|e| PyOSError::new_err(format!("cannot watch the queue: {e}")))
}

#[pymethods]
impl ProcessQueue {
    /// Return a file descriptor that is readable when a message may be
    /// waiting (or the queue was shut down), for select(), selectors,
    /// multiprocessing.connection.wait() and an event loop's add_reader().
    ///
    /// Readiness is a hint, as for a socket: after it, take messages with
    /// get_nowait() until queue.Empty (another process may have been
    /// quicker). The descriptor stays readable until a get of this object
    /// finds the queue empty or empties it. Read nothing from it, and do
    /// not close it: it belongs to this object. A helper thread of this
    /// process, made on the first call, turns it readable.
    fn fileno(slf: &Bound<'_, Self>) -> PyResult<RawFd> {
        watch_fd(slf, Event::Message)
    }

    /// The descriptor of a readiness event (0: a message, 1: room, 2: no
    /// unfinished task), for the async methods.
    fn _watch_fd(slf: &Bound<'_, Self>, event_code: u8) -> PyResult<RawFd> {
        watch_fd(slf, event(event_code)?)
    }

    /// Says that an event's descriptor was readable but the event had not
    /// happened, so it waits again.
    fn _rearm(slf: &Bound<'_, Self>, event_code: u8) -> PyResult<()> {
        slf.get().transfer().watches.found_none(event(event_code)?);
        Ok(())
    }

    /// Remove and return an object, waiting (without blocking the event
    /// loop) until one is available. Returns an awaitable.
    ///
    /// 'timeout' (seconds, or None to wait forever) raises queue.Empty when
    /// it passes, as get() does. Cancelled or timed out, it took nothing.
    /// Raises ShutDown as get() does, ValueError after close().
    #[pyo3(signature = (timeout = None))]
    fn async_get(slf: &Bound<'_, Self>, timeout: Option<f64>) -> PyResult<ProcessOp> {
        Ok(ProcessOp::new(
            slf.clone().unbind(),
            Op::Get,
            check(timeout)?,
        ))
    }

    /// Put an object, waiting (without blocking the event loop) until
    /// there is room. Returns an awaitable.
    ///
    /// 'timeout' raises queue.Full when it passes, as put() does.
    /// Cancelled or timed out, it put nothing.
    #[pyo3(signature = (obj, timeout = None))]
    fn async_put(
        slf: &Bound<'_, Self>,
        obj: &Bound<'_, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<ProcessOp> {
        let op = Op::Put(obj.clone().unbind());
        Ok(ProcessOp::new(slf.clone().unbind(), op, check(timeout)?))
    }

    /// Remove and return up to max_items objects as a list, waiting like
    /// async_get() for the first. Returns an awaitable.
    #[pyo3(signature = (max_items, timeout = None))]
    fn async_get_many(
        slf: &Bound<'_, Self>,
        max_items: isize,
        timeout: Option<f64>,
    ) -> PyResult<ProcessOp> {
        if max_items < 1 {
            return Err(PyValueError::new_err(format!(
                "max_items must be at least 1, got {max_items}"
            )));
        }
        let op = Op::GetMany(max_items);
        Ok(ProcessOp::new(slf.clone().unbind(), op, check(timeout)?))
    }

    /// Put every object of an iterable, in order, waiting like async_put()
    /// for room as needed. Returns a coroutine.
    ///
    /// The iterable is read when the method is called. Cancelled or timed
    /// out, the objects put so far stay in the queue and the rest are
    /// dropped.
    #[pyo3(signature = (objs, timeout = None))]
    fn async_put_many<'py>(
        slf: &Bound<'py, Self>,
        objs: &Bound<'py, PyAny>,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        aio(slf.py())?.call_method1("async_put_many", (slf, objs, timeout))
    }
}

#[pymethods]
impl JoinableProcessQueue {
    /// Wait (without blocking the event loop) until every message put, by
    /// any process, has been marked done with task_done(). Returns a
    /// coroutine.
    fn async_join<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        aio(slf.py())?.call_method1("async_join", (slf,))
    }
}
