//! A pause point inside the claim-to-publish window, so that crash
//! tests can kill a process exactly there. Compiled only with the
//! `test-hooks` feature, which the crate's own tests enable.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI64, Ordering};

use super::ShmQueue;

/// Where an operation pauses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[doc(hidden)]
pub enum Point {
    /// A push has claimed its slots and written nothing.
    PushClaimed = 1,
    /// A pop has claimed its messages and read nothing.
    PopClaimed = 2,
    /// A push or pop found a dead holder and took its entry for
    /// recovery, and has reclaimed nothing yet.
    Recovering = 3,
}

/// `point << 32 | fd`, or 0 when unarmed.
#[derive(Debug, Default)]
pub(super) struct Pause(AtomicI64);

impl Pause {
    #[inline]
    pub(super) fn at(&self, point: Point) {
        // Relaxed: armed before the operation by the same thread.
        let armed = self.0.load(Ordering::Relaxed);
        if armed != 0 && armed >> 32 == point as i64 {
            let fd = (armed & 0xffff_ffff) as RawFd;
            // SAFETY: writes one byte from a local to a descriptor the
            // test passed in; a failure is ignored.
            unsafe { libc::write(fd, b"p".as_ptr().cast(), 1) };
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
    }
}

impl ShmQueue {
    /// Makes the next operation that reaches `point` write one byte to
    /// `fd` and then sleep forever (for the test to kill the process).
    #[doc(hidden)]
    pub fn pause_at(&self, point: Point, fd: RawFd) {
        // Relaxed: read by this thread's next operation.
        self.pause
            .0
            .store(((point as i64) << 32) | i64::from(fd), Ordering::Relaxed);
    }
}

/// How many passes over the slots recoveries have made in this process (a
/// batch of any number of dead participants makes one).
#[doc(hidden)]
pub fn recovery_passes() -> u64 {
    crate::shm::recovery::passes::count()
}
