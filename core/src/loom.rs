//! The one place that switches between the real primitives and loom's.
//!
//! Under `--cfg loom` every atomic, cell, sleep and thread the queues use is
//! loom's, so the model checker sees every access. Outside loom,
//! [`UnsafeCell`] wraps std's with the same closure-based API loom needs.
//!
//! Loom has no clock and no futex, so it gets stand-ins here: a [`Futex`]
//! made of loom's mutex and condition variable, the asymmetric barrier pair
//! as two SeqCst fences, and timed waits that time out the first time they
//! sleep (see [`time_left`]), which lets the models race a timeout against
//! a notification.

use std::time::{Duration, Instant};

#[cfg(loom)]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    thread,
};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

#[cfg(not(loom))]
pub(crate) use crate::futex::Futex;
#[cfg(loom)]
pub(crate) use model::Futex;

#[cfg(not(loom))]
pub(crate) use crate::barrier;
#[cfg(loom)]
pub(crate) use model::barrier;

/// How long a wait that ends at `deadline` may still sleep, or `None` once
/// the deadline has passed. `slept` says whether this wait has slept
/// before: under loom a timed sleep times out at once, and the deadline
/// counts as passed after the first.
#[inline]
pub(crate) fn time_left(deadline: Instant, slept: bool) -> Option<Duration> {
    #[cfg(not(loom))]
    {
        let _ = slept;
        deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
    }
    #[cfg(loom)]
    {
        let _ = deadline;
        (!slept).then_some(Duration::ZERO)
    }
}

/// Whether `deadline` has passed, for a wait that has not slept yet.
#[inline]
pub(crate) fn has_passed(deadline: Instant) -> bool {
    time_left(deadline, false).is_none()
}

#[cfg(loom)]
mod model {
    use std::time::Duration;

    use loom::sync::atomic::{fence, AtomicU32, Ordering};
    use loom::sync::{Condvar, Mutex};

    use crate::futex::Wake;

    /// The futex contract on loom's primitives: the lock makes "check the
    /// word, then sleep" atomic against "change the word, then wake".
    #[derive(Debug)]
    pub(crate) struct Futex {
        word: AtomicU32,
        lock: Mutex<()>,
        cond: Condvar,
    }

    impl Futex {
        pub(crate) fn new(value: u32) -> Self {
            Self {
                word: AtomicU32::new(value),
                lock: Mutex::new(()),
                cond: Condvar::new(),
            }
        }

        pub(crate) fn load(&self, order: Ordering) -> u32 {
            self.word.load(order)
        }

        pub(crate) fn fetch_add(&self, value: u32, order: Ordering) -> u32 {
            self.word.fetch_add(value, order)
        }

        /// Untimed: sleeps until woken. Timed: times out at once, since
        /// loom cannot let time pass.
        pub(crate) fn wait(&self, expected: u32, timeout: Option<Duration>) {
            if timeout.is_some() {
                loom::thread::yield_now();
                return;
            }
            let guard = self.lock.lock().unwrap();
            // Relaxed: the lock orders it against the change `wake` follows.
            if self.word.load(Ordering::Relaxed) == expected {
                drop(self.cond.wait(guard).unwrap());
            }
        }

        pub(crate) fn wake(&self, who: Wake) {
            drop(self.lock.lock().unwrap());
            match who {
                Wake::One => self.cond.notify_one(),
                Wake::All => self.cond.notify_all(),
            }
        }
    }

    /// The asymmetric pair as two SeqCst fences: the protocol the models
    /// check, since loom cannot run membarrier.
    pub(crate) mod barrier {
        use super::{fence, Ordering};

        pub(crate) fn probe() {}

        pub(crate) fn light() {
            fence(Ordering::SeqCst);
        }

        #[must_use]
        pub(crate) fn heavy() -> bool {
            fence(Ordering::SeqCst);
            true
        }

        pub(crate) fn is_degraded() -> bool {
            false
        }
    }
}

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
