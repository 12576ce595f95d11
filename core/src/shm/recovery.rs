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
use super::words::Owner;
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
/// is damaged. Returns how many this call recovered.
pub(crate) fn recover_dead(seg: &Segment, me: ProcessId) -> usize {
    seg.entries()
        .filter(|&entry| {
            let Some(owner) = Owner::of_index(entry.get()) else {
                return false;
            };
            match participants::holder(seg, owner) {
                Holder::Process(entry, p, raw) | Holder::BeingRecovered(entry, p, raw)
                    if p != me && !liveness::is_alive(seg, p) =>
                {
                    recover(seg, entry, raw, me)
                }
                Holder::Garbage(entry, raw) => recover(seg, entry, raw, me),
                _ => false,
            }
        })
        .count()
}

/// Recovers entry `index`, whose word was `seen` when its holder was found
/// dead (or its word damaged). `me` is the recovering process. Returns
/// whether this call did it (`false`: the word changed, someone else did).
pub(crate) fn recover(seg: &Segment, index: EntryIndex, seen: u64, me: ProcessId) -> bool {
    match Recovery::begin(seg, index, seen, me) {
        Some(recovery) => {
            recovery.finish();
            true
        }
        None => false,
    }
}

/// A recovery under way: the entry is taken (step 1); [`finish`](Self::finish)
/// does the rest. Split so that crash tests can stop a recoverer in between.
pub(crate) struct Recovery<'a> {
    seg: &'a Segment,
    index: EntryIndex,
    owner: Owner,
    mine: u64,
}

impl<'a> Recovery<'a> {
    /// Takes entry `index` from the word `seen` for recoverer `me`; `None`
    /// if the word changed meanwhile (someone else recovers it, or it was
    /// never dead).
    pub(crate) fn begin(
        seg: &'a Segment,
        index: EntryIndex,
        seen: u64,
        me: ProcessId,
    ) -> Option<Self> {
        let mine = Ident::Recovering(me).encode()?;
        let owner = Owner::of_index(index.get())?;
        // Acquire: after the liveness check that found the holder dead, and
        // so (through /proc or the model's flag) after everything it did.
        seg.entry(index)
            .ident
            .compare_exchange(seen, mine, Ordering::AcqRel, Ordering::Relaxed)
            .ok()?;
        Some(Self {
            seg,
            index,
            owner,
            mine,
        })
    }

    /// Steps 2 to 5; see the module docs.
    pub(crate) fn finish(self) {
        let seg = self.seg;
        let entry = seg.entry(self.index);
        let ring = Ring::new(seg);
        ring.clear_owner(self.owner);
        ring.reclaim_all(self.owner);
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
            .compare_exchange(self.mine, 0, Ordering::Release, Ordering::Relaxed);
        for side in Side::ALL {
            wait::notify(seg, side, true);
        }
    }
}
