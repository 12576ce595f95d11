//! Asymmetric fences: a nearly free one for the hot path, an expensive one
//! for the rare side.
//!
//! The wake-up protocol ([`crate::wait`]) needs a full fence on both sides
//! of a Dekker pair: the notifier between publishing an item and looking for
//! sleepers, the waiter between registering and re-checking the queue. A
//! SeqCst fence on every push and pop would stall each one until its store
//! reached the other cores, the largest cost of the fast path.
//!
//! On Linux, `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` makes every
//! running thread of the process execute a full memory barrier before it
//! returns. So the rare side (a waiter about to park) issues that, and the
//! hot side only has to keep the compiler from reordering its two accesses:
//! whichever way the pair interleaves, one of them sees the other's write,
//! as with two fences. liburcu and folly's asymmetric barriers rely on the
//! same guarantee.
//!
//! Where membarrier is missing or refused (old kernels, seccomp, other
//! systems), both sides are SeqCst fences. Under loom both always are, and
//! that is the protocol the models check.

#[cfg(not(loom))]
use std::sync::atomic::{compiler_fence, AtomicU8};

use crate::loom::{fence, Ordering};

#[cfg(not(loom))]
const UNKNOWN: u8 = 0;
#[cfg(not(loom))]
const ASYMMETRIC: u8 = 1;
#[cfg(not(loom))]
const SYMMETRIC: u8 = 2;

/// Which kind of fences this process uses; set once by [`init`].
#[cfg(not(loom))]
static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Picks the fence kind for the process, once. Every queue calls it when it
/// is created, so it has run before any thread can push or pop.
pub(crate) fn init() {
    #[cfg(not(loom))]
    if MODE.load(Ordering::Relaxed) == UNKNOWN {
        let mode = if membarrier::register() {
            ASYMMETRIC
        } else {
            SYMMETRIC
        };
        // Relaxed: racing initialisers store the same value, and a thread
        // that uses a queue learned of it through some synchronisation that
        // follows the queue's creation, and with it this store.
        MODE.store(mode, Ordering::Relaxed);
    }
}

#[cfg(not(loom))]
#[inline(always)]
fn asymmetric() -> bool {
    // Relaxed: written once, before any queue exists (see `init`). A thread
    // that somehow saw UNKNOWN takes the SeqCst fence, which is always safe.
    MODE.load(Ordering::Relaxed) == ASYMMETRIC
}

/// The hot side: orders the caller's earlier accesses before its later ones
/// when paired with a [`heavy`] barrier on another thread.
#[inline(always)]
pub(crate) fn light() {
    #[cfg(not(loom))]
    if asymmetric() {
        compiler_fence(Ordering::SeqCst);
        return;
    }
    fence(Ordering::SeqCst);
}

/// The rare side: a full barrier on this thread and on every running
/// thread of the process.
pub(crate) fn heavy() {
    #[cfg(not(loom))]
    if asymmetric() {
        membarrier::expedited();
        return;
    }
    fence(Ordering::SeqCst);
}

#[cfg(all(not(loom), target_os = "linux"))]
mod membarrier {
    // The kernel's ABI values, from <linux/membarrier.h>.
    const CMD_QUERY: libc::c_long = 0;
    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    fn call(cmd: libc::c_long) -> libc::c_long {
        // SAFETY: membarrier takes two integers and touches no memory of
        // ours; an unsupported command just returns -1.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_long) }
    }

    /// Registers the process for expedited barriers; false if unsupported.
    pub(super) fn register() -> bool {
        // Miri does not emulate membarrier: symmetric fences there.
        if cfg!(miri) {
            return false;
        }
        let supported = call(CMD_QUERY);
        supported >= 0
            && supported & CMD_PRIVATE_EXPEDITED != 0
            && call(CMD_REGISTER_PRIVATE_EXPEDITED) == 0
    }

    pub(super) fn expedited() {
        // Once registered, the kernel only fails this for a bad command.
        let ok = call(CMD_PRIVATE_EXPEDITED) == 0;
        debug_assert!(ok, "membarrier failed after registration");
        if !ok {
            std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        }
    }
}

#[cfg(all(not(loom), not(target_os = "linux")))]
mod membarrier {
    pub(super) fn register() -> bool {
        false
    }

    pub(super) fn expedited() {
        unreachable!("asymmetric fences are only used on Linux")
    }
}
