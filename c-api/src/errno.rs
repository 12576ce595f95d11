//! Keeping `errno` as the caller left it.
//!
//! A call that sleeps can leave `errno` set by a system call that the queue
//! retried or expected to fail: `ETIMEDOUT` from a timed sleep, `EINTR` from
//! a signal, `EAGAIN` from a futex whose word moved. Creating a queue can
//! leave `ENOMEM` or `ENOSYS` behind. None of that is the C caller's business,
//! and a caller that checks `errno` after its own calls must not be misled,
//! so those calls run inside [`preserving_errno`].
//!
//! The calls that never sleep (the `try_*` calls, `close` and the queries)
//! make at most two kinds of system call, neither of which can fail: a
//! futex wake, to wake a sleeping thread, and `sched_yield`, to back off
//! while another thread finishes a step. So they leave `errno` alone without
//! paying for saving it, which would be a sizeable share of a push or pop
//! that costs a few nanoseconds. The C tests check `errno` around every call,
//! the waking ones included.

use std::ffi::c_int;
use std::sync::atomic::{compiler_fence, Ordering};

/// Runs `f` and puts the calling thread's `errno` back as it was before,
/// whatever `f` did to it, even if `f` panics.
///
/// The accesses are volatile and fenced because the optimiser gets errno
/// wrong: LLVM models `malloc` as touching no memory the program can see,
/// so after inlining `f` it removed the restore on the path where an
/// allocation failed (a store of the value it believed was still there),
/// and `ENOMEM` leaked out of `ringq_bounded_new`. Volatile accesses cannot
/// be removed, and the fences keep them on their side of `f`.
#[inline]
pub(crate) fn preserving_errno<R>(f: impl FnOnce() -> R) -> R {
    let _saved = SavedErrno::save();
    compiler_fence(Ordering::SeqCst);
    let result = f();
    compiler_fence(Ordering::SeqCst);
    result
}

/// The calling thread's `errno`, put back when this is dropped.
struct SavedErrno {
    location: *mut c_int,
    value: c_int,
}

impl SavedErrno {
    #[inline]
    fn save() -> Self {
        let location = errno_location();
        // SAFETY: `errno_location` returns the calling thread's errno, which
        // is valid for reads and writes for as long as the thread lives, and
        // `SavedErrno` never leaves the thread (it is neither Send nor Sync,
        // holding a raw pointer).
        let value = unsafe { location.read_volatile() };
        Self { location, value }
    }
}

impl Drop for SavedErrno {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: see `save`; this is the same thread's errno.
        unsafe { self.location.write_volatile(self.value) }
    }
}

#[inline]
fn errno_location() -> *mut c_int {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: no preconditions; returns the calling thread's errno.
    return unsafe { libc::__errno_location() };
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    // SAFETY: no preconditions; returns the calling thread's errno.
    return unsafe { libc::__error() };
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd"
)))]
compile_error!("ringq-c: no errno accessor for this target; add one to errno.rs");

#[cfg(test)]
mod tests {
    use super::*;

    fn set_errno(value: c_int) {
        // SAFETY: the calling thread's errno, as in `SavedErrno::save`.
        unsafe { errno_location().write(value) };
    }

    fn errno() -> c_int {
        // SAFETY: as above.
        unsafe { errno_location().read() }
    }

    #[test]
    fn errno_is_put_back_after_the_call() {
        set_errno(libc::EDOM);
        let out = preserving_errno(|| {
            set_errno(libc::ETIMEDOUT);
            7
        });
        assert_eq!((out, errno()), (7, libc::EDOM));
    }

    #[test]
    fn errno_is_put_back_after_a_panic() {
        set_errno(libc::EDOM);
        let outcome = std::panic::catch_unwind(|| {
            preserving_errno(|| {
                set_errno(libc::EINTR);
                panic!("boom")
            })
        });
        assert!(outcome.is_err());
        assert_eq!(errno(), libc::EDOM);
    }
}
