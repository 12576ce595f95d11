//! The ring protocol: claiming, publishing and releasing slots, with every
//! claim attributable to its owner so that a dead owner's slots can be
//! reclaimed.
//!
//! # The fast path
//!
//! It is Vyukov's bounded MPMC queue as in [`crate::mpmc`]: a pusher finds
//! the slot at `tail` free (`Empty(t)`), claims positions `t..t+n` with one
//! CAS on `tail`, writes, and publishes each slot with a Release store of
//! `Full(p)`. A popper finds `Full(h)` at `head`, claims with one CAS on
//! `head`, copies the message out, and releases the slot with a Release
//! store of `Empty(h + one_lap)`. The closed bit lives in `tail`, so a push
//! either lands before `close` (and is drained) or fails.
//!
//! # Knowing who holds a slot
//!
//! A process can be killed between its CAS and its publish (or release).
//! The slot then stays `Empty(p)` (or `Full(p)`) forever, and everyone who
//! reaches it must learn who claimed it, to check that the claimer is dead
//! and reclaim the slot. A claimer cannot write its name into the slot
//! *before* its CAS (it does not own the slot yet) nor rely on doing it
//! after (it may be killed in between). So the CAS itself records it: the
//! new `head`/`tail` word carries the claimer as its *owner*. That names the
//! owner of the *last* claim only, so before anyone moves `head`/`tail`
//! again, they write the last claim's owner into its unpublished slots:
//! `Empty(p)` becomes `Writing(p, owner)`, and (on the pop side) `Full(p)`
//! becomes `Reading(p, owner)`. This is the *walk*
//! ([`Ring::record_push_claim`], [`Ring::record_pop_claim`]): from the slot
//! before `tail` backwards, while slots are unrecorded or recorded for that
//! same owner. It gives the invariant the rest rests on:
//!
//! > When `tail` is `(T, o)`, every `Empty(p)` slot with `p < T` belongs to
//! > the claim that installed `(T, o)`, whose owner is `o`. Mirror-wise for
//! > `Full(p)` slots with `p < head` on the pop side.
//!
//! because every earlier claim was recorded before the CAS that moved the
//! word past it (Release on that CAS, Acquire on every load of the word).
//! The owner publishes (or releases) its claimed slots in order, so a walk
//! that stops at a published slot has recorded everything before it.
//!
//! On the fast path the walk costs one load: the slot before `tail` is
//! normally already published.
//!
//! # Stalls
//!
//! A popper that finds `Empty(h)` with `tail > h`, or `Writing(h, o)`, waits
//! for a writer; a pusher that finds its slot still `Full`/`Reading` from the
//! previous lap with `head` past it waits for a reader. After a short spin
//! the ring records the owner if needed (one CAS, valid by the invariant)
//! and reports a [`Stall`]. The caller (`queue.rs`) checks that owner:
//! alive, and the operation reports full or empty; dead, and recovery
//! (`recovery.rs`) reclaims the slot, after which the operation retries.
//!
//! A reclaimed writer's slot becomes `Empty(p + one_lap)` without ever
//! holding a message; a popper at `head == p` that finds a later position in
//! the slot while `head` has not moved *skips* it: it moves `head` on with
//! owner 0 (after recording the last claim, as for any move).
//!
//! # Corruption
//!
//! Every word is checked where it is used: a position whose index is not
//! below the capacity, or a slot word whose position makes no sense where
//! it was found, is re-read once, and if `head`/`tail` did not move
//! meanwhile (a correct peer always moves them first) the call fails with
//! [`ShmError::Corrupt`]. No word read from the segment is used to index
//! memory before it has been checked.

use super::error::ShmError;
use super::segment::{Segment, Side};
use super::wait;
use super::words::{Geometry, IndexWord, Owner, OwnerSet, Pos, SlotIndex, SlotWord, State};
use crate::loom::{fence, Backoff, Ordering};

/// Positions `start..start + count` (in ring order) claimed by one CAS.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Claim {
    pub(crate) start: Pos,
    /// The slot of `start`.
    pub(crate) first: SlotIndex,
    pub(crate) count: usize,
}

/// The positions of a claim with their slots, in order.
pub(crate) struct Claimed {
    geo: Geometry,
    pos: Pos,
    index: SlotIndex,
    left: usize,
}

impl Iterator for Claimed {
    type Item = (Pos, SlotIndex);

    #[inline]
    fn next(&mut self) -> Option<(Pos, SlotIndex)> {
        if self.left == 0 {
            return None;
        }
        let item = (self.pos, self.index);
        self.left -= 1;
        self.pos = self.geo.next(self.pos);
        self.index = self.geo.next_index(self.index);
        Some(item)
    }
}

/// A slot held by a participant that has not finished with it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stall {
    pub(crate) owner: Owner,
    pub(crate) index: SlotIndex,
    /// The slot's word when the stall was seen (with the owner recorded).
    pub(crate) word: SlotWord,
}

/// What one attempt to claim found.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Attempt {
    Claimed(Claim),
    /// Full (push) or empty (pop).
    Unavailable,
    Closed,
    Stalled(Stall),
}

/// Where a slot word's position lies relative to the position looked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rel {
    Same,
    PrevLap,
    Later,
    Other,
}

const fn corrupt(what: &'static str) -> ShmError {
    ShmError::Corrupt(what)
}

/// The ring of one segment.
pub(crate) struct Ring<'a> {
    seg: &'a Segment,
    geo: Geometry,
}

impl<'a> Ring<'a> {
    #[inline]
    pub(crate) fn new(seg: &'a Segment) -> Self {
        Self {
            seg,
            geo: seg.layout().geometry,
        }
    }

    /// Writes the initial words of a new segment: every slot free for the
    /// first lap, `head` and `tail` at 0.
    pub(crate) fn initialize(&self) {
        for index in SlotIndex::all(self.seg.layout().capacity) {
            let word = SlotWord::empty(Pos::new(index.get() as u64));
            // Relaxed: the segment is published to other threads and
            // processes after this, by whatever hands it to them.
            self.seg
                .slot_word(index)
                .store(word.raw(), Ordering::Relaxed);
        }
        // Relaxed: as above.
        self.seg.tail().store(0, Ordering::Relaxed);
        self.seg.head().store(0, Ordering::Relaxed);
    }

    #[inline]
    fn index(&self, pos: Pos) -> Result<SlotIndex, ShmError> {
        self.geo
            .index(pos)
            .map_err(|_| corrupt("a position's slot index is past the capacity"))
    }

    /// The positions of `claim` and their slots, in order.
    #[inline]
    pub(crate) fn claimed(&self, claim: Claim) -> Claimed {
        Claimed {
            geo: self.geo,
            pos: claim.start,
            index: claim.first,
            left: claim.count,
        }
    }

    #[inline]
    fn load_slot(&self, index: SlotIndex) -> SlotWord {
        // Acquire: pairs with the Release stores (and CASes) that publish a
        // message or free a slot, so what they ordered before is visible.
        SlotWord::from_raw(self.seg.slot_word(index).load(Ordering::Acquire))
    }

    #[inline]
    fn load_tail(&self) -> IndexWord {
        // Acquire: pairs with the Release of every CAS on `tail`, so the
        // recordings made before it (see the module docs) are visible.
        IndexWord::from_raw(self.seg.tail().load(Ordering::Acquire))
    }

    #[inline]
    fn load_head(&self) -> IndexWord {
        // Acquire: as for `tail`.
        IndexWord::from_raw(self.seg.head().load(Ordering::Acquire))
    }

    fn relation(&self, at: Pos, word: SlotWord) -> Rel {
        let seq = word.seq();
        if seq == at {
            Rel::Same
        } else if seq == self.geo.prev_lap(at) {
            Rel::PrevLap
        } else if self.geo.before(at, seq) && self.geo.index(seq) == self.geo.index(at) {
            Rel::Later
        } else {
            Rel::Other
        }
    }

    /// Counts the slots from `start` (known ready) that hold `ready(p)`, up
    /// to `max`; returns the position after the last and the count.
    #[inline(always)]
    fn count_ready(
        &self,
        start: Pos,
        max: usize,
        ready: impl Fn(Pos) -> SlotWord,
    ) -> Result<(Pos, usize), ShmError> {
        let mut end = self.geo.next(start);
        let mut count = 1;
        while count < max {
            if self.load_slot(self.index(end)?) != ready(end) {
                break;
            }
            count += 1;
            end = self.geo.next(end);
        }
        Ok((end, count))
    }

    /// Claims up to `max` free slots at `tail` for `me`. With `max` 0 it
    /// claims nothing: `Claimed` with a count of 0 then says a slot is free
    /// at `tail` (everything else, stalls included, works as for a claim).
    ///
    /// # Errors
    ///
    /// [`ShmError::Corrupt`] when the words make no sense; nothing was
    /// claimed.
    #[inline(always)]
    pub(crate) fn try_claim_push(&self, me: Owner, max: usize) -> Result<Attempt, ShmError> {
        let backoff = Backoff::new();
        let mut tail = self.load_tail();
        loop {
            if tail.closed() {
                return Ok(Attempt::Closed);
            }
            let start = tail.pos();
            let index = self.index(start)?;
            let word = self.load_slot(index);
            if word == SlotWord::empty(start) {
                if max == 0 {
                    return Ok(Attempt::Claimed(Claim {
                        start,
                        first: index,
                        count: 0,
                    }));
                }
                let (end, count) = self.count_ready(start, max, SlotWord::empty)?;
                self.record_push_claim(tail);
                let claimed = IndexWord::new(end, me, false);
                // Release: the recordings above happen before any later
                // move of `tail` is seen. Acquire: the value read, on
                // failure, is used like a fresh load.
                match self.seg.tail().compare_exchange_weak(
                    tail.raw(),
                    claimed.raw(),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {
                        return Ok(Attempt::Claimed(Claim {
                            start,
                            first: index,
                            count,
                        }))
                    }
                    Err(current) => {
                        tail = IndexWord::from_raw(current);
                        backoff.spin();
                        continue;
                    }
                }
            }
            match (self.relation(start, word), word.state()) {
                (Rel::PrevLap, State::Full) => {
                    // The message of the previous lap is still here. SeqCst:
                    // read a `head` no older than that slot word, so Full is
                    // only reported if the ring was full during this call.
                    fence(Ordering::SeqCst);
                    let head = self.load_head();
                    if !self.geo.before(word.seq(), head.pos()) {
                        return Ok(Attempt::Unavailable);
                    }
                    // A popper claimed it and has not released it yet.
                    if !backoff.is_completed() {
                        backoff.snooze();
                        tail = self.load_tail();
                        continue;
                    }
                    if let Some(stall) = self.record_reader(index, word, head) {
                        return Ok(Attempt::Stalled(stall));
                    }
                }
                (Rel::PrevLap, State::Reading | State::Writing) => {
                    // A popper of the previous lap has not released the slot,
                    // or a pusher of the previous lap has not published it
                    // (then the ring is full up to it).
                    if !backoff.is_completed() {
                        backoff.snooze();
                        tail = self.load_tail();
                        continue;
                    }
                    return Ok(Attempt::Stalled(Stall {
                        owner: word.owner(),
                        index,
                        word,
                    }));
                }
                (Rel::PrevLap, State::Empty) => {
                    // The previous lap's push at this slot is claimed but
                    // neither published nor recorded: by the invariant, the
                    // claim that installed `tail` spans the whole ring.
                    if !backoff.is_completed() {
                        backoff.snooze();
                        tail = self.load_tail();
                        continue;
                    }
                    if let Some(stall) = self.record_writer(index, word, tail) {
                        return Ok(Attempt::Stalled(stall));
                    }
                }
                (Rel::Same | Rel::Later, _) | (Rel::Other, _) => {}
            }
            // Our `tail` is stale (its slot was claimed since), or the words
            // disagree: a correct peer moves `tail` before touching a slot.
            let current = self.load_tail();
            if current == tail && self.load_slot(index) == word {
                return Err(corrupt("a slot word disagrees with tail"));
            }
            tail = current;
            backoff.spin();
        }
    }

    /// Claims up to `max` ready messages at `head` for `me`. With `max` 0
    /// it claims nothing: `Claimed` with a count of 0 then says a message
    /// is ready at `head` (everything else, stalls and skips included,
    /// works as for a claim).
    ///
    /// # Errors
    ///
    /// [`ShmError::Corrupt`] when the words make no sense; nothing was
    /// claimed.
    #[inline(always)]
    pub(crate) fn try_claim_pop(&self, me: Owner, max: usize) -> Result<Attempt, ShmError> {
        let backoff = Backoff::new();
        let mut head = self.load_head();
        let mut skips = 0;
        loop {
            let start = head.pos();
            let index = self.index(start)?;
            let word = self.load_slot(index);
            if word == SlotWord::full(start) {
                if max == 0 {
                    return Ok(Attempt::Claimed(Claim {
                        start,
                        first: index,
                        count: 0,
                    }));
                }
                let (end, count) = self.count_ready(start, max, SlotWord::full)?;
                self.record_pop_claim(head);
                let claimed = IndexWord::new(end, me, false);
                // AcqRel and Acquire: as in `try_claim_push`.
                match self.seg.head().compare_exchange_weak(
                    head.raw(),
                    claimed.raw(),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {
                        return Ok(Attempt::Claimed(Claim {
                            start,
                            first: index,
                            count,
                        }))
                    }
                    Err(current) => {
                        head = IndexWord::from_raw(current);
                        backoff.spin();
                        continue;
                    }
                }
            }
            match (self.relation(start, word), word.state()) {
                (Rel::Same, State::Empty | State::Writing) | (Rel::PrevLap, _) => {
                    // Nothing published at `start`. SeqCst: read a `tail` no
                    // older than that slot word, so Empty means empty during
                    // this call and Closed means no push can still land.
                    fence(Ordering::SeqCst);
                    let tail = self.load_tail();
                    if tail.pos() == start {
                        return Ok(if tail.closed() {
                            Attempt::Closed
                        } else {
                            Attempt::Unavailable
                        });
                    }
                    if !self.geo.before(start, tail.pos()) {
                        // `tail` was read after `head`, and never trails it.
                        return Err(corrupt("head is past tail"));
                    }
                    // A pusher claimed `start` and has not published it.
                    if !backoff.is_completed() {
                        backoff.snooze();
                        head = self.load_head();
                        continue;
                    }
                    match (self.relation(start, word), word.state()) {
                        (Rel::Same, State::Writing) => {
                            return Ok(Attempt::Stalled(Stall {
                                owner: word.owner(),
                                index,
                                word,
                            }))
                        }
                        (Rel::Same, _) => {
                            if let Some(stall) = self.record_writer(index, word, tail) {
                                return Ok(Attempt::Stalled(stall));
                            }
                            // An unrecorded claim must be `tail`'s last one,
                            // so a `tail` without an owner that did not move
                            // while the slot stayed unrecorded is damage.
                            if self.load_slot(index) == word && self.load_tail() == tail {
                                return Err(corrupt("an unpublished claim has no owner"));
                            }
                        }
                        // The slot still showed the previous lap although a
                        // push claimed `start`, which needs it free: our read
                        // was stale, unless the word is damaged.
                        _ => {
                            if self.load_slot(index) == word {
                                return Err(corrupt("a claimed slot is not free"));
                            }
                        }
                    }
                    head = self.load_head();
                }
                (Rel::Later, _) => {
                    // `start` is done: consumed (our `head` is stale) or, if
                    // `head` has not moved, reclaimed from a dead pusher.
                    let current = self.load_head();
                    if current != head {
                        head = current;
                        backoff.spin();
                        continue;
                    }
                    // A skipped position was claimed, so it is below `tail`
                    // (read after it); and a call meets at most a lap of
                    // them (two, to allow for claims dying while it runs).
                    // Forged words could otherwise walk `head` on and on.
                    skips += 1;
                    if skips > 2 * self.geo.capacity()
                        || !self.geo.before(start, self.load_tail().pos())
                    {
                        return Err(corrupt("a position to skip is not below tail"));
                    }
                    self.record_pop_claim(head);
                    let skipped = IndexWord::new(self.geo.next(start), Owner::NONE, false);
                    // AcqRel and Acquire: as for a claim.
                    head = match self.seg.head().compare_exchange(
                        head.raw(),
                        skipped.raw(),
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => {
                            wait::notify(self.seg, Side::Push, true);
                            skipped
                        }
                        Err(current) => IndexWord::from_raw(current),
                    };
                }
                (Rel::Same, _) | (Rel::Other, _) => {
                    // Claimed by another popper (our `head` is stale), or
                    // damaged.
                    let current = self.load_head();
                    if current == head && self.load_slot(index) == word {
                        return Err(corrupt("a slot word disagrees with head"));
                    }
                    head = current;
                    backoff.spin();
                }
            }
        }
    }

    /// Publishes the message written at claimed position `pos`, whose slot
    /// is `Empty(pos)`, or `Writing(pos, me)` if a helper recorded the claim.
    /// Returns `false` if the slot holds anything else: it was taken from
    /// us (only a peer that judged this live process dead, or a hostile
    /// one, does that), and the message is not delivered.
    ///
    /// A CAS rather than a plain store: every change of a slot word after
    /// initialisation is a read-modify-write, so no change can be lost to a
    /// racing one, and the owner learns when its slot was taken.
    #[inline(always)]
    pub(crate) fn publish(&self, index: SlotIndex, pos: Pos, me: Owner) -> bool {
        let recorded = SlotWord::writing(pos, me);
        self.finish(index, SlotWord::empty(pos), recorded, SlotWord::full(pos))
    }

    /// Frees the slot of claimed (popped) position `pos`, whose slot is
    /// `Full(pos)`, or `Reading(pos, me)` if a helper recorded the claim,
    /// for the next lap. Returns `false` if it holds anything else, as for
    /// [`publish`](Self::publish).
    #[inline(always)]
    pub(crate) fn release(&self, index: SlotIndex, pos: Pos, me: Owner) -> bool {
        let recorded = SlotWord::reading(pos, me);
        let freed = SlotWord::empty(self.geo.next_lap(pos));
        self.finish(index, SlotWord::full(pos), recorded, freed)
    }

    /// Moves a slot the caller owns from `unrecorded` (or `recorded`) to
    /// `to`; see [`publish`](Self::publish).
    #[inline(always)]
    fn finish(
        &self,
        index: SlotIndex,
        unrecorded: SlotWord,
        recorded: SlotWord,
        to: SlotWord,
    ) -> bool {
        let slot = self.seg.slot_word(index);
        let mut expected = unrecorded;
        loop {
            // Release: publishes the message written before (push), or
            // completes our reads before a pusher, which Acquires this word,
            // overwrites the slot (pop). Relaxed on failure: the value is
            // only compared.
            match slot.compare_exchange(
                expected.raw(),
                to.raw(),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(current) if current == recorded.raw() && expected != recorded => {
                    expected = recorded;
                }
                Err(_) => return false,
            }
        }
    }

    /// Records `tail`'s owner in the slots of its claim that are not
    /// published yet; see the module docs. Stops early, harmlessly, at a
    /// damaged position.
    #[inline(always)]
    pub(crate) fn record_push_claim(&self, tail: IndexWord) {
        let owner = tail.owner();
        if owner != Owner::NONE {
            self.walk(tail.pos(), SlotWord::empty, |p| SlotWord::writing(p, owner));
        }
    }

    /// Records `head`'s owner in the slots of its claim that are not
    /// released yet; see the module docs.
    #[inline(always)]
    pub(crate) fn record_pop_claim(&self, head: IndexWord) {
        let owner = head.owner();
        if owner != Owner::NONE {
            self.walk(head.pos(), SlotWord::full, |p| SlotWord::reading(p, owner));
        }
    }

    /// From the position before `end` backwards, turns `unrecorded(p)` into
    /// `recorded(p)`, passing over slots already `recorded(p)`, and stops at
    /// anything else or after a whole lap.
    #[inline(always)]
    fn walk(
        &self,
        end: Pos,
        unrecorded: impl Fn(Pos) -> SlotWord,
        recorded: impl Fn(Pos) -> SlotWord,
    ) {
        let mut pos = end;
        for _ in 0..self.geo.capacity() {
            pos = self.geo.prev(pos);
            let Ok(index) = self.index(pos) else { return };
            let slot = self.seg.slot_word(index);
            let mut word = self.load_slot(index);
            loop {
                if word == recorded(pos) {
                    break;
                }
                if word != unrecorded(pos) {
                    return;
                }
                self.walk_slow(slot, word, recorded(pos), &mut word);
            }
        }
    }

    #[cold]
    fn walk_slow(
        &self,
        slot: &crate::loom::AtomicU64,
        from: SlotWord,
        to: SlotWord,
        seen: &mut SlotWord,
    ) {
        // AcqRel: Release so that the recording happens before the CAS on
        // `head`/`tail` that follows it; Acquire to read the latest word.
        *seen = match slot.compare_exchange(
            from.raw(),
            to.raw(),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => to,
            Err(current) => SlotWord::from_raw(current),
        };
    }

    /// Records `tail`'s owner as the writer of the unpublished `Empty(p)`
    /// slot at `index`, with `p` before `tail`: by the invariant it is part
    /// of the last claim. `None` if the slot changed meanwhile, or `tail`
    /// names no owner (a stale or damaged reading; the caller re-reads).
    fn record_writer(&self, index: SlotIndex, word: SlotWord, tail: IndexWord) -> Option<Stall> {
        let owner = tail.owner();
        if owner == Owner::NONE || !self.geo.before(word.seq(), tail.pos()) {
            return None;
        }
        let recorded = SlotWord::writing(word.seq(), owner);
        self.record(index, word, recorded).then_some(Stall {
            owner,
            index,
            word: recorded,
        })
    }

    /// Records `head`'s owner as the reader of the unreleased `Full(p)`
    /// slot at `index`, with `p` before `head`; as [`record_writer`](Self::record_writer).
    fn record_reader(&self, index: SlotIndex, word: SlotWord, head: IndexWord) -> Option<Stall> {
        let owner = head.owner();
        if owner == Owner::NONE {
            return None;
        }
        let recorded = SlotWord::reading(word.seq(), owner);
        self.record(index, word, recorded).then_some(Stall {
            owner,
            index,
            word: recorded,
        })
    }

    fn record(&self, index: SlotIndex, from: SlotWord, to: SlotWord) -> bool {
        // AcqRel: as in `walk_slow`.
        self.seg
            .slot_word(index)
            .compare_exchange(from.raw(), to.raw(), Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// Frees a stalled slot whose holder is gone, if it still holds the
    /// word the stall saw: a writer's slot becomes a position to skip, a
    /// reader's a free slot. Returns whether it did.
    pub(crate) fn reclaim(&self, stall: &Stall) -> bool {
        let done = self.free_stalled(stall);
        if done {
            wait::notify(self.seg, Side::Push, true);
            wait::notify(self.seg, Side::Pop, true);
        }
        done
    }

    /// [`reclaim`](Self::reclaim) without the wake-ups, for callers that
    /// wake everyone once they are done.
    fn free_stalled(&self, stall: &Stall) -> bool {
        let freed = SlotWord::empty(self.geo.next_lap(stall.word.seq()));
        // AcqRel: Acquire orders this after the liveness check that found the
        // holder dead (and so after everything the holder did); Release
        // hands the slot on to whoever Acquires the new word.
        self.seg
            .slot_word(stall.index)
            .compare_exchange(
                stall.word.raw(),
                freed.raw(),
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// Frees every slot recorded for one of `owners` (writing or reading),
    /// as [`reclaim`](Self::reclaim) does for one, in a single pass over
    /// the slots however many owners there are; wakes nobody (the caller
    /// does, once). Recovery calls it once the owners' last claims are
    /// recorded ([`clear_owner`](Self::clear_owner)).
    pub(crate) fn reclaim_all(&self, owners: &OwnerSet) -> usize {
        if owners.is_empty() {
            return 0;
        }
        let mut freed = 0;
        for index in SlotIndex::all(self.seg.layout().capacity) {
            let word = self.load_slot(index);
            let owner = word.owner();
            if matches!(word.state(), State::Writing | State::Reading) && owners.contains(owner) {
                let stall = Stall { owner, index, word };
                freed += usize::from(self.free_stalled(&stall));
            }
        }
        freed
    }

    /// The owners of every claim not finished yet (a snapshot, for
    /// diagnostics): those recorded in slots, plus the owners of the last
    /// push and pop claims if slots of theirs are still unpublished or
    /// unreleased. Reads only; one pass over the slots.
    pub(crate) fn claim_owners(&self) -> OwnerSet {
        let mut owners = OwnerSet::default();
        for index in SlotIndex::all(self.seg.layout().capacity) {
            let word = self.load_slot(index);
            if matches!(word.state(), State::Writing | State::Reading) {
                owners.insert(word.owner());
            }
        }
        let tail = self.load_tail();
        if self.last_claim_pending(tail.pos(), SlotWord::empty) {
            owners.insert(tail.owner());
        }
        let head = self.load_head();
        if self.last_claim_pending(head.pos(), SlotWord::full) {
            owners.insert(head.owner());
        }
        owners
    }

    /// Whether the slot before `end` is still `unrecorded`: the last claim
    /// that moved `end` there has not finished with it (as `walk` finds it,
    /// without recording anything).
    fn last_claim_pending(&self, end: Pos, unrecorded: impl Fn(Pos) -> SlotWord) -> bool {
        let pos = self.geo.prev(end);
        self.index(pos)
            .map(|index| self.load_slot(index) == unrecorded(pos))
            .unwrap_or(false)
    }

    /// Makes sure neither `head` nor `tail` names `owner`: records its last
    /// claims, then replaces the owner with 0.
    pub(crate) fn clear_owner(&self, owner: Owner) {
        for (word, is_tail) in [(self.seg.tail(), true), (self.seg.head(), false)] {
            loop {
                // Acquire: as in `load_tail`.
                let current = IndexWord::from_raw(word.load(Ordering::Acquire));
                if current.owner() != owner {
                    break;
                }
                if is_tail {
                    self.record_push_claim(current);
                } else {
                    self.record_pop_claim(current);
                }
                // Release: as for a claim.
                if word
                    .compare_exchange(
                        current.raw(),
                        current.with_owner(Owner::NONE).raw(),
                        Ordering::Release,
                        Ordering::Relaxed,
                    )
                    .is_ok()
                {
                    break;
                }
            }
        }
    }

    /// Closes the ring: sets the closed bit in `tail`. Returns whether this
    /// call did.
    pub(crate) fn close(&self) -> bool {
        // AcqRel: atomic with the pushes' CAS on `tail`; the Release half
        // pairs with the Acquire in `load_tail`, through which `is_closed`
        // and the claims that report Closed see what preceded the close.
        let before = self
            .seg
            .tail()
            .fetch_or(IndexWord::CLOSED, Ordering::AcqRel);
        !IndexWord::from_raw(before).closed()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.load_tail().closed()
    }

    /// The number of positions claimed by pushes and not yet by pops (a
    /// snapshot), clamped to the capacity.
    pub(crate) fn len(&self) -> usize {
        loop {
            // Acquire on all three: keeps the `head` load between the two
            // `tail` loads, so equal tails mean a consistent pair.
            let tail = self.load_tail();
            let head = self.load_head();
            if self.load_tail() == tail {
                return self.geo.distance(head.pos(), tail.pos()) as usize;
            }
        }
    }
}
