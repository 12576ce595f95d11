//! Blocking across processes: spin briefly, then sleep on a futex word in
//! the segment, with no lost wake-ups and no system call when nobody waits.
//!
//! Each kind of waiter (poppers, pushers, joiners) has a `sleepers` count
//! and an `epoch` word in the header. It is the event count of
//! `crate::wait`, with one difference: the asymmetric barrier pair there
//! (`membarrier`) only reaches the threads of one process, so here both
//! sides of the Dekker pair are SeqCst fences.
//!
//! ```text
//! waiter                               notifier
//! sleepers += 1                        publish (slot word, Release)
//! fence(SeqCst)           <- total ->  fence(SeqCst)
//! e = epoch; check queue               if sleepers > 0 { epoch += 1; futex_wake }
//! futex_wait(epoch, e)
//! ```
//!
//! Whichever fence comes first in their total order, either the waiter's
//! check sees the change, or the notifier sees the sleeper and bumps the
//! epoch, which the futex compares with `e` atomically with going to sleep.
//! When `sleepers` is zero a notification is a fence and one load.
//!
//! # Dead processes
//!
//! A waiter counts itself in the header and in its own participant entry;
//! recovery of a dead participant subtracts its share (see `recovery.rs`),
//! so a process killed while asleep does not leave notifiers paying for a
//! futex wake forever. The increments and decrements are ordered so that the
//! entry's count never exceeds its share of the header's: a process killed
//! between them leaves the header count too high (harmless), never too low.
//!
//! A process can also be killed just after a wake-up picked one of its
//! threads, before that thread took what it was woken for. So sleeps last at
//! most [`IDLE_SLICE`] even without a deadline: another waiter then finds
//! the item on its own. While the queue waits on a participant that holds a
//! slot (a stalled writer or reader), sleeps last at most [`STALL_SLICE`],
//! after which the waiter checks whether that participant is still alive.

use std::time::{Duration, Instant};

use crate::futex::Wake;
use crate::loom::{fence, has_passed, time_left, AtomicU32, Backoff, Ordering};

use super::segment::{Segment, Side};

/// The longest sleep without a deadline; see the module docs.
pub(crate) const IDLE_SLICE: Duration = Duration::from_millis(100);
/// The longest sleep while a participant holds the slot waited for.
pub(crate) const STALL_SLICE: Duration = Duration::from_millis(10);

/// A futex word in the segment.
#[cfg(not(loom))]
pub(crate) struct Epoch<'a>(&'a AtomicU32);

#[cfg(not(loom))]
impl<'a> Epoch<'a> {
    pub(crate) fn new(word: &'a AtomicU32) -> Self {
        Self(word)
    }

    fn load(&self, order: Ordering) -> u32 {
        self.0.load(order)
    }

    fn bump(&self) {
        // Release: a waiter that reads this epoch (with Acquire) also sees
        // the change that preceded the notification.
        self.0.fetch_add(1, Ordering::Release);
    }

    fn wait(&self, expected: u32, timeout: Option<Duration>) {
        crate::futex::wait_shared(self.0, expected, timeout);
    }

    /// Wakes sleepers; returns how many woke.
    fn wake(&self, who: Wake) -> usize {
        crate::futex::wake_shared(self.0, who)
    }
}

/// The model futex stands in for the segment's word under loom.
#[cfg(loom)]
pub(crate) struct Epoch<'a>(&'a crate::loom::Futex);

#[cfg(loom)]
impl<'a> Epoch<'a> {
    pub(crate) fn new(word: &'a crate::loom::Futex) -> Self {
        Self(word)
    }

    fn load(&self, order: Ordering) -> u32 {
        self.0.load(order)
    }

    fn bump(&self) {
        // Release: as outside loom.
        self.0.fetch_add(1, Ordering::Release);
    }

    fn wait(&self, expected: u32, timeout: Option<Duration>) {
        self.0.wait(expected, timeout);
    }

    /// The model cannot count: it reports one wake-up.
    fn wake(&self, who: Wake) -> usize {
        self.0.wake(who);
        1
    }
}

/// Wakes one (or every) waiter of `side`, if any sleeps. Call it after the
/// change that lets a waiter proceed is visible.
///
/// Returns `Some(woken)` when it found sleepers and made the system call,
/// `None` when nobody was counted as sleeping.
#[inline]
pub(crate) fn notify(seg: &Segment, side: Side, all: bool) -> Option<usize> {
    // Pairs with the waiter's fence in `wait_until`; see the module docs.
    fence(Ordering::SeqCst);
    let (sleepers, epoch) = seg.waiters(side);
    // Relaxed: the fence above orders it after the caller's change.
    if sleepers.load(Ordering::Relaxed) == 0 {
        return None;
    }
    Some(notify_slow(&epoch, all))
}

#[cold]
fn notify_slow(epoch: &Epoch<'_>, all: bool) -> usize {
    epoch.bump();
    epoch.wake(if all { Wake::All } else { Wake::One })
}

/// What a waiter's attempt found.
pub(crate) enum Poll<R> {
    /// Done: stop waiting.
    Ready(R),
    /// Not yet. `stalled` says the queue waits on a participant that holds
    /// a slot, so the next attempt should come within [`STALL_SLICE`].
    Pending { stalled: bool },
}

/// Blocks until `ready` returns [`Poll::Ready`] or `deadline` passes.
///
/// `ready` is tried while spinning, then between sleeps on `side`'s futex;
/// it runs with no lock held, must not block, and is always tried once more
/// after the last sleep, so a notification racing with the deadline is not
/// lost. A deadline that has already passed tries it exactly once. `mine`
/// is this participant's share of the sleepers of `side`.
pub(crate) fn wait_until<R>(
    seg: &Segment,
    side: Side,
    mine: &AtomicU32,
    deadline: Option<Instant>,
    mut ready: impl FnMut() -> Poll<R>,
) -> Option<R> {
    let backoff = Backoff::new();
    loop {
        if let Poll::Ready(r) = ready() {
            return Some(r);
        }
        if deadline.is_some_and(has_passed) {
            return None;
        }
        if backoff.is_completed() {
            break;
        }
        backoff.snooze();
    }

    let (sleepers, epoch) = seg.waiters(side);
    // Header first, then the entry: see the module docs. Relaxed: the
    // fence below orders both before the next check.
    sleepers.fetch_add(1, Ordering::Relaxed);
    mine.fetch_add(1, Ordering::Relaxed);
    let _registered = Registration { sleepers, mine };
    let mut slept = false;
    loop {
        // Pairs with the notifier's fence in `notify`.
        fence(Ordering::SeqCst);
        // Acquire: pairs with the Release bump in `Epoch::bump`.
        let seen = epoch.load(Ordering::Acquire);
        let stalled = match ready() {
            Poll::Ready(r) => return Some(r),
            Poll::Pending { stalled } => stalled,
        };
        let slice = if stalled { STALL_SLICE } else { IDLE_SLICE };
        let timeout = match deadline {
            Some(d) => time_left(d, slept)?.min(slice),
            None => slice,
        };
        // Under loom a timed wait returns at once; an idle waiter there
        // sleeps until notified, which is what the models check.
        #[cfg(loom)]
        let timeout = (stalled || deadline.is_some()).then_some(timeout);
        #[cfg(not(loom))]
        let timeout = Some(timeout);
        epoch.wait(seen, timeout);
        slept = true;
    }
}

/// Keeps a waiter counted while it is in the sleeping loop, and uncounts
/// it however the loop ends (a panicking `ready` included).
struct Registration<'a> {
    sleepers: &'a AtomicU32,
    mine: &'a AtomicU32,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        // Entry first, then the header: see the module docs. Relaxed: a
        // stale count only costs a notifier one spare wake call.
        self.mine.fetch_sub(1, Ordering::Relaxed);
        self.sleepers.fetch_sub(1, Ordering::Relaxed);
    }
}
