//! `ringq.SPSCQueue`: a bounded queue for one producer and one consumer.
//!
//! The core's SPSC halves (`Producer`, `Consumer`) are `Send` but not
//! `Sync`: each may be used by one thread at a time. A Python object can be
//! reached from any number of threads, and a blocked `get` releases the GIL,
//! so the GIL cannot be what serialises access. Each half sits in a [`Half`]
//! guarded by an "in use" flag: a call claims the flag for its whole
//! duration (waits included) and a second concurrent caller on the same side
//! gets a `RuntimeError` instead of a data race.
//!
//! A call reaches its half only while attached (see [`crate::blocking`]):
//! a blocked call sleeps on its own counters, not on the half, so the GC
//! can take the items out and put them back while a caller waits.
//!
//! `shutdown()` sets a flag that every call checks; the core channel is
//! never closed, so the GC can always put the items back.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::aio::Waiters;
use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyValueError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyGenericAlias, PyList, PyType};
use pyo3::PyTraverseError;
use ringq::spsc::{Consumer, Producer};
use ringq::{CapacityError, Closed, TryPushError};

use crate::backing::{self, Batch, Item};
use crate::blocking::{self, Attempt, Block, Deadline};
use crate::errors;
use crate::fastcall::{Doc, Hot, MethodDocs};
use crate::ops::{self, batch_size};
use crate::queue::gave_up;

/// One half of the channel and the flag that serialises its users.
///
/// The flag holds 0 when the half is free, or the fork generation (see
/// [`fork_generation`]) of the process in which a call claimed it. After
/// `fork()` the child has only the forking thread: a claim taken by any
/// other thread of the parent, which may have been blocked in a call,
/// belongs to a thread that does not exist in the child, and counts as
/// free there.
struct Half<T> {
    in_use: AtomicUsize,
    value: UnsafeCell<T>,
}

// SAFETY: `value` is reached through `Half::claim`, which hands out at most
// one `Claimed` at a time (see `claim`), and through `at_rest`, whose caller
// guarantees that no claimer is inside a call on the half. So `&Half<T>`
// shared between threads never lets two threads use the `T` at once: it
// only lets the `T` be used from different threads one after another, which
// `T: Send` allows. A claim inherited by a forked child belongs to a thread
// the child doesn't have, so treating it as free lets no two threads in.
unsafe impl<T: Send> Sync for Half<T> {}

impl<T> Half<T> {
    fn new(value: T) -> Self {
        Self {
            in_use: AtomicUsize::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// Exclusive use of the half, or `None` if another call holds it. Only
    /// attached threads claim.
    #[inline(always)]
    fn claim(&self) -> Option<Claimed<'_, T>> {
        let now = fork_generation();
        #[cfg(not(Py_GIL_DISABLED))]
        {
            // With the GIL, attached threads run one at a time, so a load
            // and a store claim as surely as a compare-exchange. Acquire:
            // pairs with the Release in `Claimed::drop`, so this holder sees
            // everything the previous holder did to the half.
            if self.in_use.load(Ordering::Acquire) == now {
                return None;
            }
            // Relaxed: nobody can look at the flag before we drop the GIL,
            // which orders this store for them.
            self.in_use.store(now, Ordering::Relaxed);
            Some(Claimed { half: self })
        }
        #[cfg(Py_GIL_DISABLED)]
        {
            let mut held = self.in_use.load(Ordering::Acquire);
            loop {
                if held == now {
                    return None;
                }
                // Acquire: as above.
                match self.in_use.compare_exchange_weak(
                    held,
                    now,
                    Ordering::Acquire,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return Some(Claimed { half: self }),
                    Err(current) => held = current,
                }
            }
        }
    }

    /// The half, without claiming it.
    ///
    /// # Safety
    ///
    /// No call may be using the half, claimed or not, until the returned
    /// reference is gone: the queue is at rest (see [`crate::blocking`]), as
    /// during a GC traversal, where a claimer can only be waiting, detached,
    /// and detached claimers never touch their half.
    unsafe fn at_rest(&self) -> &T {
        // SAFETY: nobody else uses the value now (the caller's contract).
        unsafe { &*self.value.get() }
    }
}

/// The value a claim stores: the process's fork generation (see
/// [`crate::exclusive`]), which `os.fork()` bumps in every child. Never 0,
/// the flag's "free".
#[inline(always)]
fn fork_generation() -> usize {
    crate::exclusive::fork_generation() as usize
}

/// Proof that this call is the half's only user; releases it on drop.
struct Claimed<'a, T> {
    half: &'a Half<T>,
}

impl<T> Claimed<'_, T> {
    /// The half. Take it anew for each use, while attached, and never hold
    /// it across a wait.
    #[inline(always)]
    fn get(&self) -> &T {
        // SAFETY: this `Claimed` is the only one for `half` (see
        // `Half::claim`), and `at_rest` is only used while no claimer is in
        // a call; a shared reference is all the half's methods need.
        unsafe { &*self.half.value.get() }
    }
}

impl<T> Drop for Claimed<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // Release: hands our uses of the half to the next claimer.
        self.half.in_use.store(0, Ordering::Release);
    }
}

/// A counter written by one side only: a load and a store, no RMW.
#[repr(align(128))]
struct SideCounter(AtomicUsize);

impl SideCounter {
    /// Adds `n`. Only the holder of the matching half calls this.
    #[inline(always)]
    fn add(&self, n: usize) {
        // Relaxed load: we are the only writer. Release store: `qsize` on
        // another thread that reads the new value also sees the older one.
        let now = self.0.load(Ordering::Relaxed);
        self.0.store(now.wrapping_add(n), Ordering::Release);
    }

    #[inline(always)]
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
    /// Set by shutdown(); checked by every operation.
    shut_down: AtomicBool,
    /// Boxed, as are the other over-aligned parts: CPython's allocator
    /// aligns the object itself to 16 bytes only.
    pushed: Box<SideCounter>,
    popped: Box<SideCounter>,
    maxsize: usize,
    /// The consumer, when it waits for an item (or for shutdown).
    pub(crate) not_empty: Waiters,
    /// The producer, when it waits for room (or for shutdown).
    pub(crate) not_full: Waiters,
}

/// The two halves as one queue, for traversal and clearing.
struct Channel<'a> {
    producer: &'a Producer<Item>,
    consumer: &'a Consumer<Item>,
}

impl Batch for Channel<'_> {
    fn pop_many(&self, out: &mut Vec<Item>, max: usize) -> Result<usize, Closed> {
        self.consumer.try_pop_many(out, max)
    }
    fn push_vec(&self, items: &mut Vec<Item>) -> Result<usize, Closed> {
        self.producer.try_push_vec(items)
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

    #[inline(always)]
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

    #[inline(always)]
    fn len(&self) -> usize {
        // Each side counts after its core call returns, so for a moment an
        // item can be counted as popped and not yet as pushed: clamp to
        // 0..=maxsize.
        let popped = self.popped.get();
        let pushed = self.pushed.get();
        pushed.saturating_sub(popped).min(self.maxsize)
    }

    /// One attached attempt to push, with the producer claimed.
    #[inline(always)]
    fn try_push(&self, producer: &Producer<Item>, item: Item) -> Result<(), TryPushError<Item>> {
        if self.is_shut_down() {
            return Err(TryPushError::Closed(item));
        }
        producer.try_push(item)?;
        self.pushed.add(1);
        self.not_empty.notify_one();
        Ok(())
    }

    /// One attached attempt to pop up to `max` items, with the consumer
    /// claimed: `Ok(0)` when empty, `Err` when shut down and drained.
    fn try_pop_many(
        &self,
        consumer: &Consumer<Item>,
        out: &mut Vec<Item>,
        max: usize,
    ) -> Result<usize, Closed> {
        // Read *before* looking at the queue: an empty queue seen after the
        // flag is really drained, because every put that got in before
        // shutdown() is visible by then.
        let closing = self.is_shut_down();
        let n = consumer.try_pop_many(out, max)?;
        self.popped.add(n);
        ops::wake(&self.not_full, n);
        if n == 0 && closing {
            return Err(Closed);
        }
        Ok(n)
    }

    fn may_have_room(&self) -> bool {
        self.is_shut_down() || self.len() < self.maxsize
    }

    fn may_have_item(&self) -> bool {
        self.is_shut_down() || self.len() > 0
    }
}

impl Hot for SpscQueue {
    #[inline(always)]
    fn put_fast(&self, item: Item) -> Result<(), Item> {
        let Some(claimed) = self.producer.claim() else {
            return Err(item);
        };
        self.try_push(claimed.get(), item)
            .map_err(TryPushError::into_inner)
    }

    fn put(
        &self,
        py: Python<'_>,
        item: Item,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let claimed = self.claim_producer("put")?;
        if self.is_shut_down() {
            return Err(errors::shut_down(py));
        }
        let deadline = if block {
            blocking::deadline(timeout)?
        } else {
            None
        };
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
                match self.try_push(claimed.get(), item) {
                    Ok(()) => Attempt::Done(()),
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
            || self.may_have_room(),
        );
        drop(claimed);
        // Released here, attached, if it did not go in.
        drop(pending);
        gave_up(py, outcome?, errors::full)
    }

    #[inline(always)]
    fn get_fast(&self) -> Option<Item> {
        let claimed = self.consumer.claim()?;
        // Not shut down is not checked: an item that is there is returned
        // either way.
        let item = claimed.get().try_pop().ok()?;
        self.popped.add(1);
        self.not_full.notify_one();
        Some(item)
    }

    fn get(
        &self,
        py: Python<'_>,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Item> {
        let claimed = self.claim_consumer("get")?;
        let deadline = self.get_deadline(py, block, timeout)?;
        let mut out = Vec::with_capacity(1);
        let outcome = blocking::wait_until(
            py,
            &self.not_empty,
            block,
            deadline,
            || match self.try_pop_many(claimed.get(), &mut out, 1) {
                Ok(0) => Attempt::NotYet,
                Ok(_) => Attempt::Done(()),
                Err(Closed) => Attempt::ShutDown,
            },
            || self.may_have_item(),
        )?;
        drop(claimed);
        gave_up(py, outcome, errors::empty)?;
        Ok(out.pop().expect("a successful get took one item"))
    }

    fn qsize(&self) -> usize {
        self.len()
    }

    fn empty(&self) -> bool {
        self.len() == 0
    }

    fn full(&self) -> bool {
        self.len() >= self.maxsize
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
            pushed: Box::new(SideCounter(AtomicUsize::new(0))),
            popped: Box::new(SideCounter(AtomicUsize::new(0))),
            maxsize: capacity,
            not_empty: Waiters::new(),
            not_full: Waiters::new(),
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

    /// Remove and return up to max_items items as a list, in queue order.
    ///
    /// Takes whatever is available at once, up to max_items. When nothing
    /// is, 'block' and 'timeout' work as in get() and the call returns as
    /// soon as at least one item arrives.
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
        let claimed = self.claim_consumer("get_many")?;
        let deadline = self.get_deadline(py, block, timeout)?;
        let mut out = Vec::with_capacity(max.min(1024));
        let outcome = blocking::wait_until(
            py,
            &self.not_empty,
            block,
            deadline,
            || match self.try_pop_many(claimed.get(), &mut out, max) {
                Ok(0) => Attempt::NotYet,
                Ok(_) => Attempt::Done(()),
                Err(Closed) => Attempt::ShutDown,
            },
            || self.may_have_item(),
        )?;
        drop(claimed);
        gave_up(py, outcome, errors::empty)?;
        PyList::new(py, out)
    }

    /// Put every item of an iterable into the queue, in order, in batches.
    ///
    /// 'block' and 'timeout' work as in put(), for the whole call: it waits
    /// for room as needed, and raises Full if 'block' is false and an item
    /// finds no room, or if 'timeout' passes first.
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
        if self.is_shut_down() {
            return Err(errors::shut_down(py));
        }
        let deadline = if block {
            blocking::deadline(timeout)?
        } else {
            None
        };
        // Iterating may run Python code (a generator) that uses this queue,
        // so the producer is claimed per batch, not across the iteration.
        ops::for_each_chunk(items, |chunk| {
            let claimed = self.claim_producer("put_many")?;
            let outcome = blocking::wait_until(
                py,
                &self.not_full,
                block,
                deadline,
                || {
                    if self.is_shut_down() {
                        return Attempt::ShutDown;
                    }
                    match claimed.get().try_push_vec(chunk) {
                        Ok(n) => {
                            self.pushed.add(n);
                            ops::wake(&self.not_empty, n);
                            if chunk.is_empty() {
                                Attempt::Done(())
                            } else {
                                Attempt::NotYet
                            }
                        }
                        Err(Closed) => Attempt::ShutDown,
                    }
                },
                || self.may_have_room(),
            );
            drop(claimed);
            // What did not go in is released here, attached.
            chunk.clear();
            gave_up(py, outcome?, errors::full)
        })
    }

    /// (getters, putters): whether the consumer is parked waiting for an
    /// item and the producer for room. A diagnostic for tests.
    fn _waiting(&self) -> (usize, usize) {
        (self.not_empty.waiting(), self.not_full.waiting())
    }

    /// Shut down the queue: put() raises ShutDown from now on, and get()
    /// raises ShutDown once the queue is drained. Blocked callers wake up.
    fn shutdown(&self) {
        // Release: pairs with the Acquire loads in the operations.
        self.shut_down.store(true, Ordering::Release);
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.not_empty.traverse(&visit)?;
        self.not_full.traverse(&visit)?;
        // SAFETY: the GC traverses with the queue at rest (see
        // `crate::blocking`): a caller that holds a half is waiting,
        // detached, and does not touch it until it re-attaches, which it
        // can't do before the traversal ends.
        let channel = unsafe {
            Channel {
                producer: self.producer.at_rest(),
                consumer: self.consumer.at_rest(),
            }
        };
        backing::visit_at_rest(&channel, |item| visit.call(item))
    }

    fn __clear__(&self) {
        self.not_empty.clear();
        self.not_full.clear();
        // The GC clears only unreachable queues, so no call holds a half.
        let (Some(producer), Some(consumer)) = (self.producer.claim(), self.consumer.claim())
        else {
            return;
        };
        let mut items = Vec::new();
        backing::take_all(
            &Channel {
                producer: producer.get(),
                consumer: consumer.get(),
            },
            &mut items,
        );
        self.popped.add(items.len());
        drop((producer, consumer));
        // Released after the queue let go of them.
        drop(items);
    }
}

/// The docstrings of the methods [`crate::fastcall`] installs on
/// `SPSCQueue`.
pub(crate) const METHOD_DOCS: MethodDocs = MethodDocs {
    put: Doc(c"put($self, /, item, block=True, timeout=None)
--

Put an item into the queue; see queue.Queue.put().

Raises RuntimeError if another thread is in put() or put_many() at
the same time, ShutDown if the queue has been shut down."),
    put_nowait: Doc(c"put_nowait($self, /, item)
--

Put an item into the queue without blocking; see put()."),
    get: Doc(c"get($self, /, block=True, timeout=None)
--

Remove and return an item from the queue; see queue.Queue.get().

Raises RuntimeError if another thread is in get() or get_many() at
the same time, ShutDown if the queue has been shut down and is empty."),
    get_nowait: Doc(c"get_nowait($self, /)
--

Remove and return an item from the queue without blocking; see get()."),
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
