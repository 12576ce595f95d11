//! Reclaiming what a dead participant held.
//!
//! Whoever finds that the holder of an entry is dead (a stalled slot, a full
//! participant table, a sweep) *recovers* the entry:
//!
//! 1. It takes the entry with one CAS from the exact word it judged dead to
//!    `recovering(me)`, so only one process recovers an entry at a time,
//!    and nothing can attach to it meanwhile.
//! 2. It records the entry's last claims (if `head` or `tail` still names
//!    it as owner) and clears the owner from those words
//!    ([`Ring::clear_owner`]). From then on every slot the dead participant
//!    held says so (`Writing(p, o)` or `Reading(p, o)`).
//! 3. It frees each of those slots ([`Ring::reclaim_all`]): a writer's slot
//!    becomes a position poppers skip, a reader's a free slot.
//! 4. It subtracts the entry's share of the sleeper counts (`wait.rs`).
//! 5. It frees the entry and wakes every waiter, so that they look again.
//!
//! Recoveries are done in batches: every dead entry found is taken in
//! step 1 before any slot is looked at, and step 3 then frees the slots of
//! all of them in one pass. So recovering one participant or a thousand
//! (dead ones, or entries a hostile peer filled with garbage) costs one
//! scan of the slots, never one scan per entry.
//!
//! Each step is idempotent and uses exact-word CASes, so a recovery that is
//! itself killed is finished by the next process that finds the recoverer
//! dead (it takes the entry from `recovering(dead)` the same way).
//!
//! # What is lost
//!
//! A participant killed in a push loses the messages of that push call
//! that it had claimed but not yet published: it never returned `Ok` for
//! them, and no popper ever sees a part of one. A participant killed in a
//! pop loses the messages that call had claimed and not yet released: one
//! for a single pop, at most the batch for a batch pop. Per thread of the
//! dead process, since each thread can be in one call. Nothing else: every
//! other published message stays in the ring, and the positions the dead
//! participant held are skipped or refilled.

use super::liveness::{self, ProcessId};
use super::participants::{self, Holder, Ident};
use super::ring::Ring;
use super::segment::{EntryIndex, Segment, Side};
use super::wait;
use super::words::{Owner, OwnerSet};
use crate::loom::Ordering;

/// Takes a free participant entry for process `me`; when none is free,
/// recovers the entries of dead processes first. `None` when every entry
/// belongs to a live process.
pub(crate) fn attach(seg: &Segment, me: ProcessId) -> Option<(EntryIndex, Owner)> {
    participants::try_attach(seg, me).or_else(|| {
        recover_dead(seg, me);
        participants::try_attach(seg, me)
    })
}

/// Recovers every entry whose holder (or recoverer) is dead, or whose word
/// is damaged, in one batch. Returns how many this call recovered.
pub(crate) fn recover_dead(seg: &Segment, me: ProcessId) -> usize {
    let mut batch = Recovery::new(seg, me);
    batch.take_dead(|p| liveness::is_alive(seg, p));
    batch.finish()
}

/// A batch of recoveries under way: [`take`](Self::take) does step 1 for
/// one entry, [`finish`](Self::finish) the rest for all of them. Split so
/// that crash tests can stop a recoverer in between.
pub(crate) struct Recovery<'a> {
    seg: &'a Segment,
    me: ProcessId,
    /// Each taken entry, with its owner and the word it holds now.
    taken: Vec<(EntryIndex, Owner, u64)>,
    owners: OwnerSet,
}

impl<'a> Recovery<'a> {
    /// An empty batch for recoverer `me`.
    pub(crate) fn new(seg: &'a Segment, me: ProcessId) -> Self {
        Self {
            seg,
            me,
            taken: Vec::new(),
            owners: OwnerSet::default(),
        }
    }

    /// Takes entry `index` from the word `seen` (found dead, or damaged);
    /// `false` if the word changed meanwhile (someone else recovers it, or
    /// it was never dead).
    pub(crate) fn take(&mut self, index: EntryIndex, seen: u64) -> bool {
        let (Some(mine), Some(owner)) = (
            Ident::Recovering(self.me).encode(),
            Owner::of_index(index.get()),
        ) else {
            return false;
        };
        // Acquire: after the liveness check that found the holder dead, and
        // so (through /proc or the model's flag) after everything it did.
        let taken = self
            .seg
            .entry(index)
            .ident
            .compare_exchange(seen, mine, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok();
        if taken {
            self.taken.push((index, owner, mine));
            self.owners.insert(owner);
        }
        taken
    }

    /// Takes every entry whose holder (or recoverer) `alive` says is dead,
    /// and every damaged one. Each holder is checked once.
    pub(crate) fn take_dead(&mut self, alive: impl Fn(ProcessId) -> bool) {
        for index in self.seg.entries() {
            let Some(owner) = Owner::of_index(index.get()) else {
                continue;
            };
            if self.owners.contains(owner) {
                continue;
            }
            match participants::holder(self.seg, owner) {
                Holder::Process(entry, p, raw) | Holder::BeingRecovered(entry, p, raw)
                    if p != self.me && !alive(p) =>
                {
                    self.take(entry, raw);
                }
                Holder::Garbage(entry, raw) => {
                    self.take(entry, raw);
                }
                _ => {}
            }
        }
    }

    /// Steps 2 to 5 for every entry taken (see the module docs), with one
    /// pass over the slots. Returns how many entries were recovered.
    pub(crate) fn finish(self) -> usize {
        let seg = self.seg;
        if self.taken.is_empty() {
            return 0;
        }
        let ring = Ring::new(seg);
        for &(_, owner, _) in &self.taken {
            ring.clear_owner(owner);
        }
        #[cfg(feature = "test-hooks")]
        passes::note();
        ring.reclaim_all(&self.owners);
        for &(index, _, mine) in &self.taken {
            let entry = seg.entry(index);
            for side in Side::ALL {
                // AcqRel: a concurrent recoverer (after a takeover) sees the zero.
                let share = entry.sleepers[side as usize].swap(0, Ordering::AcqRel);
                if share > 0 {
                    let (sleepers, _) = seg.waiters(side);
                    // Relaxed: a count; saturating, because a damaged count must
                    // not wrap into a huge one.
                    let _ = sleepers.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                        Some(n.saturating_sub(share))
                    });
                }
            }
            // Release: everything above happens before the entry's next holder
            // attaches (with Acquire).
            let _ = entry
                .ident
                .compare_exchange(mine, 0, Ordering::Release, Ordering::Relaxed);
        }
        for side in Side::ALL {
            wait::notify(seg, side, true);
        }
        self.taken.len()
    }
}

/// How many passes over the slots recoveries have made in this process,
/// for the tests that check a batch costs one.
#[cfg(feature = "test-hooks")]
pub(crate) mod passes {
    use std::sync::atomic::{AtomicU64, Ordering};

    static PASSES: AtomicU64 = AtomicU64::new(0);

    pub(crate) fn note() {
        // Relaxed: a statistic.
        PASSES.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count() -> u64 {
        // Relaxed: a statistic.
        PASSES.load(Ordering::Relaxed)
    }
}
