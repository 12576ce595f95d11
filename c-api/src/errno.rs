//! Keeping `errno` as the caller left it.
//!
//! A blocked call can leave `errno` set by a system call that the queue
//! retried or expected to fail (`ETIMEDOUT` from a timed park, `EINTR` from a
//! signal, `EAGAIN` from a futex whose value moved). None of that is the C
//! caller's business, and a caller that checks `errno` after its own calls
//! must not be misled, so every exported function saves `errno` on entry and
//! puts it back before returning.

use std::ffi::c_int;

/// The calling thread's `errno`, saved to be put back by [`restore`].
///
/// [`restore`]: SavedErrno::restore
pub(crate) struct SavedErrno {
    location: *mut c_int,
    value: c_int,
}

impl SavedErrno {
    /// Saves the calling thread's `errno`.
    #[inline(always)]
    pub(crate) fn save() -> Self {
        let location = errno_location();
        // SAFETY: `errno_location` returns the calling thread's errno, which
        // is valid for reads and writes for as long as the thread lives, and
        // `SavedErrno` never leaves the thread (it is neither Send nor Sync,
        // holding a raw pointer).
        let value = unsafe { location.read() };
        Self { location, value }
    }

    /// Puts the saved value back.
    #[inline(always)]
    pub(crate) fn restore(self) {
        // SAFETY: see `save`; this is the same thread's errno.
        unsafe { self.location.write(self.value) }
    }
}

#[inline(always)]
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

    #[test]
    fn restore_puts_back_the_saved_value() {
        // SAFETY: the calling thread's errno, as in `save`.
        unsafe { errno_location().write(libc::EDOM) };
        let saved = SavedErrno::save();
        // SAFETY: as above.
        unsafe { errno_location().write(libc::ETIMEDOUT) };
        saved.restore();
        // SAFETY: as above.
        assert_eq!(unsafe { errno_location().read() }, libc::EDOM);
    }
}
