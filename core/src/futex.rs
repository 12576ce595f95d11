//! Sleeping on a 32-bit word until another thread changes it: the kernel's
//! futex on Linux, a mutex and condition variable elsewhere.
//!
//! A [`Futex`] is the only place a thread of this crate sleeps. Its contract
//! is the futex's: [`wait`](Futex::wait) sleeps only while the word still
//! holds the value the caller last saw, checked atomically with going to
//! sleep, and may return early for any reason (a wake-up, a signal, a
//! spurious return, the timeout). So a waker changes the word first and
//! wakes second, and a waiter re-checks its condition whenever `wait`
//! returns.
//!
//! The Linux futex holds no lock in user space. Nothing a thread leaves
//! behind when it dies, or when `fork` leaves it behind in the parent, can
//! block another thread.
//!
//! The raw calls on a word in memory shared between processes live here too
//! ([`wait_shared`], [`wake_shared`]), for queues that outlive one process.
// Under loom, `crate::loom` stands in for `Futex`; only `Wake` is used.
#![cfg_attr(loom, allow(dead_code, unused_imports))]

#[cfg(target_os = "linux")]
pub(crate) use linux::Futex;
#[cfg(not(target_os = "linux"))]
pub(crate) use portable::Futex;

#[cfg(target_os = "linux")]
#[allow(unused_imports)] // used by the shared-memory queues
pub(crate) use linux::{wait_shared, wake_shared};

/// How many sleepers a wake-up is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    One,
    All,
}

#[cfg(target_os = "linux")]
mod linux {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::Wake;

    /// A word that threads of this process sleep on.
    #[derive(Debug, Default)]
    pub(crate) struct Futex(AtomicU32);

    impl Futex {
        pub(crate) const fn new(value: u32) -> Self {
            Self(AtomicU32::new(value))
        }

        #[inline]
        pub(crate) fn load(&self, order: Ordering) -> u32 {
            self.0.load(order)
        }

        #[inline]
        pub(crate) fn fetch_add(&self, value: u32, order: Ordering) -> u32 {
            self.0.fetch_add(value, order)
        }

        /// Sleeps while the word equals `expected`, for at most `timeout`.
        /// May return early; see the module docs.
        pub(crate) fn wait(&self, expected: u32, timeout: Option<Duration>) {
            wait(&self.0, expected, timeout, libc::FUTEX_PRIVATE_FLAG);
        }

        /// Wakes threads sleeping in [`wait`](Self::wait).
        pub(crate) fn wake(&self, who: Wake) {
            wake(&self.0, who, libc::FUTEX_PRIVATE_FLAG);
        }
    }

    /// Sleeps while `word`, which may be in memory shared with other
    /// processes, equals `expected`, for at most `timeout`. May return
    /// early; see the module docs.
    #[allow(dead_code)] // used by the shared-memory queues
    pub(crate) fn wait_shared(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
        wait(word, expected, timeout, 0);
    }

    /// Wakes threads of any process sleeping on `word` in [`wait_shared`],
    /// and returns how many it woke.
    #[allow(dead_code)] // used by the shared-memory queues
    pub(crate) fn wake_shared(word: &AtomicU32, who: Wake) -> usize {
        wake(word, who, 0)
    }

    fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>, flags: libc::c_int) {
        let timespec = timeout.map(|t| libc::timespec {
            // A wait longer than `time_t` can hold is a wait without end.
            tv_sec: t.as_secs().try_into().unwrap_or(libc::time_t::MAX),
            // Below 10^9, so the cast is exact on every target, including
            // those where the field is an `i32` (32-bit x86).
            tv_nsec: t.subsec_nanos() as libc::c_long,
        });
        let timespec_ptr = timespec
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: `word` is a live, aligned 32-bit atomic for the duration of
        // the call, and the kernel only reads it; `timespec_ptr` is null or
        // points to `timespec`, alive until the call returns. Every failure
        // (EAGAIN: the word changed; EINTR; ETIMEDOUT) is a return the
        // caller already handles by re-checking its condition.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT | flags,
                expected,
                timespec_ptr,
            );
        }
    }

    fn wake(word: &AtomicU32, who: Wake, flags: libc::c_int) -> usize {
        let count = match who {
            Wake::One => 1,
            Wake::All => libc::c_int::MAX,
        };
        // SAFETY: FUTEX_WAKE only uses the address of `word` as a key; it
        // neither reads nor writes memory of ours.
        let woken = unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAKE | flags,
                count,
            )
        };
        // A failure (-1) woke nobody.
        usize::try_from(woken).unwrap_or(0)
    }
}

#[cfg(not(target_os = "linux"))]
mod portable {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;

    use super::Wake;

    /// A futex built from a mutex and a condition variable. The lock only
    /// makes "check the word, then sleep" atomic against a waker's "change
    /// the word, then wake"; it guards no data.
    #[derive(Debug, Default)]
    pub(crate) struct Futex {
        word: AtomicU32,
        lock: Mutex<()>,
        cond: Condvar,
    }

    impl Futex {
        pub(crate) const fn new(value: u32) -> Self {
            Self {
                word: AtomicU32::new(value),
                lock: Mutex::new(()),
                cond: Condvar::new(),
            }
        }

        #[inline]
        pub(crate) fn load(&self, order: Ordering) -> u32 {
            self.word.load(order)
        }

        #[inline]
        pub(crate) fn fetch_add(&self, value: u32, order: Ordering) -> u32 {
            self.word.fetch_add(value, order)
        }

        pub(crate) fn wait(&self, expected: u32, timeout: Option<Duration>) {
            let guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            // Relaxed: the lock orders this load against a waker's change,
            // which it makes before taking the lock in `wake`.
            if self.word.load(Ordering::Relaxed) != expected {
                return;
            }
            match timeout {
                Some(t) => drop(self.cond.wait_timeout(guard, t)),
                None => drop(self.cond.wait(guard)),
            }
        }

        pub(crate) fn wake(&self, who: Wake) {
            // Taking the lock waits out a waiter between its check and its
            // sleep, so the notification below cannot fall between them.
            drop(self.lock.lock().unwrap_or_else(|p| p.into_inner()));
            match who {
                Wake::One => self.cond.notify_one(),
                Wake::All => self.cond.notify_all(),
            }
        }
    }
}
