//! The awaitable that `ProcessQueue.async_get`, `async_put` and
//! `async_get_many` return.
//!
//! Its first step tries the operation without waiting, here in Rust: a
//! message that is already there costs one call, not a Python coroutine.
//! Only when it must wait does it make the coroutine of
//! `ringq/_process_aio.py` that waits on the queue's readiness descriptor,
//! and hand every later step (`send`, `throw`, `close`) to it. Nothing
//! happens before the first step, so a call that is never awaited moves
//! nothing.

use pyo3::exceptions::{PyRuntimeError, PyStopIteration};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::PyTraverseError;

use super::class::ProcessQueue;
use crate::aio::op::Step;
use crate::blocking::Block;
use crate::errors::{Empty, Full};
use crate::fastcall::Stepper;

/// What the awaitable does.
pub(crate) enum Op {
    Get,
    Put(Py<PyAny>),
    GetMany(isize),
}

enum State {
    /// Not stepped yet.
    Start {
        queue: Py<ProcessQueue>,
        op: Op,
        timeout: Option<f64>,
    },
    /// Waiting: the coroutine that waits, to which each step goes.
    Waiting(Py<PyAny>),
    Finished,
}

/// An awaitable process queue operation (what the async methods of
/// ProcessQueue return): a coroutine-like object with send, throw and
/// close.
#[pyclass(module = "ringq", name = "ProcessOperation")]
pub(crate) struct ProcessOp {
    state: State,
}

impl ProcessOp {
    pub(crate) fn new(queue: Py<ProcessQueue>, op: Op, timeout: Option<f64>) -> Self {
        Self {
            state: State::Start { queue, op, timeout },
        }
    }

    /// The first step: the operation once, then, if it must wait, the
    /// waiting coroutine's first step.
    fn start(
        &mut self,
        py: Python<'_>,
        queue: Py<ProcessQueue>,
        op: Op,
        timeout: Option<f64>,
    ) -> PyResult<Step> {
        let q = queue.bind(py);
        let tried = match &op {
            Op::Get => ProcessQueue::get(q, Block(false), None).map(Bound::unbind),
            Op::Put(obj) => ProcessQueue::put_nowait(q, obj.bind(py)).map(|()| py.None()),
            Op::GetMany(max) => ProcessQueue::get_many(q, *max, Block(false), None)
                .map(|list| list.into_any().unbind()),
        };
        let err = match tried {
            Ok(result) => return Ok(Step::Done(result)),
            Err(err) => err,
        };
        let unavailable = match op {
            Op::Put(_) => err.is_instance_of::<Full>(py),
            _ => err.is_instance_of::<Empty>(py),
        };
        if !unavailable || timeout == Some(0.0) {
            return Err(err);
        }
        let module = super::ready::aio(py)?;
        let coroutine = match op {
            Op::Get => module.call_method1("wait_get", (q, timeout))?,
            Op::Put(obj) => module.call_method1("wait_put", (q, obj, timeout))?,
            Op::GetMany(max) => module.call_method1("wait_get_many", (q, max, timeout))?,
        };
        self.state = State::Waiting(coroutine.clone().unbind());
        self.forward(py, coroutine.call_method1("send", (py.None(),)))
    }

    /// A step of the waiting coroutine as a [`Step`]: it yields a future,
    /// or returns (`StopIteration`), or raises; done unless it yielded.
    fn forward(&mut self, py: Python<'_>, step: PyResult<Bound<'_, PyAny>>) -> PyResult<Step> {
        match step {
            Ok(future) => Ok(Step::Yield(future.unbind())),
            Err(err) => {
                self.state = State::Finished;
                if err.is_instance_of::<PyStopIteration>(py) {
                    Ok(Step::Done(err.value(py).getattr("value")?.unbind()))
                } else {
                    Err(err)
                }
            }
        }
    }

    fn resume(&mut self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Step> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Start { queue, op, timeout } => self.start(py, queue, op, timeout),
            State::Waiting(coroutine) => {
                let step = coroutine.bind(py).call_method1("send", (value,));
                self.state = State::Waiting(coroutine);
                self.forward(py, step)
            }
            State::Finished => Err(PyRuntimeError::new_err(
                "cannot reuse an already awaited operation",
            )),
        }
    }
}

impl Stepper for ProcessOp {
    fn step(op: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<Step> {
        op.borrow_mut().resume(op.py(), value)
    }
}

/// A step as the Python-level methods give it: a yielded future, or
/// `StopIteration` carrying the result.
fn as_python(step: PyResult<Step>) -> PyResult<Py<PyAny>> {
    match step? {
        Step::Yield(future) => Ok(future),
        Step::Done(result) => Err(PyStopIteration::new_err((result,))),
    }
}

#[pymethods]
impl ProcessOp {
    fn __await__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        as_python(self.resume(py, &py.None().into_bound(py)))
    }

    #[pyo3(signature = (value, /))]
    fn send(&mut self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        as_python(self.resume(py, value))
    }

    /// Raises the exception in the waiting coroutine (which took nothing
    /// and put nothing, unless it had already completed), or here when it
    /// has not started.
    #[pyo3(signature = (typ, val = None, tb = None, /))]
    fn throw(
        &mut self,
        py: Python<'_>,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Waiting(coroutine) => {
                let step = match (val, tb) {
                    (None, _) => coroutine.bind(py).call_method1("throw", (typ,)),
                    (Some(val), None) => coroutine.bind(py).call_method1("throw", (typ, val)),
                    (Some(val), Some(tb)) => {
                        coroutine.bind(py).call_method1("throw", (typ, val, tb))
                    }
                };
                self.state = State::Waiting(coroutine);
                as_python(self.forward(py, step))
            }
            // Not started, or done: it raises, as a fresh coroutine would.
            _ => Err(crate::errors::thrown(typ, val)?),
        }
    }

    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        if let State::Waiting(coroutine) = std::mem::replace(&mut self.state, State::Finished) {
            coroutine.bind(py).call_method0("close")?;
        }
        Ok(())
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        match &self.state {
            State::Start { queue, op, .. } => {
                visit.call(queue)?;
                if let Op::Put(obj) = op {
                    visit.call(obj)?;
                }
            }
            State::Waiting(coroutine) => visit.call(coroutine)?,
            State::Finished => {}
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.state = State::Finished;
    }
}
