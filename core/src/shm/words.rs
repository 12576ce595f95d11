//! The bit layout of the 64-bit words the processes share, and the ring's
//! positions.
//!
//! Every word is decoded from a raw `u64` that another process may have
//! written, so decoding never fails: any bit pattern is *some* word, and the
//! ring checks whether it makes sense where it was found.
//!
//! # Positions
//!
//! A position is a 52-bit counter in the encoding crossbeam's `ArrayQueue`
//! uses: a slot index in the low bits and a lap count above them, where a
//! lap is `one_lap`, the smallest power of two that is at least the
//! capacity. Any capacity works, and splitting a position is a mask, never a
//! division. Positions wrap at 2^52, which `one_lap` divides, so the lap
//! count wraps with them. Two positions are compared by their wrapping
//! distance ([`Geometry::before`]), which is meaningful while they are less
//! than 2^51 apart; in the ring they are never more than one lap apart.
//!
//! # Slot words
//!
//! `state:2 | owner:10 | seq:52`. `seq` is the position the slot is at, and
//! `state` what is happening there:
//!
//! - `Empty(p)`: free for the push at `p`;
//! - `Writing(p, o)`: the push at `p` was claimed by participant `o`, which
//!   has not published it yet (recorded by a helper, see `ring.rs`);
//! - `Full(p)`: the message pushed at `p` is ready;
//! - `Reading(p, o)`: the message at `p` was claimed by participant `o`,
//!   which has not released the slot yet (recorded by a helper).
//!
//! A released slot becomes `Empty(p + one_lap)`, ready for the next lap.
//!
//! # Index words (`head` and `tail`)
//!
//! `closed:1 | spare:1 | owner:10 | pos:52`. `pos` is the next position to
//! pop (head) or push (tail); `owner` is the participant whose claim moved it
//! there last (0 when no claim did), and `closed` is only used in `tail`.
//!
//! 52 bits of position mean that a stale word can only be mistaken for a
//! current one (an ABA) by a thread that sleeps between reading it and its
//! compare-and-swap while 2^52 positions go by: more than a year at 100
//! million messages a second.

/// Bits in a position.
pub(crate) const POS_BITS: u32 = 52;
/// The positions' modulus, minus one.
pub(crate) const POS_MASK: u64 = (1 << POS_BITS) - 1;
/// Bits in an owner field.
const OWNER_BITS: u32 = 10;
/// The largest owner value; owners are participant indexes plus one.
pub(crate) const MAX_OWNER: u16 = (1 << OWNER_BITS) - 1;
const OWNER_SHIFT: u32 = POS_BITS;
const OWNER_MASK: u64 = MAX_OWNER as u64;
const STATE_SHIFT: u32 = 62;
const CLOSED_BIT: u64 = 1 << 63;

/// A position in the ring; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos(u64);

impl Pos {
    /// The position with these low 52 bits.
    #[inline]
    pub(crate) const fn new(raw: u64) -> Self {
        Self(raw & POS_MASK)
    }
}

/// Who claimed a slot: a participant index plus one, or 0 for nobody.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Owner(u16);

impl Owner {
    /// No participant.
    pub(crate) const NONE: Self = Self(0);

    /// The owner for participant table entry `index`, if it fits the field.
    #[inline]
    pub(crate) fn of_index(index: usize) -> Option<Self> {
        u16::try_from(index + 1)
            .ok()
            .filter(|&v| v <= MAX_OWNER)
            .map(Self)
    }

    /// The participant table entry this owner names, if any. It may still
    /// be out of the table's range: the caller checks.
    #[inline]
    pub(crate) fn index(self) -> Option<usize> {
        (self.0 as usize).checked_sub(1)
    }

    #[cfg_attr(loom, allow(dead_code))]
    #[inline]
    pub(crate) const fn raw(self) -> u16 {
        self.0
    }

    #[inline]
    const fn from_bits(bits: u64) -> Self {
        Self((bits & OWNER_MASK) as u16)
    }
}

/// A set of owners, one bit each: what a recovery reclaims in one pass
/// over the slots, however many participants it recovers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct OwnerSet([u64; OwnerSet::WORDS]);

impl OwnerSet {
    const WORDS: usize = (MAX_OWNER as usize + 1) / 64;

    pub(crate) fn insert(&mut self, owner: Owner) {
        self.0[usize::from(owner.0) / 64] |= 1 << (owner.0 % 64);
    }

    #[inline]
    pub(crate) fn contains(&self, owner: Owner) -> bool {
        self.0[usize::from(owner.0) / 64] & (1 << (owner.0 % 64)) != 0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }
}

/// What is happening at a slot; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Empty = 0,
    Writing = 1,
    Full = 2,
    Reading = 3,
}

/// A slot's word; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotWord(u64);

impl SlotWord {
    #[inline]
    pub(crate) const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    #[inline]
    pub(crate) const fn new(state: State, seq: Pos, owner: Owner) -> Self {
        Self(((state as u64) << STATE_SHIFT) | ((owner.0 as u64) << OWNER_SHIFT) | seq.0)
    }

    /// Free for the push at `seq`.
    #[inline]
    pub(crate) const fn empty(seq: Pos) -> Self {
        Self::new(State::Empty, seq, Owner::NONE)
    }

    /// Holds the message pushed at `seq`.
    #[inline]
    pub(crate) const fn full(seq: Pos) -> Self {
        Self::new(State::Full, seq, Owner::NONE)
    }

    #[inline]
    pub(crate) const fn writing(seq: Pos, owner: Owner) -> Self {
        Self::new(State::Writing, seq, owner)
    }

    #[inline]
    pub(crate) const fn reading(seq: Pos, owner: Owner) -> Self {
        Self::new(State::Reading, seq, owner)
    }

    #[inline]
    pub(crate) const fn raw(self) -> u64 {
        self.0
    }

    #[inline]
    pub(crate) const fn seq(self) -> Pos {
        Pos(self.0 & POS_MASK)
    }

    #[inline]
    pub(crate) const fn owner(self) -> Owner {
        Owner::from_bits(self.0 >> OWNER_SHIFT)
    }

    #[inline]
    pub(crate) const fn state(self) -> State {
        match self.0 >> STATE_SHIFT {
            0 => State::Empty,
            1 => State::Writing,
            2 => State::Full,
            _ => State::Reading,
        }
    }
}

/// The `head` or `tail` word; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IndexWord(u64);

impl IndexWord {
    #[inline]
    pub(crate) const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    #[inline]
    pub(crate) const fn new(pos: Pos, owner: Owner, closed: bool) -> Self {
        let closed = if closed { CLOSED_BIT } else { 0 };
        Self(closed | ((owner.0 as u64) << OWNER_SHIFT) | pos.0)
    }

    #[inline]
    pub(crate) const fn raw(self) -> u64 {
        self.0
    }

    #[inline]
    pub(crate) const fn pos(self) -> Pos {
        Pos(self.0 & POS_MASK)
    }

    #[inline]
    pub(crate) const fn owner(self) -> Owner {
        Owner::from_bits(self.0 >> OWNER_SHIFT)
    }

    #[inline]
    pub(crate) const fn closed(self) -> bool {
        self.0 & CLOSED_BIT != 0
    }

    /// The same word with another owner.
    #[inline]
    pub(crate) const fn with_owner(self, owner: Owner) -> Self {
        Self::new(self.pos(), owner, self.closed())
    }

    /// The bit [`close`](crate::shm::ShmQueue::close) sets in `tail`.
    pub(crate) const CLOSED: u64 = CLOSED_BIT;
}

/// The index of a slot, checked to be below the capacity. Only
/// [`Geometry::index`] makes one, so code that holds one may use it to
/// address the slot array without another check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotIndex(usize);

impl SlotIndex {
    #[inline]
    pub(crate) const fn get(self) -> usize {
        self.0
    }

    /// Every index of a ring of `capacity` slots, in order.
    #[inline]
    pub(crate) fn all(capacity: usize) -> impl Iterator<Item = Self> {
        (0..capacity).map(Self)
    }
}

/// A position whose index is not below the capacity: only a corrupt word
/// can hold one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadIndex;

/// The shape of a ring: its capacity and lap size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    cap: u64,
    one_lap: u64,
}

impl Geometry {
    /// The geometry of a ring of `capacity` slots, if the positions can
    /// encode it (at least two laps must fit in 52 bits).
    #[inline]
    pub(crate) fn new(capacity: u64) -> Option<Self> {
        let one_lap = capacity.checked_next_power_of_two()?;
        (capacity > 0 && one_lap <= 1 << (POS_BITS - 2)).then_some(Self {
            cap: capacity,
            one_lap,
        })
    }

    #[inline]
    pub(crate) const fn capacity(self) -> u64 {
        self.cap
    }

    /// The slot `pos` lives in, or [`BadIndex`] for a position no correct
    /// peer makes.
    #[inline]
    pub(crate) fn index(self, pos: Pos) -> Result<SlotIndex, BadIndex> {
        let index = pos.0 & (self.one_lap - 1);
        if index < self.cap {
            Ok(SlotIndex(index as usize))
        } else {
            Err(BadIndex)
        }
    }

    /// The position after `pos`.
    #[inline]
    pub(crate) fn next(self, pos: Pos) -> Pos {
        let index = pos.0 & (self.one_lap - 1);
        if index + 1 < self.cap {
            Pos::new(pos.0 + 1)
        } else {
            Pos::new((pos.0 & !(self.one_lap - 1)).wrapping_add(self.one_lap))
        }
    }

    /// The position before `pos` (of a position with a valid index).
    #[inline]
    pub(crate) fn prev(self, pos: Pos) -> Pos {
        let index = pos.0 & (self.one_lap - 1);
        if index > 0 {
            Pos::new(pos.0 - 1)
        } else {
            Pos::new(pos.0.wrapping_sub(self.one_lap) + (self.cap - 1))
        }
    }

    /// The index after `index`, wrapping at the capacity: the slot of
    /// [`next`](Self::next) of a position in slot `index`.
    #[inline]
    pub(crate) fn next_index(self, index: SlotIndex) -> SlotIndex {
        if (index.0 as u64) + 1 < self.cap {
            SlotIndex(index.0 + 1)
        } else {
            SlotIndex(0)
        }
    }

    /// The same slot one lap later: what a slot released at `pos` waits for.
    #[inline]
    pub(crate) fn next_lap(self, pos: Pos) -> Pos {
        Pos::new(pos.0.wrapping_add(self.one_lap))
    }

    /// The same slot one lap earlier.
    #[inline]
    pub(crate) fn prev_lap(self, pos: Pos) -> Pos {
        Pos::new(pos.0.wrapping_sub(self.one_lap))
    }

    /// Whether `a` comes strictly before `b`.
    #[inline]
    pub(crate) fn before(self, a: Pos, b: Pos) -> bool {
        let d = b.0.wrapping_sub(a.0) & POS_MASK;
        d != 0 && d < 1 << (POS_BITS - 1)
    }

    /// How many positions lie from `from` up to `to`, clamped to
    /// `0..=capacity` (corrupt or inconsistent words give a clamped value,
    /// never a panic).
    #[inline]
    pub(crate) fn distance(self, from: Pos, to: Pos) -> u64 {
        if !self.before(from, to) {
            return 0;
        }
        let shift = self.one_lap.trailing_zeros();
        let lap_mask = POS_MASK >> shift;
        let laps = ((to.0 >> shift).wrapping_sub(from.0 >> shift)) & lap_mask;
        let (fi, ti) = (from.0 & (self.one_lap - 1), to.0 & (self.one_lap - 1));
        let d = laps
            .saturating_mul(self.cap)
            .saturating_add(ti)
            .saturating_sub(fi);
        d.min(self.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_words_round_trip() {
        for state in [State::Empty, State::Writing, State::Full, State::Reading] {
            for owner in [Owner::NONE, Owner(1), Owner(MAX_OWNER)] {
                for seq in [0, 1, POS_MASK] {
                    let w = SlotWord::new(state, Pos::new(seq), owner);
                    assert_eq!(w.state(), state);
                    assert_eq!(w.owner(), owner);
                    assert_eq!(w.seq(), Pos::new(seq));
                    assert_eq!(SlotWord::from_raw(w.raw()), w);
                }
            }
        }
    }

    #[test]
    fn index_words_round_trip() {
        for closed in [false, true] {
            let w = IndexWord::new(Pos::new(POS_MASK), Owner(MAX_OWNER), closed);
            assert_eq!(w.pos(), Pos::new(POS_MASK));
            assert_eq!(w.owner(), Owner(MAX_OWNER));
            assert_eq!(w.closed(), closed);
            assert_eq!(w.with_owner(Owner::NONE).owner(), Owner::NONE);
            assert_eq!(w.with_owner(Owner::NONE).closed(), closed);
            assert_eq!(w.with_owner(Owner::NONE).pos(), w.pos());
        }
    }

    #[test]
    fn owners_map_to_indexes_and_back() {
        assert_eq!(Owner::NONE.index(), None);
        assert_eq!(Owner::of_index(0).unwrap().index(), Some(0));
        assert_eq!(
            Owner::of_index(MAX_OWNER as usize - 1).unwrap().raw(),
            MAX_OWNER
        );
        assert_eq!(Owner::of_index(MAX_OWNER as usize), None);
    }

    #[test]
    fn positions_walk_through_every_index_and_wrap() {
        for cap in [1u64, 2, 3, 5, 8] {
            let g = Geometry::new(cap).unwrap();
            // Start two laps before the 52-bit wrap point.
            let mut pos = Pos::new(0u64.wrapping_sub(2 * g.one_lap));
            for step in 0..4 * cap {
                assert_eq!(g.index(pos).unwrap().get() as u64, step % cap);
                let next = g.next(pos);
                assert_eq!(g.index(next), Ok(g.next_index(g.index(pos).unwrap())));
                assert!(g.before(pos, next), "cap {cap} step {step}");
                assert_eq!(g.prev(next), pos);
                assert_eq!(g.distance(pos, next), 1);
                assert_eq!(g.index(g.next_lap(pos)), g.index(pos));
                assert_eq!(g.prev_lap(g.next_lap(pos)), pos);
                assert_eq!(g.distance(pos, g.next_lap(pos)), cap);
                pos = next;
            }
        }
    }

    #[test]
    fn bad_indexes_and_absurd_distances_are_contained() {
        let g = Geometry::new(3).unwrap();
        assert_eq!(g.index(Pos::new(3)), Err(BadIndex));
        assert_eq!(g.distance(Pos::new(8), Pos::new(0)), 0);
        assert_eq!(g.distance(Pos::new(0), Pos::new(1 << 40)), 3);
        assert!(Geometry::new(0).is_none());
        assert!(Geometry::new(1 << 51).is_none());
    }
}
