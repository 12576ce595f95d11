//! `ringq.Queue`: `queue.Queue` on a lock-free ring buffer.

use std::sync::atomic::{AtomicUsize, Ordering};

use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyGenericAlias, PyList, PyType};
use ringq::wait::WaitQueue;
use ringq::CapacityError;

use crate::backing::Backing;
use crate::blocking::{self, wait_in_slices, Block};
use crate::errors;
use crate::ops::{self, PopSide};

/// Create a queue object with a given maximum size.
///
/// If maxsize is <= 0, the queue size is infinite.
///
/// A drop-in replacement for queue.Queue: the same methods, arguments,
/// blocking behaviour and exceptions (queue.Empty, queue.Full and
/// ShutDown), built on a lock-free ring buffer. A bounded queue allocates
/// its maxsize slots up front. Also offers get_many() and put_many().
#[pyclass(frozen, weakref, subclass, module = "ringq", name = "Queue")]
pub struct Queue {
    items: Backing,
    maxsize: isize,
    /// Items put and not yet marked done with `task_done()`. A put counts
    /// its item before pushing it, so a consumer's `task_done()` never finds
    /// the count behind the items it has seen.
    unfinished: AtomicUsize,
    /// Threads in `join()`, woken when `unfinished` reaches zero.
    all_tasks_done: WaitQueue,
}

impl Queue {
    /// Counts `n` new tasks before their items are pushed.
    fn add_tasks(&self, n: usize) {
        // Relaxed: the push that follows (Release) publishes the count to
        // whoever pops the item and calls task_done().
        self.unfinished.fetch_add(n, Ordering::Relaxed);
    }

    /// Uncounts up to `n` tasks (items that were not pushed, or were
    /// drained by an immediate shutdown), waking `join()` at zero.
    fn forget_tasks(&self, n: usize) {
        if n == 0 {
            return;
        }
        // AcqRel: ordered with task_done()'s decrements; Release so a joiner
        // that sees zero sees everything before it.
        let previous = self
            .unfinished
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                Some(count.saturating_sub(n))
            })
            .unwrap_or_else(|count| count);
        if previous <= n {
            self.all_tasks_done.notify_all();
        }
    }

    fn unfinished_tasks_now(&self) -> usize {
        // Acquire: pairs with the Release decrement that reached zero, so a
        // joiner sees the work of every task_done() caller.
        self.unfinished.load(Ordering::Acquire)
    }

    /// Reads `get`'s `block` and `timeout`; see [`blocking::get_deadline`].
    fn get_deadline(
        &self,
        py: Python<'_>,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<blocking::Deadline> {
        blocking::get_deadline(py, block, timeout, || {
            self.items.is_closed() && self.items.is_empty()
        })
    }
}

#[pymethods]
impl Queue {
    #[new]
    #[pyo3(signature = (maxsize = 0))]
    fn new(maxsize: isize) -> PyResult<Self> {
        let items = Backing::with_maxsize(maxsize).map_err(|err| match err {
            CapacityError::AllocFailed { .. } => PyMemoryError::new_err(format!(
                "cannot allocate a queue of maxsize {maxsize}: {err}"
            )),
            _ => PyValueError::new_err(format!("invalid maxsize {maxsize}: {err}")),
        })?;
        Ok(Self {
            items,
            maxsize,
            unfinished: AtomicUsize::new(0),
            all_tasks_done: WaitQueue::new(),
        })
    }

    /// Return ``types.GenericAlias(cls, item)``, so ``Queue[int]`` works in
    /// annotations.
    #[classmethod]
    #[pyo3(signature = (item, /))]
    fn __class_getitem__<'py>(
        cls: &Bound<'py, PyType>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyGenericAlias>> {
        PyGenericAlias::new(cls.py(), cls.as_any(), item)
    }

    /// The maxsize the queue was created with (<= 0 means unbounded).
    #[getter]
    fn maxsize(&self) -> isize {
        self.maxsize
    }

    /// The number of items put and not yet marked done with task_done().
    #[getter]
    fn unfinished_tasks(&self) -> usize {
        self.unfinished_tasks_now()
    }

    /// Whether shutdown() has been called.
    #[getter]
    fn is_shutdown(&self) -> bool {
        self.items.is_closed()
    }

    /// Indicate that a formerly enqueued task is complete.
    ///
    /// Used by Queue consumer threads.  For each get() used to fetch a task,
    /// a subsequent call to task_done() tells the queue that the processing
    /// on the task is complete.
    ///
    /// If a join() is currently blocking, it will resume when all items
    /// have been processed (meaning that a task_done() call was received
    /// for every item that had been put() into the queue).
    ///
    /// 'count' (an extension to queue.Queue) marks that many tasks done at
    /// once, e.g. len() of a get_many() batch.
    ///
    /// Raises a ValueError if called more times than there were items
    /// placed in the queue (and then marks none done).
    #[pyo3(signature = (count = 1))]
    fn task_done(&self, count: isize) -> PyResult<()> {
        let count = usize::try_from(count)
            .ok()
            .filter(|&c| c > 0)
            .ok_or_else(|| {
                PyValueError::new_err(format!("task_done() count must be at least 1, got {count}"))
            })?;
        // AcqRel: Release publishes this task's work to a joiner; Acquire
        // keeps the count coherent with the puts whose items we got.
        let previous = self
            .unfinished
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |unfinished| {
                unfinished.checked_sub(count)
            })
            .map_err(|_| PyValueError::new_err("task_done() called too many times"))?;
        if previous == count {
            self.all_tasks_done.notify_all();
        }
        Ok(())
    }

    /// Blocks until all items in the Queue have been gotten and processed.
    ///
    /// The count of unfinished tasks goes up whenever an item is added to
    /// the queue. The count goes down whenever a consumer thread calls
    /// task_done() to indicate the item was retrieved and all work on it is
    /// complete.
    ///
    /// When the count of unfinished tasks drops to zero, join() unblocks.
    fn join(&self, py: Python<'_>) -> PyResult<()> {
        if self.unfinished_tasks_now() == 0 {
            return Ok(());
        }
        let waiters = &self.all_tasks_done;
        let unfinished = &self.unfinished;
        wait_in_slices(py, None, |slice_end| {
            waiters.wait_until(Some(slice_end), || {
                // Acquire: as in unfinished_tasks_now().
                (unfinished.load(Ordering::Acquire) == 0).then_some(())
            })
        })?;
        Ok(())
    }

    /// Return the approximate size of the queue (not reliable!).
    fn qsize(&self) -> usize {
        self.items.len()
    }

    /// Return True if the queue is empty, False otherwise (not reliable!).
    fn empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Return True if the queue is full, False otherwise (not reliable!).
    fn full(&self) -> bool {
        self.items.is_bounded() && self.items.len() as isize >= self.maxsize
    }

    /// Put an item into the queue.
    ///
    /// If optional args 'block' is true and 'timeout' is None (the
    /// default), block if necessary until a free slot is available. If
    /// 'timeout' is a non-negative number, it blocks at most 'timeout'
    /// seconds and raises the Full exception if no free slot was available
    /// within that time. Otherwise ('block' is false), put an item on the
    /// queue if a free slot is immediately available, else raise the Full
    /// exception ('timeout' is ignored in that case).
    ///
    /// Raises ShutDown if the queue has been shut down.
    #[pyo3(
        signature = (item, block = Block(true), timeout = None),
        text_signature = "($self, item, block=True, timeout=None)"
    )]
    fn put(
        &self,
        py: Python<'_>,
        item: Bound<'_, PyAny>,
        block: Block,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let Block(block) = block;
        if self.items.is_closed() {
            return Err(errors::shut_down(py));
        }
        // As in the standard library, only a bounded queue reads 'timeout'.
        let deadline = if block && self.items.is_bounded() {
            blocking::deadline(timeout)?
        } else {
            None
        };
        self.add_tasks(1);
        let result = ops::put(py, &self.items, item.unbind(), block, deadline);
        if result.is_err() {
            self.forget_tasks(1);
        }
        result
    }

    /// Put an item into the queue without blocking.
    ///
    /// Only enqueue the item if a free slot is immediately available.
    /// Otherwise raise the Full exception.
    fn put_nowait(&self, py: Python<'_>, item: Bound<'_, PyAny>) -> PyResult<()> {
        self.put(py, item, Block(false), None)
    }

    /// Remove and return an item from the queue.
    ///
    /// If optional args 'block' is true and 'timeout' is None (the
    /// default), block if necessary until an item is available. If
    /// 'timeout' is a non-negative number, it blocks at most 'timeout'
    /// seconds and raises the Empty exception if no item was available
    /// within that time. Otherwise ('block' is false), return an item if
    /// one is immediately available, else raise the Empty exception
    /// ('timeout' is ignored in that case).
    ///
    /// Raises ShutDown if the queue has been shut down and is empty, or if
    /// the queue has been shut down immediately.
    #[pyo3(
        signature = (block = Block(true), timeout = None),
        text_signature = "($self, block=True, timeout=None)"
    )]
    fn get(
        &self,
        py: Python<'_>,
        block: Block,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let Block(block) = block;
        let deadline = self.get_deadline(py, block, timeout)?;
        ops::get(py, &self.items, block, deadline)
    }

    /// Remove and return an item from the queue without blocking.
    ///
    /// Only get an item if one is immediately available. Otherwise raise
    /// the Empty exception.
    fn get_nowait(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        ops::get(py, &self.items, false, None)
    }

    /// Remove and return up to max_items items as a list, in queue order.
    ///
    /// Takes whatever is available at once, up to max_items. When nothing
    /// is, 'block' and 'timeout' work as in get() and the call returns as
    /// soon as at least one item arrives. Each item still needs its own
    /// task_done() call.
    ///
    /// Raises ValueError if max_items < 1, Empty and ShutDown as get().
    #[pyo3(
        signature = (max_items, block = Block(true), timeout = None),
        text_signature = "($self, max_items, block=True, timeout=None)"
    )]
    fn get_many<'py>(
        &self,
        py: Python<'py>,
        max_items: isize,
        block: Block,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let Block(block) = block;
        let max = batch_size(max_items)?;
        let deadline = self.get_deadline(py, block, timeout)?;
        let items = ops::get_many(py, &self.items, max, block, deadline)?;
        PyList::new(py, items)
    }

    /// Put every item of an iterable into the queue, in order.
    ///
    /// Moves items in batches. On a bounded queue, blocks as needed until
    /// all are in. Counts one unfinished task per item.
    ///
    /// Raises ShutDown if the queue is (or gets) shut down; the items put
    /// before that stay in the queue.
    fn put_many(&self, py: Python<'_>, items: &Bound<'_, PyAny>) -> PyResult<()> {
        if self.items.is_closed() {
            return Err(errors::shut_down(py));
        }
        ops::for_each_chunk(items, |chunk| {
            let count = chunk.len();
            self.add_tasks(count);
            let mut pushed = 0;
            let result = ops::put_vec(py, &mut &self.items, chunk, &mut pushed);
            self.forget_tasks(count - pushed);
            result
        })
    }

    /// (getters, putters): how many threads are parked waiting for an item
    /// and for room. A diagnostic for tests.
    fn _waiting(&self) -> (usize, usize) {
        match &self.items {
            Backing::Bounded(q) => (q.waiting_poppers(), q.waiting_pushers()),
            Backing::Unbounded(q) => (q.waiting_poppers(), 0),
        }
    }

    /// Shut-down the queue, making queue gets and puts raise ShutDown.
    ///
    /// By default, gets will only raise once the queue is empty. Set
    /// 'immediate' to True to make gets raise immediately instead.
    ///
    /// All blocked callers of put() and get() will be unblocked. If
    /// 'immediate', the queue is drained and the count of unfinished tasks
    /// is reduced by the number of drained items; callers of join() are
    /// unblocked once that count reaches zero.
    #[pyo3(signature = (immediate = false))]
    fn shutdown(&self, immediate: bool) {
        self.items.close();
        if immediate {
            // Each drained item is released right here (attached, no lock
            // held), so its __del__ may run.
            while let Ok(item) = self.items.try_pop() {
                drop(item);
                self.forget_tasks(1);
            }
        }
        self.all_tasks_done.notify_all();
    }
}

/// Checks a `max_items` argument.
pub(crate) fn batch_size(max_items: isize) -> PyResult<usize> {
    match usize::try_from(max_items) {
        Ok(max) if max > 0 => Ok(max),
        _ => Err(PyValueError::new_err(format!(
            "max_items must be at least 1, got {max_items}"
        ))),
    }
}
