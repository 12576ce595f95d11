//! [`ShmQueue`]: the handle a process holds on a shared-memory queue.
//!
//! This file has the handle and what its operations share (stall
//! resolution, wake-ups); `push.rs`, `pop.rs` and `state.rs` the public
//! operations; `open.rs` creates and opens segments; `me.rs` tracks which
//! participant entry the handle holds (across forks); `model.rs` has the
//! loom entry points and `hooks.rs` the crash-test hooks.

#[cfg(feature = "test-hooks")]
mod hooks;
mod me;
#[cfg(loom)]
mod model;
#[cfg(not(loom))]
mod open;
mod pop;
mod push;
mod state;

#[cfg(feature = "test-hooks")]
pub use hooks::{recovery_passes, Point as PausePoint};

use std::fmt;
#[cfg(not(loom))]
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::time::Instant;

use super::error::ShmError;
use super::liveness::{self, ProcessId};
use super::participants::{self, Holder};
use super::recovery;
use super::ring::{Attempt, Ring, Stall};
use super::segment::{EntryIndex, Segment, Side};
use super::wait::{self, Poll};
#[cfg(not(loom))]
use super::watch::Event;
use super::words::Owner;

/// How a step of a push or pop ended without an error.
enum Step<R> {
    Done(R),
    /// Full (push) or empty (pop); `stalled` when that is because another
    /// participant holds the slot.
    Unavailable {
        stalled: bool,
    },
}

/// Which participant this handle is, in this process.
#[derive(Clone, Copy, Debug)]
struct Participant {
    owner: Owner,
    entry: EntryIndex,
}

/// A handle on a shared-memory queue of byte messages. See the
/// [module docs](super) for what it is and how it works.
///
/// Every method takes `&self`: share one handle between the threads of a
/// process (in an `Arc`, or by reference), and give each process its own
/// (by name with [`open`](Self::open), or by descriptor with
/// [`from_fd`](Self::from_fd)). A handle copied into a child by `fork`
/// keeps working there: it takes a participant entry of the child's own at
/// its first use.
///
/// # Examples
///
/// ```
/// use ringq::shm::{ShmOptions, ShmQueue};
///
/// let q = ShmQueue::create_anonymous(&ShmOptions::new(8, 64)).unwrap();
/// q.push(b"job 1").unwrap();
/// let mut buf = Vec::new();
/// q.pop(&mut buf).unwrap();
/// assert_eq!(buf, b"job 1");
/// ```
pub struct ShmQueue {
    seg: Segment,
    #[cfg(not(loom))]
    fd: std::os::fd::OwnedFd,
    name: Option<String>,
    me: me::Me,
    /// Wake calls in a row that found sleepers counted but woke nobody: a
    /// hint that a dead process left its count behind (see `notify`).
    fruitless_wakes: std::sync::atomic::AtomicU32,
    /// The last holder of a stalled slot found alive; see `liveness.rs`.
    alive_cache: liveness::AliveCache,
    #[cfg(feature = "test-hooks")]
    pause: hooks::Pause,
}

/// After this many fruitless wake calls a handle sweeps the participant
/// table for dead processes.
const FRUITLESS_WAKES_BEFORE_SWEEP: u32 = 1024;

impl ShmQueue {
    #[inline]
    fn ring(&self) -> Ring<'_> {
        Ring::new(&self.seg)
    }

    #[inline]
    fn max_message(&self) -> usize {
        self.seg.layout().max_message
    }

    #[inline]
    fn participant(&self) -> Result<Participant, ShmError> {
        self.me.get(&self.seg)
    }

    /// This process, as recoveries name their recoverer.
    fn process(&self) -> ProcessId {
        self.me.process()
    }

    fn alive(&self, p: ProcessId) -> bool {
        self.alive_cache.is_alive(&self.seg, p)
    }

    /// Checks the holder of a stalled slot. Returns `true` when it is gone
    /// and what it held was reclaimed (try again), `false` while it lives.
    #[cold]
    fn resolve(&self, stall: &Stall) -> bool {
        let me = self.process();
        let (entry, seen) = match participants::holder(&self.seg, stall.owner) {
            Holder::Process(entry, p, raw) => {
                if self.alive(p) {
                    return false;
                }
                (entry, raw)
            }
            Holder::BeingRecovered(entry, p, raw) => {
                // Another recoverer: wait for it while it lives, take over
                // if it died.
                if p == me || self.alive(p) {
                    return false;
                }
                (entry, raw)
            }
            Holder::Garbage(entry, raw) => (entry, raw),
            Holder::Nobody => {
                self.ring().reclaim(stall);
                return true;
            }
        };
        // Every other dead holder is recovered in the same batch, so that
        // a popper meeting the stalls of many dead processes scans the
        // slots once, not once per process.
        let mut batch = recovery::Recovery::new(&self.seg, me);
        if batch.take(entry, seen) {
            batch.take_dead(|p| self.alive(p));
            #[cfg(feature = "test-hooks")]
            self.pause.at(hooks::Point::Recovering);
            batch.finish();
        }
        true
    }

    /// Waits until `deadline` until a claim on `side` could succeed,
    /// claiming nothing: `claim` asks the claim path for zero slots, so
    /// stalls are resolved and Closed is reported as for a real claim.
    fn wait_without_claiming(
        &self,
        side: Side,
        deadline: Option<Instant>,
        claim: impl Fn(&Ring<'_>, Owner) -> Result<Attempt, ShmError>,
    ) -> Result<(), ShmError> {
        let me = self.participant()?;
        let mine = self.seg.entry(me.entry).sleepers[side as usize];
        wait::wait_until(&self.seg, side, mine, deadline, || {
            self.poll_claim(me, &claim)
        })
        .unwrap_or(Err(ShmError::TimedOut))
    }

    /// One check of [`wait_without_claiming`](Self::wait_without_claiming):
    /// ready when a claim of zero slots succeeds or reports Closed or an
    /// error; stalls of dead participants are resolved on the way.
    fn poll_claim(
        &self,
        me: Participant,
        claim: &impl Fn(&Ring<'_>, Owner) -> Result<Attempt, ShmError>,
    ) -> Poll<Result<(), ShmError>> {
        let ring = self.ring();
        let mut budget = self.stall_budget();
        loop {
            match claim(&ring, me.owner) {
                Ok(Attempt::Claimed(_)) => return Poll::Ready(Ok(())),
                Ok(Attempt::Unavailable) => return Poll::Pending { stalled: false },
                Ok(Attempt::Closed) => return Poll::Ready(Err(ShmError::Closed)),
                Ok(Attempt::Stalled(stall)) => {
                    if !self.resolve(&stall) {
                        return Poll::Pending { stalled: true };
                    }
                    budget -= 1;
                    if budget == 0 {
                        return Poll::Ready(Err(ShmError::Corrupt("stalls keep coming back")));
                    }
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Waits, with no deadline, until `event` may have happened or `stop`
    /// is set: the sleep of a [`Watch`](crate::shm::Watch)'s thread. Errors
    /// count as "happened": the caller's next operation reports them.
    #[cfg(not(loom))]
    pub(crate) fn wait_for_event(&self, event: Event, stop: &AtomicBool) {
        let side = event.side();
        let Ok(me) = self.participant() else { return };
        let mine = self.seg.entry(me.entry).sleepers[side as usize];
        let claim_pop = |ring: &Ring<'_>, owner| ring.try_claim_pop(owner, 0);
        let claim_push = |ring: &Ring<'_>, owner| ring.try_claim_push(owner, 0);
        wait::wait_until(&self.seg, side, mine, None, || {
            // Acquire: pairs with the Release store of the watch's drop.
            if stop.load(AtomicOrdering::Acquire) {
                return Poll::Ready(());
            }
            let polled = match event {
                Event::Message => self.poll_claim(me, &claim_pop),
                Event::Room => self.poll_claim(me, &claim_push),
                Event::TasksDone if crate::shm::tasks::unfinished(&self.seg) == 0 => {
                    Poll::Ready(Ok(()))
                }
                Event::TasksDone => Poll::Pending { stalled: false },
            };
            match polled {
                Poll::Ready(_) => Poll::Ready(()),
                Poll::Pending { stalled } => Poll::Pending { stalled },
            }
        });
    }

    /// Wakes one other waiter for `event` (a watch that was woken passes
    /// the wake-up on, so that it never steals one from a blocked call), or
    /// all of them (a watch that stops wakes its own thread that way).
    #[cfg(not(loom))]
    pub(crate) fn wake_waiters(&self, event: Event, all: bool) {
        self.notify(event.side(), all);
    }

    /// Recovers every participant entry whose process has died without
    /// detaching (killed, or exited without dropping its handles), and
    /// returns how many it recovered.
    ///
    /// Queues do this on their own whenever they wait on a dead process's
    /// slot or need a free entry; call it to tidy up eagerly, for example
    /// after a worker process was killed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// assert_eq!(q.recover_dead(), 0);
    /// ```
    pub fn recover_dead(&self) -> usize {
        recovery::recover_dead(&self.seg, self.process())
    }

    /// Wakes waiters of `side`, and sweeps for dead participants when wake
    /// calls keep finding sleepers counted that are not there.
    #[inline]
    fn notify(&self, side: Side, all: bool) {
        if let Some(woken) = wait::notify(&self.seg, side, all) {
            self.note_wake(woken);
        }
    }

    #[cold]
    fn note_wake(&self, woken: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        // Relaxed: a heuristic counter of this process.
        if woken > 0 {
            self.fruitless_wakes.store(0, Relaxed);
        } else if self.fruitless_wakes.fetch_add(1, Relaxed) + 1 >= FRUITLESS_WAKES_BEFORE_SWEEP {
            self.fruitless_wakes.store(0, Relaxed);
            self.recover_dead();
        }
    }

    /// How many stalls one push or pop step may clear before it concludes
    /// the segment is damaged: each clears a dead participant or one of
    /// the slots of one, and a correct ring holds at most a lap of slots
    /// and a table of participants.
    fn stall_budget(&self) -> usize {
        let layout = self.seg.layout();
        2 * (layout.capacity + layout.participants)
    }

    /// Checks that a message of `len` bytes fits.
    #[inline]
    fn check_len(&self, len: usize) -> Result<(), ShmError> {
        let max = self.max_message();
        if len > max {
            return Err(ShmError::TooLarge { len, max });
        }
        Ok(())
    }
}

impl fmt::Debug for ShmQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShmQueue")
            .field("name", &self.name)
            .field("capacity", &self.capacity())
            .field("max_message_size", &self.max_message())
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Drop for ShmQueue {
    fn drop(&mut self) {
        self.me.detach(&self.seg);
    }
}
