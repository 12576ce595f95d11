//! The one place that switches between the real primitives and loom's.
//!
//! Under `--cfg loom` every atomic, cell, lock and thread the queues use is
//! loom's, so the model checker sees every access. Outside loom,
//! [`UnsafeCell`] wraps std's with the same closure-based API loom needs.

#[cfg(loom)]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering},
    sync::{Condvar, Mutex, MutexGuard},
    thread,
};

#[cfg(not(loom))]
pub(crate) use std::{
    sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering},
    sync::{Condvar, Mutex, MutexGuard},
};

/// `std::cell::UnsafeCell` with loom's access API.
#[cfg(not(loom))]
#[derive(Debug)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    #[inline(always)]
    pub(crate) const fn new(data: T) -> Self {
        Self(std::cell::UnsafeCell::new(data))
    }

    /// Runs `f` with a shared raw pointer to the contents.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a unique raw pointer to the contents.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Whether memory that was never written (or was zeroed) may be taken for
/// cells and atomics: true for std's, which are plain memory, false for
/// loom's, which carry the model checker's state and must be constructed.
pub(crate) const PLAIN_MEMORY: bool = !cfg!(loom);

/// Under loom, an object the checker reports if it is leaked at the end of
/// an execution: a heap structure holding one is checked to be freed.
/// Outside loom, nothing.
#[cfg(loom)]
pub(crate) type LeakCheck = loom::alloc::Track<()>;

/// Outside loom: takes no room and does nothing.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct LeakCheck(());

#[cfg(not(loom))]
impl LeakCheck {
    #[inline(always)]
    pub(crate) fn new(_: ()) -> Self {
        Self(())
    }
}

/// Whether a timed wait can really time out. Loom cannot model time, so its
/// timed waits behave as untimed ones and the models check the untimed path.
pub(crate) const TIMEOUTS_ARE_REAL: bool = !cfg!(loom);

/// crossbeam's `Backoff`, except that under loom every wait is a
/// `yield_now`, which is what lets loom schedule the thread being waited for.
#[derive(Debug, Default)]
pub(crate) struct Backoff(#[cfg(not(loom))] crossbeam_utils::Backoff);

impl Backoff {
    #[inline]
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Waits a little while another thread finishes a step of a CAS race.
    #[inline]
    pub(crate) fn spin(&self) {
        #[cfg(not(loom))]
        self.0.spin();
        #[cfg(loom)]
        thread::yield_now();
    }

    /// Waits for another thread that is known to be mid-operation.
    #[inline]
    pub(crate) fn snooze(&self) {
        #[cfg(not(loom))]
        self.0.snooze();
        #[cfg(loom)]
        thread::yield_now();
    }

    /// Whether spinning has gone on long enough that parking is cheaper.
    #[inline]
    pub(crate) fn is_completed(&self) -> bool {
        #[cfg(not(loom))]
        return self.0.is_completed();
        #[cfg(loom)]
        return true;
    }
}
