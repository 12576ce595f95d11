//! `ringq.SimpleQueue`: `queue.SimpleQueue` on a lock-free unbounded queue.

use pyo3::prelude::*;
use pyo3::types::{PyGenericAlias, PyList, PyType};

use crate::backing::Backing;
use crate::blocking::{self, Block};
use crate::ops;
use crate::queue::batch_size;

/// Simple, unbounded, reentrant FIFO queue.
///
/// A drop-in replacement for queue.SimpleQueue. put() never blocks and is
/// lock-free, so it may be called from __del__ methods, weakref callbacks
/// and signal handlers while another put() is in progress. Also offers
/// get_many() and put_many().
#[pyclass(frozen, weakref, subclass, module = "ringq", name = "SimpleQueue")]
pub struct SimpleQueue {
    /// Always the unbounded variant, and never closed.
    items: Backing,
}

#[pymethods]
impl SimpleQueue {
    #[new]
    fn new() -> Self {
        Self {
            items: Backing::Unbounded(ringq::UnboundedQueue::new()),
        }
    }

    /// Return ``types.GenericAlias(cls, item)``, so ``SimpleQueue[int]``
    /// works in annotations.
    #[classmethod]
    #[pyo3(signature = (item, /))]
    fn __class_getitem__<'py>(
        cls: &Bound<'py, PyType>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyGenericAlias>> {
        PyGenericAlias::new(cls.py(), cls.as_any(), item)
    }

    /// Return True if the queue is empty, False otherwise (not reliable!).
    fn empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Return the approximate size of the queue (not reliable!).
    fn qsize(&self) -> usize {
        self.items.len()
    }

    /// Put the item on the queue.
    ///
    /// The optional 'block' and 'timeout' arguments are ignored, as this
    /// method never blocks. They are provided for compatibility with the
    /// Queue class.
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
        let _ = (block, timeout);
        ops::put(py, &self.items, item.unbind(), false, None)
    }

    /// Put an item into the queue without blocking.
    ///
    /// This is exactly equivalent to `put(item, block=False)` and is only
    /// provided for compatibility with the Queue class.
    fn put_nowait(&self, py: Python<'_>, item: Bound<'_, PyAny>) -> PyResult<()> {
        ops::put(py, &self.items, item.unbind(), false, None)
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
        // Never shut down.
        let deadline = blocking::get_deadline(py, block, timeout, || false)?;
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
    /// soon as at least one item arrives.
    ///
    /// Raises ValueError if max_items < 1, Empty as get().
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
        // Never shut down.
        let deadline = blocking::get_deadline(py, block, timeout, || false)?;
        let items = ops::get_many(py, &self.items, max, block, deadline)?;
        PyList::new(py, items)
    }

    /// (getters, putters): how many threads are parked waiting for an item,
    /// and 0 (a put never waits). A diagnostic for tests.
    fn _waiting(&self) -> (usize, usize) {
        match &self.items {
            Backing::Bounded(q) => (q.waiting_poppers(), q.waiting_pushers()),
            Backing::Unbounded(q) => (q.waiting_poppers(), 0),
        }
    }

    /// Put every item of an iterable into the queue, in order, in batches.
    /// Never blocks.
    fn put_many(&self, py: Python<'_>, items: &Bound<'_, PyAny>) -> PyResult<()> {
        ops::for_each_chunk(items, |chunk| {
            ops::put_vec(py, &mut &self.items, chunk, &mut 0)
        })
    }
}
