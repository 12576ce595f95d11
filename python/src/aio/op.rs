//! The awaitable behind `async_get()`, `async_put()`, `async_get_many()`,
//! `async_put_many()` and `async_join()`.
//!
//! It is a coroutine in the sense of `collections.abc.Coroutine` (it has
//! `send`, `throw`, `close` and `__await__`), so it can be awaited, given
//! to `asyncio.wait_for`, or made a task. Each step (`send(None)`, or
//! `__next__` when awaited from a coroutine):
//!
//! 1. If it was waiting, takes itself off its condition's list, learning
//!    whether a notifier took it off first (it was *told*).
//! 2. Tries the operation once, attached. Done: returns the result (raises
//!    `StopIteration` with it). Shut down or another error: raises.
//! 3. Needs the running loop from here on (`RuntimeError` without one).
//!    Past its deadline: raises `queue.Empty`/`queue.Full`, passing a
//!    notification it was told on.
//! 4. Creates a future on the running loop, registers it (the heavy barrier
//!    of the core's protocol), and tries once more: a notifier that missed
//!    the registration published before the barrier, so this try sees it.
//! 5. Yields the future (with a timer on it for a deadline), to be resumed
//!    when a notifier or the timer completes it.
//!
//! `throw` (cancellation) and `close` take it off the list, and pass on a
//! notification it was told on, so that no other waiter sleeps through an
//! item; an operation that has not completed has changed nothing.

use std::collections::VecDeque;

use pyo3::exceptions::{PyRuntimeError, PyStopIteration};
use pyo3::gc::PyVisit;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::PyTraverseError;

use super::faces::{Face, Side, View};
use super::{running_loop, waker};
use crate::backing::Item;
use crate::errors;

/// What the awaitable does.
pub(crate) enum Op {
    Get,
    Put(Option<Item>),
    GetMany(usize),
    /// The items not put yet, in order.
    PutMany(VecDeque<Item>),
    Join,
}

impl Op {
    fn side(&self) -> Side {
        match self {
            Op::Get | Op::GetMany(_) => Side::NotEmpty,
            Op::Put(_) | Op::PutMany(_) => Side::NotFull,
            Op::Join => Side::AllDone,
        }
    }
}

/// A registration on a condition's list.
struct Wait {
    id: u64,
    future: Py<PyAny>,
    /// The deadline's (or a re-check's) timer, to cancel.
    timer: Option<Py<PyAny>>,
}

/// What a step came to.
pub(crate) enum Step {
    /// The operation completed with this result.
    Done(Py<PyAny>),
    /// The operation waits: the future to yield to the event loop.
    Yield(Py<PyAny>),
}

/// An awaitable queue operation (what the ``async_*`` methods return).
#[pyclass(module = "ringq", name = "AsyncOperation")]
pub(crate) struct AsyncOp {
    queue: Option<Py<PyAny>>,
    view: View,
    op: Op,
    /// Seconds, checked when the call was made.
    timeout: Option<f64>,
    /// In the loop's clock, fixed when the operation first has to wait.
    deadline: Option<f64>,
    wait: Option<Wait>,
    finished: bool,
}

impl AsyncOp {
    pub(crate) fn new(queue: Py<PyAny>, view: View, op: Op, timeout: Option<f64>) -> Self {
        Self {
            queue: Some(queue),
            view,
            op,
            timeout,
            deadline: None,
            wait: None,
            finished: false,
        }
    }

    /// One try at the operation, attached: `Some` with the result when it
    /// completed, `None` when it must wait.
    fn attempt(&mut self, py: Python<'_>, face: &dyn Face) -> PyResult<Option<Py<PyAny>>> {
        match &mut self.op {
            Op::Get => face.try_get(py),
            Op::Put(pending) => {
                let Some(item) = pending.take() else {
                    return Ok(Some(py.None()));
                };
                match face.try_put(py, item)? {
                    Ok(()) => Ok(Some(py.None())),
                    Err(item) => {
                        *pending = Some(item);
                        Ok(None)
                    }
                }
            }
            Op::GetMany(max) => Ok(face
                .try_get_many(py, *max)?
                .map(|list| list.into_any().unbind())),
            Op::PutMany(items) => {
                while let Some(item) = items.pop_front() {
                    if let Err(item) = face.try_put(py, item)? {
                        items.push_front(item);
                        return Ok(None);
                    }
                }
                Ok(Some(py.None()))
            }
            Op::Join => Ok((face.unfinished() == 0).then(|| py.None())),
        }
    }

    /// Takes the registration off its list; returns whether a notifier had
    /// taken it off already (the operation was told to run).
    fn leave(&mut self, py: Python<'_>, face: &dyn Face) -> bool {
        let Some(wait) = self.wait.take() else {
            return false;
        };
        if let Some(timer) = wait.timer {
            // A timer that already ran, or whose loop is gone, needs nothing.
            let _ = timer.bind(py).call_method0(intern!(py, "cancel"));
        }
        match face.waiters(self.op.side()) {
            Some(waiters) => !waiters.unregister(wait.id),
            None => false,
        }
    }

    /// Passes a notification this operation was told on, and will not act
    /// on, to the next waiter.
    fn pass_on(&self, face: &dyn Face) {
        if let Some(waiters) = face.waiters(self.op.side()) {
            waiters.notify_one();
        }
    }

    /// Ends the operation without completing it (cancelled, closed,
    /// collected): nothing moved, and a notification it was told on goes
    /// to the next waiter.
    fn abandon(&mut self, py: Python<'_>) {
        self.finished = true;
        let Some(queue) = self.queue.as_ref().map(|q| q.clone_ref(py)) else {
            return;
        };
        let queue = queue.into_bound(py);
        let face = (self.view)(&queue);
        if self.leave(py, face) {
            self.pass_on(face);
        }
    }

    fn finish<T>(&mut self, result: T) -> T {
        self.finished = true;
        // What a put_many could not put is released here, attached.
        self.op = Op::Join;
        result
    }

    fn step(&mut self, py: Python<'_>) -> PyResult<Step> {
        if self.finished {
            return Err(PyRuntimeError::new_err(
                "cannot reuse an already awaited ringq operation",
            ));
        }
        let queue = self
            .queue
            .as_ref()
            .expect("an unfinished operation has its queue")
            .clone_ref(py)
            .into_bound(py);
        let face = (self.view)(&queue);
        let told = self.leave(py, face);
        let mut registered = false;
        loop {
            match self.attempt(py, face) {
                Ok(Some(result)) => {
                    // Registered a moment ago and told meanwhile: that
                    // notification is someone else's.
                    if self.leave(py, face) {
                        self.pass_on(face);
                    }
                    return Ok(self.finish(Step::Done(result)));
                }
                Ok(None) => {}
                Err(err) => {
                    if self.leave(py, face) || told {
                        self.pass_on(face);
                    }
                    return Err(self.finish(err));
                }
            }
            if registered {
                break;
            }
            let Some(event_loop) = running_loop(py)? else {
                return Err(self.finish(PyRuntimeError::new_err("no running event loop")));
            };
            if let Some(timeout) = self.timeout {
                let now: f64 = event_loop.call_method0(intern!(py, "time"))?.extract()?;
                let deadline = *self.deadline.get_or_insert(now + timeout);
                if now >= deadline {
                    if told {
                        self.pass_on(face);
                    }
                    let err = match self.op.side() {
                        Side::NotFull => errors::full(),
                        _ => errors::empty(),
                    };
                    return Err(self.finish(err));
                }
            }
            let Some(waiters) = face.waiters(self.op.side()) else {
                return Err(self.finish(PyRuntimeError::new_err("this queue never waits for that")));
            };
            let future = event_loop.call_method0(intern!(py, "create_future"))?;
            let (id, paired) =
                waiters.register(event_loop.clone().unbind(), future.clone().unbind());
            // Without a trusted barrier pair, re-check now and then, as
            // threads do (see the core's `barrier.rs`).
            let recheck = (!paired).then_some(0.001);
            let timer = match (self.deadline, recheck) {
                (None, None) => None,
                (deadline, recheck) => {
                    let now: f64 = event_loop.call_method0(intern!(py, "time"))?.extract()?;
                    let when = match (deadline, recheck) {
                        (Some(d), Some(r)) => d.min(now + r),
                        (Some(d), None) => d,
                        (None, Some(r)) => now + r,
                        (None, None) => unreachable!(),
                    };
                    let futures = pyo3::types::PyList::new(py, [&future])?;
                    Some(
                        event_loop
                            .call_method1(intern!(py, "call_at"), (when, waker(py)?, futures))?
                            .unbind(),
                    )
                }
            };
            self.wait = Some(Wait {
                id,
                future: future.clone().unbind(),
                timer,
            });
            registered = true;
        }
        // Told, and the item (or room) was gone by the time this ran: there
        // is nothing to pass on.
        let future = &self.wait.as_ref().expect("registered above").future;
        let future = future.bind(py);
        future.setattr(intern!(py, "_asyncio_future_blocking"), true)?;
        Ok(Step::Yield(future.clone().unbind()))
    }

    /// Runs one step, and leaves nothing registered if it failed.
    fn advance(&mut self, py: Python<'_>) -> PyResult<Step> {
        let result = self.step(py);
        if result.is_err() && !self.finished {
            // An error of the loop's own (creating the future, say): leave
            // nothing registered.
            self.abandon(py);
        }
        result
    }

    /// The step of a get or put that completes at once, through the
    /// class's [`Face::get_now`] or [`Face::put_now`]; `None` when the
    /// full step must run (it tries again). Like those, it cannot panic,
    /// and it releases no Python object itself (a notifier that tells a
    /// waiting coroutine attaches on its own), so the interpreter's slots
    /// in [`crate::fastcall`] run it without PyO3's guard.
    pub(crate) fn at_once(op: &Bound<'_, Self>) -> Option<Py<PyAny>> {
        let py = op.py();
        let mut guard = op.try_borrow_mut().ok()?;
        let this = &mut *guard;
        if this.finished || this.wait.is_some() {
            return None;
        }
        let face = (this.view)(this.queue.as_ref()?.bind(py));
        let result = match &mut this.op {
            Op::Get => face.get_now()?,
            Op::Put(pending) => {
                let item = pending.take()?;
                if let Err(item) = face.put_now(item) {
                    *pending = Some(item);
                    return None;
                }
                py.None()
            }
            _ => return None,
        };
        // Neither a get nor a put that completed holds an object to release.
        this.finished = true;
        this.op = Op::Join;
        Some(result)
    }

    /// One step of `op`, as `send(None)` runs it: what the interpreter's
    /// own slots in [`crate::fastcall`] call.
    ///
    /// # Errors
    ///
    /// What the operation raised (`ShutDown`, `queue.Empty` at a deadline,
    /// `RuntimeError` without a running loop or when reused), or
    /// `RuntimeError` when `op` is already running its step.
    pub(crate) fn step_of(op: &Bound<'_, Self>) -> PyResult<Step> {
        op.try_borrow_mut()?.advance(op.py())
    }

    fn resume(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.advance(py)? {
            Step::Yield(future) => Ok(future),
            Step::Done(result) => Err(PyStopIteration::new_err((result,))),
        }
    }
}

#[pymethods]
impl AsyncOp {
    fn __await__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.resume(py)
    }

    /// Resumes the operation; the value sent is ignored.
    #[pyo3(signature = (_value, /))]
    fn send(&mut self, py: Python<'_>, _value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.resume(py)
    }

    /// Ends the operation (it completed nothing) and raises the exception.
    #[pyo3(signature = (typ, val = None, _tb = None, /))]
    fn throw(
        &mut self,
        py: Python<'_>,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.abandon(py);
        Err(errors::thrown(typ, val)?)
    }

    /// Ends the operation; it completed nothing.
    fn close(&mut self, py: Python<'_>) {
        if !self.finished {
            self.abandon(py);
        }
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(queue) = &self.queue {
            visit.call(queue)?;
        }
        if let Some(wait) = &self.wait {
            visit.call(&wait.future)?;
            if let Some(timer) = &wait.timer {
                visit.call(timer)?;
            }
        }
        match &self.op {
            Op::Put(Some(item)) => visit.call(item)?,
            Op::PutMany(items) => {
                for item in items {
                    visit.call(item)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn __clear__(&mut self, py: Python<'_>) {
        if !self.finished {
            self.abandon(py);
        }
        self.wait = None;
        self.op = Op::Join;
        self.queue = None;
    }
}

impl Drop for AsyncOp {
    fn drop(&mut self) {
        if !self.finished && self.wait.is_some() {
            // Dropped attached (by the interpreter's deallocator).
            Python::attach(|py| self.abandon(py));
        }
    }
}
