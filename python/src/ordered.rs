//! The queue behind `LifoQueue` and `PriorityQueue`: `queue.Queue`'s
//! semantics over an [`Exclusive`] vector kept in the order a
//! [`Discipline`] decides.
//!
//! Every operation owns the vector for as long as it looks at or changes
//! the items, comparisons included, and never waits while owning it: a
//! `get` on an empty queue lets go, waits detached until the count says
//! there may be an item, and tries again. The waits go through the core's
//! [`WaitQueue`](ringq::wait::WaitQueue) (in [`Waiters`]), whose readiness
//! checks read only atomics (the count, the shut-down flag, `maxsize`), so
//! a waiting thread never touches an item.
//! Items are released only once the vector is let go, so their `__del__`
//! may use the queue.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

use crate::aio::views::Views;
use crate::aio::Waiters;
use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use pyo3::{PyTraverseError, PyVisit};

use crate::blocking::{self, wait_in_slices, Deadline};
use crate::errors;
use crate::exclusive::{Exclusive, Held, Owned};
use crate::ops::{self, Item};
use crate::tasks::Tasks;

/// The order items leave in: how one is added and the next one removed.
pub(crate) trait Discipline {
    /// The Python class name, for messages.
    const CLASS: &'static str;

    /// What the vector holds per item.
    type Entry: Held;

    /// Adds `item`. If that fails (a comparison raised), the vector is as
    /// it was and the item comes back with the error, to be released once
    /// the vector is let go.
    fn push(
        py: Python<'_>,
        items: &mut Owned<'_, Self::Entry>,
        item: Item,
    ) -> Result<(), (PyErr, Item)>;

    /// Removes the next item of a non-empty vector. If that fails (a
    /// comparison raised), the vector is as it was.
    fn pop(py: Python<'_>, items: &mut Owned<'_, Self::Entry>) -> PyResult<Item>;
}

/// `queue.Queue`'s state and operations over a [`Discipline`].
pub(crate) struct OrderedQueue<D: Discipline> {
    items: Exclusive<D::Entry>,
    /// As in `queue.Queue`: `<= 0` means unbounded. Assignable.
    maxsize: AtomicIsize,
    shut_down: AtomicBool,
    /// Threads waiting for an item (or for the shutdown).
    pub(crate) not_empty: Waiters,
    /// Threads waiting for room (or for the shutdown).
    pub(crate) not_full: Waiters,
    tasks: Tasks,
    /// `async_q` and `sync_q`, once made.
    pub(crate) views: Views,
    // fn() -> D: the queue holds no D, so D need not be Send or Sync.
    discipline: PhantomData<fn() -> D>,
}

impl<D: Discipline> OrderedQueue<D> {
    pub(crate) fn new() -> Self {
        Self {
            items: Exclusive::new(),
            maxsize: AtomicIsize::new(0),
            shut_down: AtomicBool::new(false),
            not_empty: Waiters::new(),
            not_full: Waiters::new(),
            tasks: Tasks::new(),
            views: Views::new(),
            discipline: PhantomData,
        }
    }

    fn claim(&self, py: Python<'_>, method: &str) -> PyResult<Owned<'_, D::Entry>> {
        self.items.claim(py, D::CLASS, method)
    }

    pub(crate) fn maxsize(&self) -> isize {
        // Relaxed: a setting, read afresh by every check that uses it.
        self.maxsize.load(Ordering::Relaxed)
    }

    /// Sets `maxsize`. Growing it lets blocked puts in at once; shrinking
    /// it makes puts wait until the queue is below the new size.
    pub(crate) fn set_maxsize(&self, maxsize: isize) {
        // Relaxed: waiters read it afresh after the wake-up below, which is
        // ordered after this store by the wait queue's barrier.
        self.maxsize.store(maxsize, Ordering::Relaxed);
        self.not_full.notify_all();
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        // Acquire: pairs with the Release store in `shutdown`.
        self.shut_down.load(Ordering::Acquire)
    }

    pub(crate) fn qsize(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn full(&self) -> bool {
        let maxsize = self.maxsize();
        maxsize > 0 && self.items.len() >= maxsize.unsigned_abs()
    }

    fn has_room(&self, len: usize) -> bool {
        let maxsize = self.maxsize();
        maxsize <= 0 || len < maxsize.unsigned_abs()
    }

    pub(crate) fn tasks(&self) -> &Tasks {
        &self.tasks
    }

    /// `(getters, putters)`: threads waiting for an item and for room.
    pub(crate) fn waiting(&self) -> (usize, usize) {
        (self.not_empty.waiting(), self.not_full.waiting())
    }

    /// Waits (detached, in slices) until `ready` or the deadline. Returns
    /// whether `ready` held. A waiter that leaves without acting on a
    /// wake-up (deadline, signal) passes it on, so another waiter doesn't
    /// sleep through a state it could use.
    fn wait(
        &self,
        py: Python<'_>,
        waiters: &Waiters,
        deadline: Deadline,
        ready: impl Fn() -> bool + Sync,
    ) -> PyResult<bool> {
        let outcome = wait_in_slices(py, deadline, |slice_end| {
            waiters
                .threads()
                .wait_until(Some(slice_end), || ready().then_some(()))
        });
        if !matches!(outcome, Ok(Some(()))) && ready() {
            waiters.notify_one();
        }
        Ok(outcome?.is_some())
    }

    /// `put()`, once `block` is read for its truth value.
    ///
    /// # Errors
    ///
    /// `ShutDown`, `Full`, the comparison's error, the timeout's errors,
    /// `RuntimeError` on re-entry, and whatever a signal handler raised.
    pub(crate) fn put(
        &self,
        py: Python<'_>,
        item: Item,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if self.is_shut_down() {
            return Err(errors::shut_down(py));
        }
        // As in queue.Queue, only a bounded queue reads 'timeout'.
        let deadline = if block && self.maxsize() > 0 {
            blocking::deadline(timeout)?
        } else {
            None
        };
        loop {
            let mut items = self.claim(py, "put")?;
            // Read while owning: a get that saw the queue empty and shut
            // down can't have missed this put.
            if self.is_shut_down() {
                return Err(errors::shut_down(py));
            }
            if self.has_room(items.len()) {
                let pushed = D::push(py, &mut items, item);
                if pushed.is_ok() {
                    self.tasks.add(1);
                }
                drop(items);
                return match pushed {
                    Ok(()) => {
                        self.not_empty.notify_one();
                        Ok(())
                    }
                    // The item is released here, with the vector let go.
                    Err((err, _item)) => Err(err),
                };
            }
            drop(items);
            if !block {
                return Err(errors::full());
            }
            let room = || self.is_shut_down() || self.has_room(self.items.len());
            if !self.wait(py, &self.not_full, deadline, room)? {
                return Err(errors::full());
            }
        }
    }

    /// `get()`, once `block` is read for its truth value.
    ///
    /// # Errors
    ///
    /// `ShutDown`, `Empty`, the comparison's error, the timeout's errors,
    /// `RuntimeError` on re-entry, and whatever a signal handler raised.
    pub(crate) fn get(
        &self,
        py: Python<'_>,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Item> {
        let deadline = blocking::get_deadline(py, block, timeout, || {
            self.is_shut_down() && self.items.len() == 0
        })?;
        loop {
            let mut items = self.claim(py, "get")?;
            if items.len() > 0 {
                let item = D::pop(py, &mut items);
                drop(items);
                if item.is_ok() {
                    self.not_full.notify_one();
                }
                return item;
            }
            // Read while owning: no put can slip an item in meanwhile.
            let shut_down = self.is_shut_down();
            drop(items);
            if shut_down {
                return Err(errors::shut_down(py));
            }
            if !block {
                return Err(errors::empty());
            }
            let ready = || self.is_shut_down() || self.items.len() > 0;
            if !self.wait(py, &self.not_empty, deadline, ready)? {
                return Err(errors::empty());
            }
        }
    }

    /// `get_many()`: up to `max` items in the order `get()` would return
    /// them, waiting like `get()` for the first.
    ///
    /// If a comparison raises after some items were taken, those are
    /// returned and the error is left to the next call (the heap is
    /// unchanged, so it raises again).
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get).
    pub(crate) fn get_many(
        &self,
        py: Python<'_>,
        max: usize,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Item>> {
        let first = self.get(py, block, timeout)?;
        let mut out = Vec::with_capacity(max.min(1024));
        out.push(first);
        // The rest is what can be had at once: if another operation owns
        // the vector now, the batch ends here. A comparison that raises ends
        // it too; its error is dropped once the vector is let go, and what
        // was taken is returned: nothing taken is lost.
        let mut stopped = None;
        if max > 1 {
            if let Ok(mut items) = self.items.try_claim() {
                while out.len() < max && items.len() > 0 {
                    match D::pop(py, &mut items) {
                        Ok(item) => out.push(item),
                        Err(err) => {
                            stopped = Some(err);
                            break;
                        }
                    }
                }
            }
        }
        drop(stopped);
        if out.len() > 1 {
            self.not_full.notify_all();
        }
        Ok(out)
    }

    /// `put_many()`: every item of `iterable` in order, as successive
    /// `put()`s would, waiting for room as needed until one deadline for
    /// the whole call. The items put before a failure stay in the queue.
    ///
    /// # Errors
    ///
    /// As [`put`](Self::put), and whatever iterating raised.
    pub(crate) fn put_many(
        &self,
        py: Python<'_>,
        iterable: &Bound<'_, PyAny>,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if self.is_shut_down() {
            return Err(errors::shut_down(py));
        }
        let deadline = if block && self.maxsize() > 0 {
            blocking::deadline(timeout)?
        } else {
            None
        };
        // Iterating may run Python code that uses this queue, so the vector
        // is owned per batch, never across the iteration.
        ops::for_each_chunk(iterable, |chunk| {
            self.put_chunk(py, std::mem::take(chunk), block, deadline)
        })
    }

    fn put_chunk(
        &self,
        py: Python<'_>,
        chunk: Vec<Item>,
        block: bool,
        deadline: Deadline,
    ) -> PyResult<()> {
        // Declared before the owner guard, so what is left is released
        // after the vector is let go.
        let mut rest = chunk.into_iter().peekable();
        while rest.peek().is_some() {
            let mut items = self.claim(py, "put_many")?;
            if self.is_shut_down() {
                return Err(errors::shut_down(py));
            }
            let mut pushed = 0;
            let mut failed = None;
            while self.has_room(items.len()) {
                let Some(item) = rest.next() else { break };
                match D::push(py, &mut items, item) {
                    Ok(()) => pushed += 1,
                    Err(err) => {
                        failed = Some(err);
                        break;
                    }
                }
            }
            self.tasks.add(pushed);
            drop(items);
            match pushed {
                0 => {}
                1 => self.not_empty.notify_one(),
                _ => self.not_empty.notify_all(),
            }
            if let Some((err, _item)) = failed {
                return Err(err);
            }
            if rest.peek().is_none() {
                break;
            }
            if !block {
                return Err(errors::full());
            }
            let room = || self.is_shut_down() || self.has_room(self.items.len());
            if !self.wait(py, &self.not_full, deadline, room)? {
                return Err(errors::full());
            }
        }
        Ok(())
    }

    /// `shutdown()` with Python 3.13's semantics.
    ///
    /// # Errors
    ///
    /// With `immediate`: `RuntimeError` on re-entry, and whatever a signal
    /// handler raised while waiting for the vector.
    pub(crate) fn shutdown(&self, py: Python<'_>, immediate: bool) -> PyResult<()> {
        // Release: pairs with the Acquire loads in the operations.
        self.shut_down.store(true, Ordering::Release);
        let mut result = Ok(());
        if immediate {
            match self.claim(py, "shutdown") {
                Ok(mut items) => {
                    let drained = items.take_all();
                    drop(items);
                    self.tasks.forget(drained.len());
                    // Released here, with the vector let go.
                    drop(drained);
                }
                Err(err) => result = Err(err),
            }
            self.tasks.wake_joiners();
        }
        self.not_empty.notify_all();
        self.not_full.notify_all();
        result
    }

    /// For `tp_traverse`.
    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.not_empty.traverse(visit)?;
        self.not_full.traverse(visit)?;
        self.tasks.waiters().traverse(visit)?;
        self.views.traverse(visit)?;
        self.items.traverse(visit)
    }

    /// For `tp_clear`: releases the items (if no operation is running).
    pub(crate) fn clear(&self) {
        self.not_empty.clear();
        self.not_full.clear();
        self.tasks.waiters().clear();
        self.views.clear();
        let items = self.items.clear();
        if !items.is_empty() {
            self.not_full.notify_all();
        }
        drop(items);
    }
}

/// Reads a `maxsize` argument: an `int`. One too large for the machine is
/// as good as unbounded in size, so it is clamped rather than refused
/// (`queue.Queue` takes any number).
///
/// # Errors
///
/// `TypeError` for a value that is not an `int`.
pub(crate) fn read_maxsize(value: &Bound<'_, PyAny>) -> PyResult<isize> {
    match value.extract::<isize>() {
        Ok(maxsize) => Ok(maxsize),
        Err(err) if err.is_instance_of::<PyOverflowError>(value.py()) => {
            Ok(if value.gt(0)? { isize::MAX } else { isize::MIN })
        }
        Err(err) => Err(err),
    }
}
