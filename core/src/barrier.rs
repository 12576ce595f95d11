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
//! # Modes
//!
//! The process is in one of these modes; it only ever moves down the list.
//!
//! - `UNPROBED`: no queue exists yet.
//! - `SYMMETRIC`: membarrier is missing or refused (old kernels, seccomp,
//!   other systems, Miri). Both sides are SeqCst fences. This is decided by
//!   [`probe`] when the first queue is created, so every thread that ever
//!   uses a queue sees it.
//! - `UNREGISTERED`: membarrier is there, but registering for it costs
//!   10-20 ms, so it waits for the first thread that really parks.
//!   Notifiers already use the light side: what makes it sound is the
//!   waiter's membarrier, and no waiter sleeps before it has one.
//! - `ASYMMETRIC`: registered; waiters issue membarrier.
//! - `DEGRADED`: a membarrier failed at run time (the kernel can refuse it
//!   with ENOMEM). Some notifier may still be running on the light side it
//!   chose a moment ago, so no waiter can trust a fence to pair with it any
//!   more: [`heavy`] says so, and waiters sleep in short slices, re-checking
//!   the queue after each. Notifiers go back to SeqCst fences.
//!
//! Under loom the pair is always two SeqCst fences (see `crate::loom`),
//! which is the protocol the models check. This module is the real thing.
#![cfg(not(loom))]

use std::sync::atomic::{compiler_fence, fence, AtomicU8, Ordering};

const UNPROBED: u8 = 0;
const SYMMETRIC: u8 = 1;
const UNREGISTERED: u8 = 2;
const ASYMMETRIC: u8 = 3;
const DEGRADED: u8 = 4;

/// The process's mode; see the module docs.
static MODE: AtomicU8 = AtomicU8::new(UNPROBED);

/// Decides whether membarrier can be used, once per process. Every queue
/// calls it when it is created, so it has run before any thread can push
/// or pop. Costs one cheap system call the first time.
pub(crate) fn probe() {
    // Relaxed: the mode is a single variable whose changes are made with
    // CAS; nothing else is published through it.
    if MODE.load(Ordering::Relaxed) == UNPROBED {
        let mode = if membarrier::is_supported() {
            UNREGISTERED
        } else {
            SYMMETRIC
        };
        // Relaxed: a thread that uses a queue learned of it through some
        // synchronisation that follows the queue's creation, and so sees
        // this store (or a later mode). The CAS keeps racing probes from
        // moving the mode back up.
        let _ = MODE.compare_exchange(UNPROBED, mode, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// The hot side: orders the caller's earlier accesses before its later ones
/// when paired with a [`heavy`] barrier on another thread.
#[inline(always)]
pub(crate) fn light() {
    // Relaxed: see `probe`; a stale UNREGISTERED or ASYMMETRIC after a
    // degradation is exactly what DEGRADED waiters guard against.
    match MODE.load(Ordering::Relaxed) {
        UNREGISTERED | ASYMMETRIC => compiler_fence(Ordering::SeqCst),
        _ => fence(Ordering::SeqCst),
    }
}

/// The rare side: a full barrier on this thread and on every running
/// thread of the process.
///
/// Returns `false` when it could not be made to pair with every notifier's
/// [`light`] barrier: the caller must then not sleep without a timeout.
#[must_use]
pub(crate) fn heavy() -> bool {
    loop {
        // Relaxed: as in `light`; every transition is a CAS.
        match MODE.load(Ordering::Relaxed) {
            ASYMMETRIC => {
                if membarrier::expedited() {
                    return true;
                }
                degrade(ASYMMETRIC);
            }
            UNREGISTERED => {
                let next = if membarrier::register() {
                    ASYMMETRIC
                } else {
                    DEGRADED
                };
                // Relaxed: as in `probe`. Whoever wins, the loop goes on
                // with the mode that stands.
                let _ =
                    MODE.compare_exchange(UNREGISTERED, next, Ordering::Relaxed, Ordering::Relaxed);
            }
            SYMMETRIC => {
                fence(Ordering::SeqCst);
                return true;
            }
            DEGRADED => {
                fence(Ordering::SeqCst);
                return false;
            }
            _ => probe(),
        }
    }
}

/// Moves the process from `from` to DEGRADED, after a membarrier failed.
#[cold]
fn degrade(from: u8) {
    // Relaxed: as in `probe`.
    let _ = MODE.compare_exchange(from, DEGRADED, Ordering::Relaxed, Ordering::Relaxed);
}

/// Whether a membarrier has failed in this process, so that waiters sleep
/// in slices (see the module docs). For tests and diagnostics.
pub(crate) fn is_degraded() -> bool {
    MODE.load(Ordering::Relaxed) == DEGRADED
}

#[cfg(all(target_os = "linux", not(miri)))]
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

    /// Whether the kernel offers private expedited barriers. Cheap.
    pub(super) fn is_supported() -> bool {
        let supported = call(CMD_QUERY);
        supported >= 0
            && supported & CMD_PRIVATE_EXPEDITED != 0
            && supported & CMD_REGISTER_PRIVATE_EXPEDITED != 0
    }

    /// Registers the process for expedited barriers (once is enough; a
    /// forked child inherits it). Slow: it waits for every CPU.
    pub(super) fn register() -> bool {
        call(CMD_REGISTER_PRIVATE_EXPEDITED) == 0
    }

    /// A full barrier on every running thread of the process; false if the
    /// kernel refused it.
    pub(super) fn expedited() -> bool {
        if call(CMD_PRIVATE_EXPEDITED) == 0 {
            return true;
        }
        // EPERM means "not registered": registering again is harmless, and
        // covers whatever dropped the registration. Anything else (ENOMEM)
        // is the caller's to handle.
        register() && call(CMD_PRIVATE_EXPEDITED) == 0
    }
}

/// Elsewhere, and under Miri, which cannot run membarrier: never supported,
/// so the process stays SYMMETRIC and nothing below is called.
#[cfg(any(not(target_os = "linux"), miri))]
mod membarrier {
    pub(super) fn is_supported() -> bool {
        false
    }

    pub(super) fn register() -> bool {
        false
    }

    pub(super) fn expedited() -> bool {
        false
    }
}
