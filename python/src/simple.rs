//! `ringq.SimpleQueue`: `queue.SimpleQueue` on a lock-free unbounded queue.
//!
//! The per-item methods are installed by [`crate::fastcall`], which calls
//! the fast and slow paths defined here.

use crate::aio::Waiters;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyGenericAlias, PyList, PyType};
use pyo3::PyTraverseError;
use ringq::{Closed, TryPopError};

use crate::backing::{Item, Store};
use crate::blocking::{self, Attempt, Block};
use crate::errors;
use crate::fastcall::{Doc, Hot, MethodDocs};
use crate::ops::{self, batch_size};
use crate::queue::gave_up;

/// Simple, unbounded, reentrant FIFO queue.
///
/// A drop-in replacement for queue.SimpleQueue. put() never blocks and is
/// lock-free, so it may be called from __del__ methods, weakref callbacks
/// and signal handlers while another put() is in progress. Also offers
/// get_many() and put_many().
#[pyclass(frozen, weakref, subclass, module = "ringq", name = "SimpleQueue")]
pub struct SimpleQueue {
    /// Unbounded, and never shut down.
    items: Store,
    /// Getters waiting for an item.
    pub(crate) not_empty: Waiters,
}

impl Hot for SimpleQueue {
    const HAS_FULL: bool = false;

    #[inline(always)]
    fn put_fast(&self, item: Item) -> Result<(), Item> {
        // Full only until the slow path grows the ring.
        self.items
            .ring()
            .try_push(item)
            .map_err(|err| err.into_inner())?;
        self.not_empty.notify_one();
        Ok(())
    }

    fn put(
        &self,
        py: Python<'_>,
        item: Item,
        _block: bool,
        _timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        // 'block' and 'timeout' are ignored: the push never waits, and is
        // never refused (the queue grows and is never shut down).
        self.items
            .try_push(item)
            .map_err(|_| errors::shut_down(py))?;
        self.not_empty.notify_one();
        Ok(())
    }

    #[inline(always)]
    fn get_fast(&self) -> Option<Item> {
        self.items.ring().try_pop().ok()
    }

    fn get(
        &self,
        py: Python<'_>,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Item> {
        // Never shut down.
        let deadline = blocking::get_deadline(py, block, timeout, || false)?;
        let outcome = blocking::wait_until(
            py,
            &self.not_empty,
            block,
            deadline,
            || match self.items.try_pop() {
                Ok(item) => Attempt::Done(item),
                Err(TryPopError::Empty) => {
                    self.items.maybe_shrink();
                    Attempt::NotYet
                }
                Err(TryPopError::Closed) => Attempt::ShutDown,
            },
            || self.items.may_have_item(),
        )?;
        gave_up(py, outcome, errors::empty)
    }

    fn qsize(&self) -> usize {
        self.items.len()
    }

    fn empty(&self) -> bool {
        self.items.len() == 0
    }

    fn full(&self) -> bool {
        false
    }
}

#[pymethods]
impl SimpleQueue {
    #[new]
    fn new() -> Self {
        Self {
            items: Store::unbounded(),
            not_empty: Waiters::new(),
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
    pub(crate) fn get_many<'py>(
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
        let mut out = Vec::with_capacity(max.min(1024));
        let outcome = blocking::wait_until(
            py,
            &self.not_empty,
            block,
            deadline,
            || match self.items.try_pop_many(&mut out, max) {
                Ok(0) => Attempt::NotYet,
                Ok(_) => Attempt::Done(()),
                Err(Closed) => Attempt::ShutDown,
            },
            || self.items.may_have_item(),
        )?;
        gave_up(py, outcome, errors::empty)?;
        PyList::new(py, out)
    }

    /// (getters, putters): how many threads are parked waiting for an item,
    /// and 0 (a put never waits). A diagnostic for tests.
    fn _waiting(&self) -> (usize, usize) {
        (self.not_empty.waiting(), 0)
    }

    /// Put every item of an iterable into the queue, in order, in batches.
    ///
    /// Never blocks: 'block' and 'timeout' are ignored, as in put().
    #[pyo3(
        signature = (items, block = Block(true), timeout = None),
        text_signature = "($self, items, block=True, timeout=None)"
    )]
    fn put_many(
        &self,
        py: Python<'_>,
        items: &Bound<'_, PyAny>,
        block: Block,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let _ = (block, timeout);
        ops::for_each_chunk(items, |chunk| {
            // The ring grows to take them all, and is never shut down.
            let pushed = self.items.try_push_vec(chunk);
            ops::wake(&self.not_empty, *pushed.as_ref().unwrap_or(&0));
            if pushed.is_err() || !chunk.is_empty() {
                chunk.clear();
                return Err(errors::shut_down(py));
            }
            Ok(())
        })
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.not_empty.traverse(&visit)?;
        self.items.visit_at_rest(|item| visit.call(item))
    }

    fn __clear__(&self) {
        self.not_empty.clear();
        // Released after the queue let go of them.
        drop(self.items.take_all());
    }
}

/// The docstrings of the methods [`crate::fastcall`] installs on
/// `SimpleQueue`.
pub(crate) const METHOD_DOCS: MethodDocs = MethodDocs {
    put: Doc(c"put($self, /, item, block=True, timeout=None)
--

Put the item on the queue.

The optional 'block' and 'timeout' arguments are ignored, as this method
never blocks. They are provided for compatibility with the Queue class."),
    put_nowait: Doc(c"put_nowait($self, /, item)
--

Put an item into the queue without blocking.

This is exactly equivalent to `put(item, block=False)` and is only provided
for compatibility with the Queue class."),
    get: Doc(c"get($self, /, block=True, timeout=None)
--

Remove and return an item from the queue.

If optional args 'block' is true and 'timeout' is None (the default),
block if necessary until an item is available. If 'timeout' is
a non-negative number, it blocks at most 'timeout' seconds and raises
the Empty exception if no item was available within that time.
Otherwise ('block' is false), return an item if one is immediately
available, else raise the Empty exception ('timeout' is ignored
in that case)."),
    get_nowait: Doc(c"get_nowait($self, /)
--

Remove and return an item from the queue without blocking.

Only get an item if one is immediately available. Otherwise
raise the Empty exception."),
    qsize: Doc(c"qsize($self, /)
--

Return the approximate size of the queue (not reliable!)."),
    empty: Doc(c"empty($self, /)
--

Return True if the queue is empty, False otherwise (not reliable!)."),
    full: Doc(c""),
};
