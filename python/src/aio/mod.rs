//! The async face: `await q.async_get()` and friends on the thread queues,
//! from any event loop, on the very objects that threads use.
//!
//! - [`Waiters`] (here): what every queue condition (not empty, not full,
//!   all tasks done) keeps in place of a bare [`WaitQueue`]: the threads
//!   that park on it, and the coroutines that wait on it, each with its own
//!   loop.
//! - [`op`]: the awaitable that `async_get()` & co. return, the state
//!   machine that tries the operation, registers, and waits to be told.
//! - [`faces`]: the methods on each class, and how each class tries one
//!   operation without waiting.
//! - [`views`]: `q.async_q` and `q.sync_q`, the `asyncio.Queue`- and
//!   `queue.Queue`-shaped views of a queue (Python classes in
//!   `ringq/_aio_views.py`), and the `janus.Queue` methods around them.
//!
//! # Costs
//!
//! A put or get that no coroutine waits for pays what it did before: the
//! core's [`WaitQueue::notify_one`] counts async waiters in the same word as
//! parked threads, so the notifier still does one load, and only when it
//! reports registered async waiters does [`Waiters`] take its lock (the
//! `#[cold]` [`Waiters::tell`]).
//!
//! An `await` that can proceed at once completes in its first step,
//! without a future. One that must wait creates one future on the running
//! loop, registers it here (a heavy barrier, then one more try, as the
//! core's module docs describe), and yields it: a waiting coroutine uses no
//! CPU. A notifier takes the waiter off the list as it tells it, so a burst
//! of items tells a waiter once until it has run again: one
//! `call_soon_threadsafe` per woken waiter, and none when the notifier runs
//! on the waiter's own loop (it sets the future directly). `notify_all`
//! tells each loop once, with all of its waiters.
//!
//! # Losing nothing
//!
//! Items move only in an attempt, which runs attached, inside the
//! awaitable's step (see the rule in [`crate::blocking`]); never when
//! `async_get()` is called, so an awaitable that is cancelled before it
//! first runs has moved nothing. A step either completes its operation or
//! leaves the queue as it was. A waiter that was told and then leaves
//! without acting on it (cancelled, timed out, or its loop gone) passes the
//! notification on to the next waiter, thread or coroutine.

pub(crate) mod faces;
pub(crate) mod op;
pub(crate) mod views;

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use pyo3::gc::PyVisit;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyCFunction;
use pyo3::PyTraverseError;
use ringq::wait::WaitQueue;

/// A registered coroutine: the future it awaits, and the loop that runs it.
struct Node {
    id: u64,
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
}

/// The registered coroutines, in the order they registered.
#[derive(Default)]
struct List {
    next_id: u64,
    nodes: VecDeque<Node>,
    /// The fork generation the nodes belong to (see `forget_forked`).
    generation: u32,
}

/// One condition's waiters: threads and coroutines.
pub(crate) struct Waiters {
    threads: WaitQueue,
    /// Every node here is counted once in `threads`' async count, and a
    /// node leaves it (and is uncounted) under this lock only. No Python
    /// code runs and no Python object is released while it is held.
    coroutines: Mutex<List>,
}

impl Waiters {
    pub(crate) fn new() -> Self {
        Self {
            threads: WaitQueue::new(),
            coroutines: Mutex::new(List::default()),
        }
    }

    /// The wait queue threads park on.
    pub(crate) fn threads(&self) -> &WaitQueue {
        &self.threads
    }

    /// Parked threads (a snapshot, for diagnostics).
    pub(crate) fn waiting(&self) -> usize {
        self.threads.waiting()
    }

    /// Registered coroutines (a snapshot, for diagnostics).
    pub(crate) fn waiting_coroutines(&self) -> usize {
        self.threads.async_waiting()
    }

    /// Wakes one waiter, thread or coroutine, after a change that may let
    /// it proceed. Costs one load when nobody waits.
    #[inline(always)]
    pub(crate) fn notify_one(&self) {
        if self.threads.notify_one() {
            self.tell(false);
        }
    }

    /// Wakes every waiter.
    #[inline(always)]
    pub(crate) fn notify_all(&self) {
        if self.threads.notify_all() {
            self.tell(true);
        }
    }

    fn lock(&self) -> MutexGuard<'_, List> {
        // Nothing under the lock can panic half way, so a poisoned list is
        // still consistent.
        let mut list = self
            .coroutines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let generation = crate::exclusive::fork_generation();
        if list.generation != generation {
            self.forget_forked(&mut list, generation);
        }
        list
    }

    /// In a child made by `fork`, the list still holds the parent's
    /// coroutines, whose loops do not run here: telling one would wake
    /// nobody (and write to the parent's wake-up pipe). They are dropped,
    /// and uncounted, before the child's first use of the list. Their
    /// references are leaked, not released: releasing one could run Python
    /// code under the lock, and the objects are the parent's, of no use
    /// here.
    #[cold]
    fn forget_forked(&self, list: &mut List, generation: u32) {
        for node in list.nodes.drain(..) {
            self.threads.unregister_async();
            std::mem::forget(node);
        }
        list.generation = generation;
    }

    /// Tells one registered coroutine (or all), on its own loop. One whose
    /// loop is closed cannot act on it, so the next one is told instead.
    #[cold]
    #[inline(never)]
    fn tell(&self, all: bool) {
        // Every notifier runs attached (items move only attached).
        Python::attach(|py| loop {
            let taken: Vec<Node> = {
                let mut list = self.lock();
                let n = if all {
                    list.nodes.len()
                } else {
                    list.nodes.len().min(1)
                };
                let taken: Vec<Node> = list.nodes.drain(..n).collect();
                for _ in &taken {
                    self.threads.unregister_async();
                }
                taken
            };
            // Released (and the loops called) with the lock let go.
            if taken.is_empty() || deliver(py, taken) || all {
                return;
            }
        });
    }

    /// Registers a coroutine that will await `future` on `event_loop`.
    /// Returns its id and whether the barrier pair can be trusted (see
    /// [`WaitQueue::register_async`]). The caller must try its operation
    /// once more before it waits.
    pub(crate) fn register(&self, event_loop: Py<PyAny>, future: Py<PyAny>) -> (u64, bool) {
        let mut list = self.lock();
        let id = list.next_id;
        list.next_id = list.next_id.wrapping_add(1);
        list.nodes.push_back(Node {
            id,
            event_loop,
            future,
        });
        // Counted with the node in the list, under the lock, so a notifier
        // that sees the count finds the node.
        let paired = self.threads.register_async();
        (id, paired)
    }

    /// Takes a coroutine off the list. Returns `false` if it was not there
    /// any more: a notifier took it, to tell it.
    pub(crate) fn unregister(&self, id: u64) -> bool {
        let node = {
            let mut list = self.lock();
            let Some(at) = list.nodes.iter().position(|node| node.id == id) else {
                return false;
            };
            self.threads.unregister_async();
            list.nodes.remove(at)
        };
        // Released with the lock let go.
        drop(node);
        true
    }

    /// Shows the registered futures and loops to the GC.
    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        // Held by another thread only outside any Python code, which can't
        // be the case while the GC runs; if it were, skipping is safe (the
        // GC then keeps these objects alive this round).
        let Ok(list) = self.coroutines.try_lock() else {
            return Ok(());
        };
        for node in &list.nodes {
            visit.call(&node.event_loop)?;
            visit.call(&node.future)?;
        }
        Ok(())
    }

    /// For `tp_clear`: forgets the registered coroutines (the GC found
    /// them unreachable together with the queue).
    pub(crate) fn clear(&self) {
        let nodes: Vec<Node> = {
            let mut list = self.lock();
            let nodes: Vec<Node> = list.nodes.drain(..).collect();
            for _ in &nodes {
                self.threads.unregister_async();
            }
            nodes
        };
        drop(nodes);
    }
}

impl Default for Waiters {
    fn default() -> Self {
        Self::new()
    }
}

/// `asyncio._get_running_loop`, looked up once.
fn get_running_loop_fn(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static FUNCTION: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    FUNCTION
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("asyncio")?.getattr("_get_running_loop")?.unbind())
        })
        .map(|f| f.bind(py))
}

/// The loop running in this thread, if any.
pub(crate) fn running_loop(py: Python<'_>) -> PyResult<Option<Bound<'_, PyAny>>> {
    let found = get_running_loop_fn(py)?.call0()?;
    Ok((!found.is_none()).then_some(found))
}

/// Completes each of `futures` that is still pending. Runs on the
/// futures' loop (called directly, or through `call_soon_threadsafe`).
fn wake_futures(futures: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = futures.py();
    for future in futures.try_iter()? {
        let future = future?;
        if !future.call_method0(intern!(py, "done"))?.is_truthy()? {
            future.call_method1(intern!(py, "set_result"), (py.None(),))?;
        }
    }
    Ok(())
}

/// [`wake_futures`] as a Python callable, made once.
pub(crate) fn waker(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static WAKER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    WAKER
        .get_or_try_init(py, || {
            PyCFunction::new_closure(
                py,
                Some(c"_wake"),
                Some(c"Completes the pending futures among its argument."),
                |args, _kwargs| -> PyResult<()> { wake_futures(&args.get_item(0)?) },
            )
            .map(|f| f.into_any().unbind())
        })
        .map(|f| f.bind(py))
}

/// Tells the coroutines of `nodes` to run again: directly for those on
/// the loop this thread runs, with one `call_soon_threadsafe` per other
/// loop. Returns whether any of them was told (`false` when every loop
/// was closed).
fn deliver(py: Python<'_>, nodes: Vec<Node>) -> bool {
    let here = running_loop(py).ok().flatten();
    // Grouped by loop, in order: a burst for one loop is one call.
    let mut groups: Vec<(Py<PyAny>, Vec<Py<PyAny>>)> = Vec::new();
    for node in nodes {
        match groups
            .iter_mut()
            .find(|(event_loop, _)| event_loop.is(&node.event_loop))
        {
            Some((_, futures)) => futures.push(node.future),
            None => groups.push((node.event_loop, vec![node.future])),
        }
    }
    let mut told = false;
    for (event_loop, futures) in groups {
        let event_loop = event_loop.into_bound(py);
        let futures = match pyo3::types::PyList::new(py, futures) {
            Ok(list) => list,
            Err(err) => {
                err.write_unraisable(py, None);
                continue;
            }
        };
        let result = if here.as_ref().is_some_and(|h| h.is(&event_loop)) {
            wake_futures(futures.as_any())
        } else {
            waker(py).and_then(|waker| {
                event_loop
                    .call_method1(intern!(py, "call_soon_threadsafe"), (waker, futures))
                    .map(drop)
            })
        };
        match result {
            Ok(()) => told = true,
            // A closed loop: its coroutines will never run again, and the
            // caller tells someone else.
            Err(err) if err.is_instance_of::<pyo3::exceptions::PyRuntimeError>(py) => {}
            Err(err) => {
                err.write_unraisable(py, Some(&event_loop));
                told = true;
            }
        }
    }
    told
}
