//! A vector of items that one thread at a time may change, and may keep
//! while it runs Python code.
//!
//! `LifoQueue` and `PriorityQueue` keep their items in a plain vector (a
//! stack, a binary heap). A priority queue orders items with Python's `<`,
//! which runs arbitrary Python code in the middle of an operation. Neither
//! the GIL nor a critical section (`pyo3::sync::with_critical_section`) can
//! guard such an operation: both are given up whenever the thread runs
//! Python code or waits, so another thread could change the heap under a
//! comparison. A Rust mutex can't either: a thread that blocks on it while
//! attached to the interpreter can deadlock with the holder, which needs the
//! interpreter to finish its comparison.
//!
//! So the vector is owned, one thread at a time, through an owner word:
//! [`Exclusive::claim`] sets it to the calling thread's token, and the
//! returned [`Owned`] clears it when dropped. A thread that finds another
//! owner waits for it *detached* from the interpreter, in slices that check
//! for signals, like every other wait in this module. A thread that finds
//! itself the owner is re-entering the queue from inside one of its own
//! operations (from `__lt__`, or a `__del__`, weakref callback or signal
//! handler that ran during one): it gets `RuntimeError`, never a deadlock or
//! a half-changed heap.
//!
//! # Where items may move
//!
//! The items move only inside [`Owned`]'s methods. Each is a short
//! *section* of plain Rust that runs no Python code, releases no object and
//! never detaches from the interpreter. Between sections the vector is
//! always whole: every item the queue holds is in it exactly once. The
//! garbage collector reads the vector ([`Exclusive::traverse`]) only when
//! no other thread can be inside a section: it holds the GIL (so do
//! sections) or has stopped the world (which waits for threads to reach a
//! point where Python code could run, and sections have none). A thread
//! that waits, detached, never touches the vector.
//!
//! # fork
//!
//! A child process has only the thread that forked. If another thread of
//! the parent owned a vector at that moment, its owner word outlives it.
//! Each owner word carries the process's fork generation, bumped in the
//! child by [`after_fork_in_child`]; a word from an older generation belongs
//! to a thread that no longer exists and is free to take. The vector itself
//! is whole: the forking thread held the GIL (or had stopped the world), so
//! no section was running.

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::{PyTraverseError, PyVisit};
use ringq::wait::WaitQueue;

use crate::blocking::wait_in_slices;
use crate::ops::Item;

/// What the vector holds: an item, perhaps with data kept beside it.
pub(crate) trait Held: Send {
    /// The Python object held, for the collector.
    fn object(&self) -> &Item;
}

impl Held for Item {
    fn object(&self) -> &Item {
        self
    }
}

/// This process's fork generation: bumped in every child after `fork()`.
static GENERATION: AtomicU32 = AtomicU32::new(1);

/// The next thread number to hand out (0 is never one).
static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);

thread_local! {
    /// This thread's number, or 0 before its first claim. A const cell with
    /// no destructor, so it can be read while the thread is exiting.
    static THREAD: Cell<u32> = const { Cell::new(0) };
}

/// Called in the child after `os.fork()`: owner words from before the fork
/// become stale, so the vectors they held can be claimed again.
#[pyfunction]
fn after_fork_in_child() {
    // Relaxed: the child has one thread at this point.
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// This process's fork generation, for the other owner words that a fork
/// must not carry over to the child (the SPSC side claims).
pub(crate) fn fork_generation() -> u32 {
    // Relaxed: as in `my_word`.
    GENERATION.load(Ordering::Relaxed)
}

/// Has `os.fork()` call [`after_fork_in_child`] in every child.
///
/// # Errors
///
/// Whatever registering raised.
pub(crate) fn register_fork_handler(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let os = py.import("os")?;
    // Absent where there is no fork().
    if let Ok(register) = os.getattr("register_at_fork") {
        let kwargs = PyDict::new(py);
        kwargs.set_item(
            "after_in_child",
            wrap_pyfunction!(after_fork_in_child, module)?,
        )?;
        register.call((), Some(&kwargs))?;
    }
    Ok(())
}

/// The owner word of the calling thread: its fork generation and number.
fn my_word() -> u64 {
    let number = THREAD.with(|cell| {
        if cell.get() == 0 {
            // Relaxed: only uniqueness matters. After 2^32 threads numbers
            // repeat, skipping 0; a clash needs two threads alive 2^32
            // thread creations apart to use the same queue.
            let mut n = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
            if n == 0 {
                n = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
            }
            cell.set(n);
        }
        cell.get()
    });
    // Relaxed: the generation only changes while the child is single-threaded.
    (u64::from(GENERATION.load(Ordering::Relaxed)) << 32) | u64::from(number)
}

/// Sets `owner` from `current` to `new`, as a compare-exchange: `Err`
/// with the value found if it was not `current`. Acquire on success, so a
/// new owner sees every change the last one made; Release, so the next
/// owner sees ours.
///
/// Every call runs attached to the interpreter (claims, releases, the
/// collector). Where there is a GIL, attached threads run one at a time,
/// and nothing between this load and store can hand the GIL over, so the
/// pair cannot interleave with another thread's: no atomic
/// read-modify-write is needed, and the GIL's own hand-over orders the
/// owners' accesses. A free-threaded build needs the real thing.
#[inline]
fn exchange(owner: &AtomicU64, current: u64, new: u64) -> Result<u64, u64> {
    #[cfg(not(Py_GIL_DISABLED))]
    {
        // Relaxed load, Release store: see above; the store is Release so
        // that a detached waiter that reads it sees the vector as left.
        let found = owner.load(Ordering::Relaxed);
        if found != current {
            return Err(found);
        }
        owner.store(new, Ordering::Release);
        Ok(found)
    }
    #[cfg(Py_GIL_DISABLED)]
    {
        owner.compare_exchange(current, new, Ordering::AcqRel, Ordering::Relaxed)
    }
}

/// Whether an owner word belongs to a thread that no longer exists.
fn is_stale(word: u64) -> bool {
    // Relaxed: as in `my_word`.
    word != 0 && (word >> 32) as u32 != GENERATION.load(Ordering::Relaxed)
}

/// Why a claim failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Busy {
    /// The calling thread owns the vector already: it is re-entering.
    Reentrant,
    /// Another thread owns it.
    Other,
}

/// The items of a queue, owned by one thread at a time.
pub(crate) struct Exclusive<T> {
    /// 0 when free, else the owner's word (see [`my_word`]).
    owner: AtomicU64,
    /// Threads waiting for the owner to let go.
    handoff: WaitQueue,
    /// Changed only through an [`Owned`], in sections (see the module docs).
    items: UnsafeCell<Vec<T>>,
    /// `items.len()`, readable without owning the vector.
    len: AtomicUsize,
}

// SAFETY: `items` is written only through an `Owned`, and the compare-
// exchange on `owner` admits one `Owned` at a time, so two threads never
// write it at once. Each write happens inside a section that runs no
// Python code, so a reader that can only run where Python code could run
// (the collector's `traverse`, which also claims the vector or finds this
// thread the owner) never overlaps one. `T` is `Send`, so the items may
// be used from whichever thread owns the vector.
unsafe impl<T: Held> Sync for Exclusive<T> {}

impl<T: Held> Exclusive<T> {
    pub(crate) fn new() -> Self {
        Self {
            owner: AtomicU64::new(0),
            handoff: WaitQueue::new(),
            items: UnsafeCell::new(Vec::new()),
            len: AtomicUsize::new(0),
        }
    }

    /// How many items there are (a snapshot unless the caller owns them).
    pub(crate) fn len(&self) -> usize {
        // Acquire: pairs with the Release stores in `Owned::set_len`.
        self.len.load(Ordering::Acquire)
    }

    /// Owns the vector if it is free (or stale), without waiting.
    pub(crate) fn try_claim(&self) -> Result<Owned<'_, T>, Busy> {
        let me = my_word();
        let mut expected = 0;
        loop {
            match exchange(&self.owner, expected, me) {
                Ok(_) => {
                    return Ok(Owned {
                        store: self,
                        word: me,
                    })
                }
                Err(current) if current == me => return Err(Busy::Reentrant),
                Err(current) if current == 0 || is_stale(current) => expected = current,
                Err(_) => return Err(Busy::Other),
            }
        }
    }

    /// Owns the vector, waiting (detached, checking signals) while another
    /// thread owns it.
    ///
    /// # Errors
    ///
    /// `RuntimeError` if the calling thread owns it already (`class` and
    /// `method` name the call in the message), and whatever a signal handler
    /// raised while waiting.
    pub(crate) fn claim(
        &self,
        py: Python<'_>,
        class: &str,
        method: &str,
    ) -> PyResult<Owned<'_, T>> {
        loop {
            match self.try_claim() {
                Ok(owned) => return Ok(owned),
                Err(Busy::Reentrant) => {
                    return Err(PyRuntimeError::new_err(format!(
                        "{class}.{method}() called while this thread is inside another \
                         operation on the same queue (from __lt__, or a __del__, weakref \
                         callback or signal handler that ran during it)"
                    )))
                }
                Err(Busy::Other) => {}
            }
            let free = || {
                // Relaxed: a hint; the compare-exchange decides.
                let owner = self.owner.load(Ordering::Relaxed);
                owner == 0 || is_stale(owner)
            };
            let waited = wait_in_slices(py, None, |slice_end| {
                self.handoff
                    .wait_until(Some(slice_end), || free().then_some(()))
            });
            if let Err(err) = waited {
                // Leaving on a signal without claiming: pass the wake-up
                // on, so another waiter doesn't sleep through it.
                if free() {
                    self.handoff.notify_one();
                }
                return Err(err);
            }
        }
    }

    /// Visits every item, for the collector's `tp_traverse`.
    ///
    /// Reads the vector only where no section can be running: when this
    /// thread owns it (the collection started inside one of its operations,
    /// in Python code, between sections), or after claiming it. When another
    /// thread owns it the items are not visited this time, which keeps them
    /// alive for one more collection and is never unsafe.
    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        // Acquire: as in `try_claim`.
        if self.owner.load(Ordering::Acquire) == my_word() {
            return self.visit_items(visit);
        }
        match self.try_claim() {
            Ok(owned) => owned.store.visit_items(visit),
            Err(_) => Ok(()),
        }
    }

    fn visit_items(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        // SAFETY: the caller owns the vector (see `traverse`), and no section
        // is running: this thread is in the collector, not in a section.
        let items = unsafe { &*self.items.get() };
        for item in items {
            visit.call(item.object())?;
        }
        Ok(())
    }

    /// Takes every item out, for the collector's `tp_clear`, if the vector
    /// is free. The caller releases them once this returns (the vector is
    /// no longer owned then, so their `__del__` may use the queue).
    pub(crate) fn clear(&self) -> Vec<T> {
        match self.try_claim() {
            Ok(mut owned) => owned.take_all(),
            Err(_) => Vec::new(),
        }
    }
}

/// Proof that this thread owns the vector; lets go when dropped.
///
/// Every method is one section: plain Rust that runs no Python code and
/// releases no object (see the module docs).
pub(crate) struct Owned<'a, T> {
    store: &'a Exclusive<T>,
    word: u64,
}

impl<T> Owned<'_, T> {
    /// The vector, for one section.
    fn items(&mut self) -> &mut Vec<T> {
        // SAFETY: this `Owned` is the only one (see `Exclusive::try_claim`)
        // and is borrowed mutably for as long as the reference lives, and
        // the callers below use it within one section, where no reader runs.
        unsafe { &mut *self.store.items.get() }
    }

    fn set_len(&self, len: usize) {
        // Release: a reader of `len` that sees the new count also sees the
        // items that made it (the waiting side of `WaitQueue` relies on it).
        self.store.len.store(len, Ordering::Release);
    }

    pub(crate) fn len(&self) -> usize {
        self.slice().len()
    }

    /// The items, to read (compare, say) while nothing changes them.
    ///
    /// Python code may run while the slice is borrowed (a comparison's
    /// `__lt__`): nothing writes the vector meanwhile, since writes need
    /// this `Owned` mutably, other threads can't claim it, and the
    /// collector only reads it (and `clear` leaves an owned vector alone).
    pub(crate) fn slice(&self) -> &[T] {
        // SAFETY: as above; a shared borrow of `self` rules out the writes.
        unsafe { &*self.store.items.get() }
    }

    pub(crate) fn push(&mut self, item: T) {
        let items = self.items();
        items.push(item);
        let len = items.len();
        self.set_len(len);
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        let items = self.items();
        let item = items.pop();
        let len = items.len();
        self.set_len(len);
        item
    }

    pub(crate) fn swap(&mut self, a: usize, b: usize) {
        self.items().swap(a, b);
    }

    /// Removes the item at `index`, moving the last one into its place.
    ///
    /// # Panics
    ///
    /// If `index` is out of bounds.
    pub(crate) fn swap_remove(&mut self, index: usize) -> T {
        let items = self.items();
        let item = items.swap_remove(index);
        let len = items.len();
        self.set_len(len);
        item
    }

    /// Every item, in storage order; the vector is left empty.
    pub(crate) fn take_all(&mut self) -> Vec<T> {
        let all = std::mem::take(self.items());
        self.set_len(0);
        all
    }
}

impl<T> Drop for Owned<'_, T> {
    fn drop(&mut self) {
        // Fails only if a forked child took over a stale word; the vector is
        // someone else's then.
        let _ = exchange(&self.store.owner, self.word, 0);
        self.store.handoff.notify_one();
    }
}
