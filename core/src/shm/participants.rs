//! The participant table: who may own a slot, and whether they still live.
//!
//! Every handle that uses a segment holds one entry of the table, and its
//! claims carry that entry's number (the *owner* in `words.rs`). The
//! entry's word says who holds it:
//!
//! ```text
//! tag:2 | pid:22 | start:40
//! tag 0  free (the whole word is zero)
//! tag 1  alive: held by process (pid, start)
//! tag 2  recovering: its holder died, and process (pid, start) is
//!        reclaiming what it held (see `recovery.rs`)
//! tag 3  never written by a correct peer; treated as a dead holder
//! ```
//!
//! A handle takes a free entry with one CAS (attach) and frees it when it
//! is dropped (detach). A process that dies without dropping its handles
//! leaves them *alive* with a dead process: whoever next waits on one of
//! its slots, or finds the table full, notices and recovers it.
//!
//! An entry is only freed once no slot and no `head`/`tail` word names it
//! any more, so the owner in a slot word always means the entry's current
//! holder. That is what lets the ring trust "owner is alive" when it sees
//! one.

use super::liveness::{ProcessId, PID_BITS, START_BITS};
use super::segment::{EntryIndex, Segment};
use super::words::Owner;
use crate::loom::Ordering;

const TAG_SHIFT: u32 = 62;
const PID_SHIFT: u32 = START_BITS;
const TAG_ALIVE: u64 = 1;
const TAG_RECOVERING: u64 = 2;

/// An entry's word, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ident {
    Free,
    Alive(ProcessId),
    /// Being recovered by this process.
    Recovering(ProcessId),
    /// A word no correct peer writes.
    Garbage,
}

impl Ident {
    pub(crate) fn decode(raw: u64) -> Self {
        let process = ProcessId {
            pid: ((raw >> PID_SHIFT) & ((1 << PID_BITS) - 1)) as u32,
            start: raw & ((1 << START_BITS) - 1),
        };
        match raw >> TAG_SHIFT {
            0 if raw == 0 => Self::Free,
            TAG_ALIVE => Self::Alive(process),
            TAG_RECOVERING => Self::Recovering(process),
            _ => Self::Garbage,
        }
    }

    /// The word for this identity; `None` for a PID too large for the
    /// field (no Linux PID is).
    pub(crate) fn encode(self) -> Option<u64> {
        let pack = |tag: u64, p: ProcessId| {
            (p.pid < 1 << PID_BITS).then(|| {
                (tag << TAG_SHIFT)
                    | (u64::from(p.pid) << PID_SHIFT)
                    | (p.start & ((1 << START_BITS) - 1))
            })
        };
        match self {
            Self::Free => Some(0),
            Self::Alive(p) => pack(TAG_ALIVE, p),
            Self::Recovering(p) => pack(TAG_RECOVERING, p),
            Self::Garbage => Some(u64::MAX),
        }
    }
}

/// Takes a free entry for process `me`. Returns `None` when every entry is
/// in use (the caller may recover dead holders and try again).
pub(crate) fn try_attach(seg: &Segment, me: ProcessId) -> Option<(EntryIndex, Owner)> {
    let word = Ident::Alive(me).encode()?;
    seg.entries().find_map(|index| {
        let ident = seg.entry(index).ident;
        // Relaxed: a hint; the CAS decides.
        if ident.load(Ordering::Relaxed) != 0 {
            return None;
        }
        // Acquire: the entry's last recovery (its sleeper counts reset)
        // happens before our use. Release: nothing to publish, but cheap.
        ident
            .compare_exchange(0, word, Ordering::AcqRel, Ordering::Relaxed)
            .ok()
            .and_then(|_| Owner::of_index(index.get()).map(|o| (index, o)))
    })
}

/// Frees the entry `me` took with [`try_attach`]. Every operation of the
/// handle must be over. Does nothing if the entry is not `me`'s any more.
pub(crate) fn detach(seg: &Segment, index: EntryIndex, me: ProcessId) {
    let Some(word) = Ident::Alive(me).encode() else {
        return;
    };
    // Release: everything this handle did happens before a new holder's
    // use of the entry.
    let _ = seg
        .entry(index)
        .ident
        .compare_exchange(word, 0, Ordering::Release, Ordering::Relaxed);
}

/// What the holder of a slot is, as far as the table says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    /// The entry is held by this process, which has not been checked.
    Process(EntryIndex, ProcessId, u64),
    /// The holder died, and this process is reclaiming its slots.
    BeingRecovered(EntryIndex, ProcessId, u64),
    /// The entry holds a word no correct peer writes.
    Garbage(EntryIndex, u64),
    /// Nobody: a free entry, or an owner outside the table. A slot that
    /// names one is an orphan (or the reading that named it is stale).
    Nobody,
}

/// Looks up the holder of `owner`'s entry.
pub(crate) fn holder(seg: &Segment, owner: Owner) -> Holder {
    let Some(index) = owner.index().and_then(|i| seg.entry_index(i)) else {
        return Holder::Nobody;
    };
    // Acquire: pairs with the Release of recovery's and detach's stores, so
    // a free entry means its slots were all reclaimed before.
    let raw = seg.entry(index).ident.load(Ordering::Acquire);
    match Ident::decode(raw) {
        Ident::Free => Holder::Nobody,
        Ident::Alive(p) => Holder::Process(index, p, raw),
        Ident::Recovering(p) => Holder::BeingRecovered(index, p, raw),
        Ident::Garbage => Holder::Garbage(index, raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_round_trip() {
        let p = ProcessId {
            pid: (1 << PID_BITS) - 1,
            start: (1 << START_BITS) - 1,
        };
        for ident in [Ident::Free, Ident::Alive(p), Ident::Recovering(p)] {
            assert_eq!(Ident::decode(ident.encode().unwrap()), ident);
        }
        assert_eq!(Ident::decode(u64::MAX), Ident::Garbage);
        assert_eq!(Ident::decode(1), Ident::Garbage);
        let too_big = ProcessId {
            pid: 1 << PID_BITS,
            start: 0,
        };
        assert_eq!(Ident::Alive(too_big).encode(), None);
    }
}
