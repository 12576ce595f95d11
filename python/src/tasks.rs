//! The count of unfinished tasks of `Queue`, `LifoQueue` and
//! `PriorityQueue`: raised by each put, lowered by `task_done()`, waited
//! for by `join()`.
//!
//! Only attached threads change the count (`join` reads it while detached).
//! With the GIL, attached threads run one at a time, so a change is a load
//! and a store: no atomic read-modify-write, which costs a locked
//! instruction on every put. A free-threaded build has no GIL to order
//! them, so there each change is an atomic read-modify-write.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::aio::Waiters;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::blocking::{self, Attempt};

/// The count, alone on its cache line: every put and every `task_done()`
/// writes it.
#[repr(align(128))]
struct Count(AtomicUsize);

/// Unfinished tasks, and the threads in `join()`.
pub(crate) struct Tasks {
    /// Boxed: the Python object that holds `Tasks` is only 16-byte aligned
    /// (CPython's allocator), too little for the count's own line.
    unfinished: Box<Count>,
    all_done: Waiters,
}

impl Tasks {
    pub(crate) fn new() -> Self {
        Self {
            unfinished: Box::new(Count(AtomicUsize::new(0))),
            all_done: Waiters::new(),
        }
    }

    /// Changes the count with `change`, which gets the current count and
    /// returns the new one, or `None` to leave it. Returns the old count, or
    /// `Err` with it if `change` declined. Only attached threads call this.
    #[inline(always)]
    fn update(&self, change: impl FnMut(usize) -> Option<usize>) -> Result<usize, usize> {
        #[cfg(not(Py_GIL_DISABLED))]
        {
            let mut change = change;
            // Relaxed load: we hold the GIL, and so did the last writer.
            let now = self.unfinished.0.load(Ordering::Relaxed);
            let new = change(now).ok_or(now)?;
            // Release: a joiner that reads the new count (Acquire) sees the
            // work done before it.
            self.unfinished.0.store(new, Ordering::Release);
            Ok(now)
        }
        #[cfg(Py_GIL_DISABLED)]
        {
            // AcqRel: Release as above; Acquire keeps the count coherent with
            // the other threads' changes.
            self.unfinished
                .0
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, change)
        }
    }

    /// Counts `n` new tasks, before their items are pushed, so a consumer's
    /// `task_done()` never finds the count behind the items it has seen.
    #[inline(always)]
    pub(crate) fn add(&self, n: usize) {
        let _ = self.update(|count| Some(count.wrapping_add(n)));
    }

    /// Uncounts up to `n` tasks (items that did not go in, or that an
    /// immediate shutdown drained), waking `join()` at zero.
    pub(crate) fn forget(&self, n: usize) {
        if n == 0 {
            return;
        }
        let before = self
            .update(|count| Some(count.saturating_sub(n)))
            .unwrap_or_else(|count| count);
        if before <= n {
            self.all_done.notify_all();
        }
    }

    /// `task_done(count)`: marks `count` tasks done, waking `join()` at
    /// zero.
    ///
    /// # Errors
    ///
    /// `ValueError` if `count < 1`, or if it is more than the tasks still
    /// unfinished (and then nothing is marked done).
    pub(crate) fn done(&self, count: isize) -> PyResult<()> {
        let n = usize::try_from(count)
            .ok()
            .filter(|&c| c > 0)
            .ok_or_else(|| {
                PyValueError::new_err(format!("task_done() count must be at least 1, got {count}"))
            })?;
        let before = self
            .update(|unfinished| unfinished.checked_sub(n))
            .map_err(|_| PyValueError::new_err("task_done() called too many times"))?;
        if before == n {
            self.all_done.notify_all();
        }
        Ok(())
    }

    /// `task_done()` for one task: false, changing nothing, if there is
    /// none (the caller raises).
    #[inline(always)]
    pub(crate) fn done_one(&self) -> bool {
        match self.update(|unfinished| unfinished.checked_sub(1)) {
            Ok(1) => {
                self.all_done.notify_all();
                true
            }
            Ok(_) => true,
            Err(_) => false,
        }
    }

    pub(crate) fn unfinished(&self) -> usize {
        // Acquire: pairs with the Release that lowered the count, so a
        // joiner sees the work of every task_done() caller.
        self.unfinished.0.load(Ordering::Acquire)
    }

    /// The waiters of `join()`, threads and coroutines.
    pub(crate) fn waiters(&self) -> &Waiters {
        &self.all_done
    }

    /// Wakes every `join()`, to look at the count again.
    pub(crate) fn wake_joiners(&self) {
        self.all_done.notify_all();
    }

    /// Blocks until the count is zero.
    ///
    /// # Errors
    ///
    /// Whatever a signal handler raised while waiting.
    pub(crate) fn join(&self, py: Python<'_>) -> PyResult<()> {
        let outcome = blocking::wait_until(
            py,
            &self.all_done,
            true,
            None,
            || {
                if self.unfinished() == 0 {
                    Attempt::Done(())
                } else {
                    Attempt::NotYet
                }
            },
            || self.unfinished() == 0,
        )?;
        // No deadline and never ShutDown: it only returns done.
        debug_assert!(outcome.is_ok());
        Ok(())
    }
}
