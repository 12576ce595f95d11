//! `ringq.Queue`: `queue.Queue` on a lock-free ring buffer.
//!
//! `put`, `get`, their `_nowait` forms, `qsize`, `empty` and `full` are
//! installed by [`crate::fastcall`], which calls the fast and slow paths
//! defined here; everything else is an ordinary PyO3 method.

use crate::aio::views::Views;
use crate::aio::Waiters;
use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyGenericAlias, PyList, PyType};
use pyo3::PyTraverseError;
use ringq::{CapacityError, Closed, TryPopError, TryPushError};

use crate::backing::{Item, Store};
use crate::blocking::{self, Attempt, Block, GaveUp};
use crate::errors;
use crate::fastcall::{Doc, Hot, MethodDocs, Tasked};
use crate::ops;
pub(crate) use crate::ops::batch_size;
use crate::tasks::Tasks;

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
    store: Store,
    pub(crate) tasks: Tasks,
    /// Getters waiting for an item (or for shutdown).
    pub(crate) not_empty: Waiters,
    /// Putters waiting for room (or for shutdown).
    pub(crate) not_full: Waiters,
    /// `async_q` and `sync_q`, once made.
    pub(crate) views: Views,
}

impl Hot for Queue {
    #[inline(always)]
    fn put_fast(&self, item: Item) -> Result<(), Item> {
        let ring = self.store.ring();
        let limit = self.store.soft_limit();
        if limit != 0 && ring.len() >= limit {
            return Err(item);
        }
        self.tasks.add(1);
        match ring.try_push(item) {
            Ok(()) => {
                self.not_empty.notify_one();
                Ok(())
            }
            Err(err) => {
                self.tasks.forget(1);
                Err(err.into_inner())
            }
        }
    }

    fn put(
        &self,
        py: Python<'_>,
        item: Item,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if self.store.is_shut_down() {
            return Err(errors::shut_down(py));
        }
        // As in the standard library, only a bounded queue reads 'timeout'.
        let deadline = if block && self.store.maxsize() > 0 {
            blocking::deadline(timeout)?
        } else {
            None
        };
        self.tasks.add(1);
        let mut pending = Some(item);
        let outcome = blocking::wait_until(
            py,
            &self.not_full,
            block,
            deadline,
            || {
                // Only `Done` leaves `pending` empty, and it ends the wait.
                let Some(item) = pending.take() else {
                    return Attempt::Done(());
                };
                match self.store.try_push(item) {
                    Ok(()) => {
                        self.not_empty.notify_one();
                        Attempt::Done(())
                    }
                    Err(TryPushError::Full(item)) => {
                        pending = Some(item);
                        Attempt::NotYet
                    }
                    Err(TryPushError::Closed(item)) => {
                        pending = Some(item);
                        Attempt::ShutDown
                    }
                }
            },
            || self.store.may_have_room(),
        );
        if !matches!(outcome, Ok(Ok(()))) {
            self.tasks.forget(1);
        }
        // Released here, attached, if it did not go in.
        drop(pending);
        gave_up(py, outcome?, errors::full)
    }

    #[inline(always)]
    fn get_fast(&self) -> Option<Item> {
        let item = self.store.ring().try_pop().ok()?;
        self.not_full.notify_one();
        Some(item)
    }

    fn get(
        &self,
        py: Python<'_>,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Item> {
        let deadline =
            blocking::get_deadline(py, block, timeout, || self.store.is_shut_down_and_empty())?;
        let outcome = blocking::wait_until(
            py,
            &self.not_empty,
            block,
            deadline,
            || match self.store.try_pop() {
                Ok(item) => {
                    self.not_full.notify_one();
                    Attempt::Done(item)
                }
                Err(TryPopError::Empty) => {
                    self.store.maybe_shrink();
                    Attempt::NotYet
                }
                Err(TryPopError::Closed) => Attempt::ShutDown,
            },
            || self.store.may_have_item(),
        )?;
        gave_up(py, outcome, errors::empty)
    }

    fn qsize(&self) -> usize {
        self.store.len()
    }

    fn empty(&self) -> bool {
        self.store.len() == 0
    }

    fn full(&self) -> bool {
        // `0 < maxsize <= qsize()`, as the standard library has it.
        let maxsize = self.store.maxsize();
        maxsize > 0 && self.store.len() >= maxsize.unsigned_abs()
    }
}

impl Tasked for Queue {
    #[inline(always)]
    fn tasks(&self) -> &Tasks {
        &self.tasks
    }
}

/// Turns how a blocking call ended into its result: `timed_out` is the
/// error a timeout raises (Empty or Full).
pub(crate) fn gave_up<T>(
    py: Python<'_>,
    outcome: Result<T, GaveUp>,
    timed_out: fn() -> PyErr,
) -> PyResult<T> {
    match outcome {
        Ok(done) => Ok(done),
        Err(GaveUp::TimedOut) => Err(timed_out()),
        Err(GaveUp::ShutDown) => Err(errors::shut_down(py)),
    }
}

#[pymethods]
impl Queue {
    #[new]
    #[pyo3(signature = (maxsize = 0))]
    fn new(maxsize: isize) -> PyResult<Self> {
        let store = Store::with_maxsize(maxsize).map_err(|err| match err {
            CapacityError::AllocFailed { .. } => PyMemoryError::new_err(format!(
                "cannot allocate a queue of maxsize {maxsize}: {err}"
            )),
            _ => PyValueError::new_err(format!("invalid maxsize {maxsize}: {err}")),
        })?;
        Ok(Self {
            store,
            tasks: Tasks::new(),
            not_empty: Waiters::new(),
            not_full: Waiters::new(),
            views: Views::new(),
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

    /// The maximum number of items (<= 0 means unbounded). Assigning it
    /// works as in queue.Queue: a smaller value makes puts wait until the
    /// queue has shrunk below it, a larger one admits more at once.
    #[getter]
    fn maxsize(&self) -> isize {
        self.store.maxsize()
    }

    #[setter]
    fn set_maxsize(&self, maxsize: isize) {
        self.store.set_maxsize(maxsize);
        // Waiting putters look at the new limit.
        self.not_full.notify_all();
    }

    /// The number of items put and not yet marked done with task_done().
    #[getter]
    fn unfinished_tasks(&self) -> usize {
        self.tasks.unfinished()
    }

    /// Whether shutdown() has been called.
    #[getter]
    fn is_shutdown(&self) -> bool {
        self.store.is_shut_down()
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
        self.tasks.join(py)
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
    pub(crate) fn get_many<'py>(
        &self,
        py: Python<'py>,
        max_items: isize,
        block: Block,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let Block(block) = block;
        let max = batch_size(max_items)?;
        let deadline =
            blocking::get_deadline(py, block, timeout, || self.store.is_shut_down_and_empty())?;
        // Don't let a huge `max_items` reserve memory up front.
        let mut out = Vec::with_capacity(max.min(1024));
        let outcome = blocking::wait_until(
            py,
            &self.not_empty,
            block,
            deadline,
            || match self.store.try_pop_many(&mut out, max) {
                Ok(0) => Attempt::NotYet,
                Ok(n) => {
                    ops::wake(&self.not_full, n);
                    Attempt::Done(())
                }
                Err(Closed) => Attempt::ShutDown,
            },
            || self.store.may_have_item(),
        )?;
        gave_up(py, outcome, errors::empty)?;
        PyList::new(py, out)
    }

    /// Put every item of an iterable into the queue, in order.
    ///
    /// Moves items in batches and counts one unfinished task per item.
    /// 'block' and 'timeout' work as in put(), for the whole call: on a
    /// bounded queue it waits for room as needed, and raises Full if
    /// 'block' is false and an item finds no room, or if 'timeout' passes
    /// first.
    ///
    /// Raises ShutDown if the queue is (or gets) shut down. On any error
    /// the items put before it stay in the queue; the items taken from the
    /// iterable and not put are dropped.
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
        let Block(block) = block;
        if self.store.is_shut_down() {
            return Err(errors::shut_down(py));
        }
        let deadline = if block && self.store.maxsize() > 0 {
            blocking::deadline(timeout)?
        } else {
            None
        };
        ops::for_each_chunk(items, |chunk| {
            let count = chunk.len();
            self.tasks.add(count);
            let mut pushed = 0;
            let outcome = blocking::wait_until(
                py,
                &self.not_full,
                block,
                deadline,
                || match self.store.try_push_vec(chunk) {
                    Ok(n) => {
                        pushed += n;
                        ops::wake(&self.not_empty, n);
                        if chunk.is_empty() {
                            Attempt::Done(())
                        } else {
                            Attempt::NotYet
                        }
                    }
                    Err(Closed) => Attempt::ShutDown,
                },
                || self.store.may_have_room(),
            );
            self.tasks.forget(count - pushed);
            // What did not go in is released here, attached.
            chunk.clear();
            gave_up(py, outcome?, errors::full)
        })
    }

    /// (getters, putters): how many threads are parked waiting for an item
    /// and for room. A diagnostic for tests.
    fn _waiting(&self) -> (usize, usize) {
        (self.not_empty.waiting(), self.not_full.waiting())
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
    #[pyo3(
        signature = (immediate = Block(false)),
        text_signature = "($self, immediate=False)"
    )]
    fn shutdown(&self, immediate: Block) {
        let Block(immediate) = immediate;
        let drained = self.store.shutdown(immediate);
        self.tasks.forget(drained.len());
        // Released here, attached, with no lock held, so their __del__ may
        // use the queue.
        drop(drained);
        self.not_empty.notify_all();
        self.not_full.notify_all();
        self.tasks.wake_joiners();
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.not_empty.traverse(&visit)?;
        self.not_full.traverse(&visit)?;
        self.tasks.waiters().traverse(&visit)?;
        self.views.traverse(&visit)?;
        self.store.visit_at_rest(|item| visit.call(item))
    }

    fn __clear__(&self) {
        self.not_empty.clear();
        self.not_full.clear();
        self.tasks.waiters().clear();
        self.views.clear();
        // Released after the store let go of them, so a __del__ that uses
        // the queue finds it consistent.
        drop(self.store.take_all());
        self.not_full.notify_all();
    }
}

/// The docstring of `Queue.task_done`, which [`crate::fastcall`] installs.
pub(crate) const TASK_DONE_DOC: Doc = Doc(c"task_done($self, /, count=1)
--

Indicate that a formerly enqueued task is complete.

Used by Queue consumer threads.  For each get() used to fetch a task,
a subsequent call to task_done() tells the queue that the processing
on the task is complete.

If a join() is currently blocking, it will resume when all items
have been processed (meaning that a task_done() call was received
for every item that had been put() into the queue).

'count' (an extension to queue.Queue) marks that many tasks done at
once, e.g. len() of a get_many() batch.

Raises a ValueError if called more times than there were items
placed in the queue (and then marks none done).");

/// The docstrings of the methods [`crate::fastcall`] installs on `Queue`.
pub(crate) const METHOD_DOCS: MethodDocs = MethodDocs {
    put: Doc(c"put($self, /, item, block=True, timeout=None)
--

Put an item into the queue.

If optional args 'block' is true and 'timeout' is None (the default),
block if necessary until a free slot is available. If 'timeout' is
a non-negative number, it blocks at most 'timeout' seconds and raises
the Full exception if no free slot was available within that time.
Otherwise ('block' is false), put an item on the queue if a free slot
is immediately available, else raise the Full exception ('timeout'
is ignored in that case).

Raises ShutDown if the queue has been shut down."),
    put_nowait: Doc(c"put_nowait($self, /, item)
--

Put an item into the queue without blocking.

Only enqueue the item if a free slot is immediately available.
Otherwise raise the Full exception."),
    get: Doc(c"get($self, /, block=True, timeout=None)
--

Remove and return an item from the queue.

If optional args 'block' is true and 'timeout' is None (the default),
block if necessary until an item is available. If 'timeout' is
a non-negative number, it blocks at most 'timeout' seconds and raises
the Empty exception if no item was available within that time.
Otherwise ('block' is false), return an item if one is immediately
available, else raise the Empty exception ('timeout' is ignored
in that case).

Raises ShutDown if the queue has been shut down and is empty,
or if the queue has been shut down immediately."),
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
    full: Doc(c"full($self, /)
--

Return True if the queue is full, False otherwise (not reliable!)."),
};
