//! `ringq.SPSCQueue`: a bounded queue for one producer and one consumer.
//!
//! The core's SPSC halves (`Producer`, `Consumer`) are `Send` but not
//! `Sync`: each may be used by one thread at a time. A Python object can be
//! reached from any number of threads, and a blocked `get` releases the GIL,
//! so the GIL cannot be what serialises access. Each half sits in a [`Half`]
//! guarded by an atomic "in use" flag: a call claims the flag for its whole
//! duration (waits included) and a second concurrent caller on the same side
//! gets a `RuntimeError` instead of a data race.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyGenericAlias, PyList, PyType};
use ringq::spsc::{Consumer, Producer};
use ringq::{CapacityError, Closed, PopTimeoutError, PushTimeoutError, TryPopError, TryPushError};

use crate::blocking::{self, Block, Deadline};
use crate::errors;
use crate::ops::{self, Item, PopSide, PushSide};
use crate::queue::batch_size;

/// One half of the channel and the flag that serialises its users.
struct Half<T> {
    in_use: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: `value` is only reached through `Half::claim`, which hands out at
// most one `Claimed` at a time (the compare-exchange on `in_use` admits one
// holder until its `Drop` clears the flag). So `&Half<T>` shared between
// threads never gives two threads access to the `T` at once: it only lets
// the `T` be used from different threads one after another, which `T: Send`
// allows.
unsafe impl<T: Send> Sync for Half<T> {}

impl<T> Half<T> {
    fn new(value: T) -> Self {
        Self {
            in_use: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Exclusive access to the half, or `None` if another call holds it.
    fn claim(&self) -> Option<Claimed<'_, T>> {
        // Acquire: pairs with the Release in `Claimed::drop`, so this holder
        // sees everything the previous holder did to the half.
        self.in_use
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Claimed { half: self })
    }
}

/// Proof that this call is the half's only user; releases it on drop.
struct Claimed<'a, T> {
    half: &'a Half<T>,
}

impl<T> Claimed<'_, T> {
    fn get_mut(&mut self) -> &mut T {
        // SAFETY: this `Claimed` is the only one for `half` (see
        // `Half::claim`), and it is borrowed mutably here, so the returned
        // reference is the only one to the value until it ends.
        unsafe { &mut *self.half.value.get() }
    }
}

impl<T> Drop for Claimed<'_, T> {
    fn drop(&mut self) {
        // Release: hands our uses of the half to the next claimer.
        self.half.in_use.store(false, Ordering::Release);
    }
}

/// A counter written by one side only: a load and a store, no RMW.
#[repr(align(128))]
struct SideCounter(AtomicUsize);

impl SideCounter {
    /// Adds `n`. Only the holder of the matching half calls this.
    fn add(&self, n: usize) {
        // Relaxed load: we are the only writer. Release store: `qsize` on
        // another thread that reads the new value also sees the older one.
        let now = self.0.load(Ordering::Relaxed);
        self.0.store(now + n, Ordering::Release);
    }

    fn get(&self) -> usize {
        // Acquire: pairs with the Release store in `add`.
        self.0.load(Ordering::Acquire)
    }
}

/// A bounded FIFO queue for exactly one producer thread and one consumer
/// thread.
///
/// SPSCQueue(maxsize) holds up to maxsize (>= 1) items. put() and
/// put_many() may be called by one thread at a time, and get() and
/// get_many() by one thread at a time (possibly another one); a second
/// thread calling the same side concurrently gets RuntimeError. The methods
/// and exceptions otherwise follow queue.Queue, without task_done() and
/// join().
#[pyclass(frozen, weakref, subclass, module = "ringq", name = "SPSCQueue")]
pub struct SpscQueue {
    producer: Half<Producer<Item>>,
    consumer: Half<Consumer<Item>>,
    /// Set by shutdown(); checked by every operation and between the slices
    /// of every wait, since shutdown() can close the core queue only
    /// through a half nobody else holds.
    shut_down: AtomicBool,
    pushed: SideCounter,
    popped: SideCounter,
    maxsize: usize,
}

/// The producing half while claimed.
struct Tx<'a> {
    half: &'a mut Producer<Item>,
    shut_down: &'a AtomicBool,
    pushed: &'a SideCounter,
}

impl Tx<'_> {
    fn is_shut_down(&self) -> bool {
        // Acquire: pairs with the Release store in shutdown().
        self.shut_down.load(Ordering::Acquire)
    }
}

impl PushSide for Tx<'_> {
    fn try_push(&self, item: Item) -> Result<(), TryPushError<Item>> {
        if self.is_shut_down() {
            return Err(TryPushError::Closed(item));
        }
        self.half.try_push(item)?;
        self.pushed.add(1);
        Ok(())
    }

    fn push_deadline(&self, item: Item, deadline: Instant) -> Result<(), PushTimeoutError<Item>> {
        if self.is_shut_down() {
            return Err(PushTimeoutError::Closed(item));
        }
        self.half.push_deadline(item, deadline)?;
        self.pushed.add(1);
        Ok(())
    }

    fn try_push_vec(&self, items: &mut Vec<Item>) -> Result<usize, Closed> {
        if self.is_shut_down() {
            return Err(Closed);
        }
        let n = self.half.try_push_vec(items)?;
        self.pushed.add(n);
        Ok(n)
    }
}

/// The consuming half while claimed.
struct Rx<'a> {
    half: &'a mut Consumer<Item>,
    shut_down: &'a AtomicBool,
    popped: &'a SideCounter,
}

impl Rx<'_> {
    /// Whether shutdown() was called. Read *before* looking at the queue:
    /// an empty queue seen after the flag is really drained, because every
    /// put that got in before shutdown() is visible by then.
    fn is_shut_down(&self) -> bool {
        // Acquire: pairs with the Release store in shutdown().
        self.shut_down.load(Ordering::Acquire)
    }
}

impl PopSide for Rx<'_> {
    fn try_pop(&self) -> Result<Item, TryPopError> {
        let closing = self.is_shut_down();
        match self.half.try_pop() {
            Ok(item) => {
                self.popped.add(1);
                Ok(item)
            }
            Err(TryPopError::Empty) if closing => Err(TryPopError::Closed),
            Err(err) => Err(err),
        }
    }

    fn pop_deadline(&self, deadline: Instant) -> Result<Item, PopTimeoutError> {
        if self.is_shut_down() {
            return self.try_pop().map_err(|_| PopTimeoutError::Closed);
        }
        let item = self.half.pop_deadline(deadline)?;
        self.popped.add(1);
        Ok(item)
    }

    fn try_pop_many(&self, out: &mut Vec<Item>, max: usize) -> Result<usize, Closed> {
        let closing = self.is_shut_down();
        let n = self.half.try_pop_many(out, max)?;
        self.popped.add(n);
        if n == 0 && closing {
            return Err(Closed);
        }
        Ok(n)
    }

    fn pop_many_deadline(
        &self,
        out: &mut Vec<Item>,
        max: usize,
        deadline: Instant,
    ) -> Result<usize, PopTimeoutError> {
        if self.is_shut_down() {
            return self
                .try_pop_many(out, max)
                .map_err(|Closed| PopTimeoutError::Closed);
        }
        let n = self.half.pop_many_deadline(out, max, Some(deadline))?;
        self.popped.add(n);
        Ok(n)
    }
}

impl SpscQueue {
    fn claim_producer(&self, method: &str) -> PyResult<Claimed<'_, Producer<Item>>> {
        self.producer.claim().ok_or_else(|| {
            PyRuntimeError::new_err(format!(
                "SPSCQueue.{method}() called while another put is in progress: \
                 an SPSCQueue takes one producer thread at a time"
            ))
        })
    }

    fn claim_consumer(&self, method: &str) -> PyResult<Claimed<'_, Consumer<Item>>> {
        self.consumer.claim().ok_or_else(|| {
            PyRuntimeError::new_err(format!(
                "SPSCQueue.{method}() called while another get is in progress: \
                 an SPSCQueue takes one consumer thread at a time"
            ))
        })
    }

    fn tx<'a>(&'a self, claimed: &'a mut Claimed<'_, Producer<Item>>) -> Tx<'a> {
        Tx {
            half: claimed.get_mut(),
            shut_down: &self.shut_down,
            pushed: &self.pushed,
        }
    }

    fn rx<'a>(&'a self, claimed: &'a mut Claimed<'_, Consumer<Item>>) -> Rx<'a> {
        Rx {
            half: claimed.get_mut(),
            shut_down: &self.shut_down,
            popped: &self.popped,
        }
    }

    fn is_shut_down(&self) -> bool {
        // Acquire: pairs with the Release store in shutdown().
        self.shut_down.load(Ordering::Acquire)
    }

    /// Reads `get`'s `block` and `timeout`; see [`blocking::get_deadline`].
    fn get_deadline(
        &self,
        py: Python<'_>,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Deadline> {
        blocking::get_deadline(py, block, timeout, || {
            self.is_shut_down() && self.len() == 0
        })
    }

    fn len(&self) -> usize {
        // Each side counts after its core call returns, so for a moment an
        // item can be counted as popped and not yet as pushed: clamp to
        // 0..=maxsize. (A usize count of items does not wrap in practice.)
        let popped = self.popped.get();
        let pushed = self.pushed.get();
        pushed.saturating_sub(popped).min(self.maxsize)
    }
}

#[pymethods]
impl SpscQueue {
    #[new]
    fn new(maxsize: isize) -> PyResult<Self> {
        let capacity = usize::try_from(maxsize)
            .ok()
            .filter(|&c| c > 0)
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "SPSCQueue maxsize must be at least 1, got {maxsize}"
                ))
            })?;
        let (producer, consumer) = ringq::spsc::channel(capacity).map_err(|err| match err {
            CapacityError::AllocFailed { .. } => PyMemoryError::new_err(format!(
                "cannot allocate an SPSCQueue of maxsize {maxsize}: {err}"
            )),
            _ => PyValueError::new_err(format!("invalid maxsize {maxsize}: {err}")),
        })?;
        Ok(Self {
            producer: Half::new(producer),
            consumer: Half::new(consumer),
            shut_down: AtomicBool::new(false),
            pushed: SideCounter(AtomicUsize::new(0)),
            popped: SideCounter(AtomicUsize::new(0)),
            maxsize: capacity,
        })
    }

    /// Return ``types.GenericAlias(cls, item)``, so ``SPSCQueue[int]``
    /// works in annotations.
    #[classmethod]
    #[pyo3(signature = (item, /))]
    fn __class_getitem__<'py>(
        cls: &Bound<'py, PyType>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyGenericAlias>> {
        PyGenericAlias::new(cls.py(), cls.as_any(), item)
    }

    /// The capacity the queue was created with.
    #[getter]
    fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// Whether shutdown() has been called.
    #[getter]
    fn is_shutdown(&self) -> bool {
        self.is_shut_down()
    }

    /// Return the approximate size of the queue (not reliable!).
    fn qsize(&self) -> usize {
        self.len()
    }

    /// Return True if the queue is empty, False otherwise (not reliable!).
    fn empty(&self) -> bool {
        self.len() == 0
    }

    /// Return True if the queue is full, False otherwise (not reliable!).
    fn full(&self) -> bool {
        self.len() >= self.maxsize
    }

    /// Put an item into the queue; see queue.Queue.put().
    ///
    /// Raises RuntimeError if another thread is in put() or put_many() at
    /// the same time, ShutDown if the queue has been shut down.
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
        let mut claimed = self.claim_producer("put")?;
        if self.is_shut_down() {
            return Err(errors::shut_down(py));
        }
        let deadline = if block {
            blocking::deadline(timeout)?
        } else {
            None
        };
        ops::put(py, self.tx(&mut claimed), item.unbind(), block, deadline)
    }

    /// Put an item into the queue without blocking; see put().
    fn put_nowait(&self, py: Python<'_>, item: Bound<'_, PyAny>) -> PyResult<()> {
        self.put(py, item, Block(false), None)
    }

    /// Remove and return an item from the queue; see queue.Queue.get().
    ///
    /// Raises RuntimeError if another thread is in get() or get_many() at
    /// the same time, ShutDown if the queue has been shut down and is
    /// empty.
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
        let mut claimed = self.claim_consumer("get")?;
        let deadline = self.get_deadline(py, block, timeout)?;
        ops::get(py, self.rx(&mut claimed), block, deadline)
    }

    /// Remove and return an item from the queue without blocking; see get().
    fn get_nowait(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.get(py, Block(false), None)
    }

    /// Remove and return up to max_items items as a list, in queue order.
    ///
    /// Takes whatever is available at once, up to max_items. When nothing
    /// is, 'block' and 'timeout' work as in get() and the call returns as
    /// soon as at least one item arrives.
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
        let mut claimed = self.claim_consumer("get_many")?;
        let deadline = self.get_deadline(py, block, timeout)?;
        let items = ops::get_many(py, self.rx(&mut claimed), max, block, deadline)?;
        drop(claimed);
        PyList::new(py, items)
    }

    /// Put every item of an iterable into the queue, in order, in batches,
    /// blocking as needed until all are in.
    ///
    /// Raises ShutDown if the queue is (or gets) shut down; the items put
    /// before that stay in the queue.
    fn put_many(&self, py: Python<'_>, items: &Bound<'_, PyAny>) -> PyResult<()> {
        if self.is_shut_down() {
            return Err(errors::shut_down(py));
        }
        // Iterating may run Python code (a generator) that uses this queue,
        // so the producer is claimed per batch, not across the iteration.
        ops::for_each_chunk(items, |chunk| {
            let mut claimed = self.claim_producer("put_many")?;
            ops::put_vec(py, &mut self.tx(&mut claimed), chunk, &mut 0)
        })
    }

    /// (getters, putters): whether the consumer is parked waiting for an
    /// item and the producer for room. A diagnostic for tests: read through
    /// whichever side is free (a parked caller holds its own side).
    fn _waiting(&self) -> PyResult<(usize, usize)> {
        if let Some(mut producer) = self.producer.claim() {
            let producer = producer.get_mut();
            return Ok((producer.waiting_poppers(), producer.waiting_pushers()));
        }
        if let Some(mut consumer) = self.consumer.claim() {
            let consumer = consumer.get_mut();
            return Ok((consumer.waiting_poppers(), consumer.waiting_pushers()));
        }
        Err(PyRuntimeError::new_err(
            "SPSCQueue._waiting(): both sides are in use",
        ))
    }

    /// Shut down the queue: put() raises ShutDown from now on, and get()
    /// raises ShutDown once the queue is drained. Blocked callers wake up.
    fn shutdown(&self) {
        // Release: pairs with the Acquire loads in the operations.
        self.shut_down.store(true, Ordering::Release);
        // Close the core queue through whichever half is free, which wakes
        // a caller blocked on the other half at once. If both are busy,
        // their callers see the flag within one wait slice.
        if let Some(mut producer) = self.producer.claim() {
            producer.get_mut().close();
        } else if let Some(mut consumer) = self.consumer.claim() {
            consumer.get_mut().close();
        }
    }
}
