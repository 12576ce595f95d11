//! The unfinished-task count behind `task_done()` and `join()`.

use std::sync::atomic::{AtomicUsize, Ordering};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use ringq::wait::WaitQueue;

use crate::blocking::wait_in_slices;

/// Items put and not yet marked done, and the threads in `join()`.
pub(crate) struct Tasks {
    unfinished: AtomicUsize,
    /// Threads in `join()`, woken when `unfinished` reaches zero.
    all_done: WaitQueue,
}

impl Tasks {
    pub(crate) fn new() -> Self {
        Self {
            unfinished: AtomicUsize::new(0),
            all_done: WaitQueue::new(),
        }
    }

    /// The count now.
    pub(crate) fn unfinished(&self) -> usize {
        // Acquire: pairs with the Release decrement that reached zero, so a
        // joiner sees the work of every task_done() caller.
        self.unfinished.load(Ordering::Acquire)
    }

    /// Counts `n` new tasks. Callers count an item before any consumer can
    /// take it, so `task_done()` never finds the count behind.
    pub(crate) fn add(&self, n: usize) {
        // Relaxed: whatever hands the item to a consumer (the store's
        // ownership, released after this) publishes the count with it.
        #[cfg(not(Py_GIL_DISABLED))]
        {
            // Every change to the count runs attached: with a GIL, one at a
            // time, and nothing between this load and store can hand the
            // GIL over, so no read-modify-write is needed.
            let count = self.unfinished.load(Ordering::Relaxed);
            self.unfinished.store(count + n, Ordering::Relaxed);
        }
        #[cfg(Py_GIL_DISABLED)]
        self.unfinished.fetch_add(n, Ordering::Relaxed);
    }

    /// Uncounts up to `n` tasks without going below zero (items drained by
    /// an immediate shutdown), waking `join()` at zero.
    pub(crate) fn forget(&self, n: usize) {
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
            self.all_done.notify_all();
        }
    }

    /// `task_done()`, marking `count` tasks done at once.
    ///
    /// # Errors
    ///
    /// `ValueError` if `count < 1`, or if it is more than the tasks still
    /// unfinished (and then nothing is marked done).
    pub(crate) fn done(&self, count: isize) -> PyResult<()> {
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
            self.all_done.notify_all();
        }
        Ok(())
    }

    /// Wakes every `join()` so it looks at the count again.
    pub(crate) fn wake_joiners(&self) {
        self.all_done.notify_all();
    }

    /// `join()`: blocks, detached and interruptible, until the count is 0.
    ///
    /// # Errors
    ///
    /// Whatever a signal handler raised while waiting.
    pub(crate) fn join(&self, py: Python<'_>) -> PyResult<()> {
        if self.unfinished() == 0 {
            return Ok(());
        }
        wait_in_slices(py, None, |slice_end| {
            self.all_done
                .wait_until(Some(slice_end), || (self.unfinished() == 0).then_some(()))
        })?;
        Ok(())
    }
}
