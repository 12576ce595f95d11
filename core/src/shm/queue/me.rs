//! Which participant a handle is; see `participants.rs`.

use super::Participant;
use crate::shm::error::ShmError;
use crate::shm::liveness::{self, ProcessId};
use crate::shm::participants;
#[cfg(not(loom))]
use crate::shm::recovery;
use crate::shm::segment::Segment;
#[cfg(not(loom))]
use crate::shm::words::Owner;
#[cfg(not(loom))]
use crate::shm::{layout::Namespaces, map};

/// The handle's participant entry.
#[cfg(not(loom))]
pub(super) struct Me {
    /// `fork_generation << 16 | owner`: the entry this handle holds in
    /// the process of that generation (owner 0: none).
    cached: std::sync::atomic::AtomicU64,
    /// The namespaces the segment was created in, which a forked child
    /// must share to take an entry.
    namespaces: Namespaces,
}

#[cfg(not(loom))]
impl Me {
    fn pack(generation: u64, owner: Owner) -> u64 {
        (generation << 16) | u64::from(owner.raw())
    }

    fn take_entry(seg: &Segment) -> Result<Owner, ShmError> {
        recovery::attach(seg, liveness::current())
            .map(|(_, owner)| owner)
            .ok_or(ShmError::TooManyParticipants)
    }

    /// Takes an entry for this process, which the caller has checked
    /// shares `namespaces`, the segment's.
    pub(super) fn attach(seg: &Segment, namespaces: Namespaces) -> Result<Self, ShmError> {
        let generation = liveness::fork_generation();
        let owner = Self::take_entry(seg)?;
        Ok(Self {
            cached: std::sync::atomic::AtomicU64::new(Self::pack(generation, owner)),
            namespaces,
        })
    }

    #[inline]
    pub(super) fn get(&self, seg: &Segment) -> Result<Participant, ShmError> {
        let generation = liveness::fork_generation();
        // Relaxed: the word is only ever this process's own, or a copy
        // made by fork, which the generation tells apart.
        let cached = self.cached.load(std::sync::atomic::Ordering::Relaxed);
        if cached >> 16 == generation {
            if let Some(p) = Self::decode(seg, cached) {
                return Ok(p);
            }
        }
        self.reattach(seg, generation, cached)
    }

    fn decode(seg: &Segment, cached: u64) -> Option<Participant> {
        let owner = Owner::of_index(((cached & 0xffff) as usize).checked_sub(1)?)?;
        let entry = seg.entry_index(owner.index()?)?;
        Some(Participant { owner, entry })
    }

    /// This handle was copied into a forked child: take an entry of the
    /// child's own (the parent's entry stays the parent's).
    ///
    /// A child can be in a PID namespace of its own (`unshare`, `clone`
    /// with `CLONE_NEWPID`), where PIDs name other processes: it must not
    /// take part, since it would judge peers' liveness by the wrong PIDs.
    #[cold]
    fn reattach(&self, seg: &Segment, generation: u64, seen: u64) -> Result<Participant, ShmError> {
        let shared = map::own_namespaces().is_ok_and(|own| own.compatible(self.namespaces));
        if !shared {
            return Err(ShmError::ForeignNamespace);
        }
        let owner = Self::take_entry(seg)?;
        let new = Self::pack(generation, owner);
        // Relaxed: as in `get`; the CAS only picks one winner among this
        // process's threads.
        match self.cached.compare_exchange(
            seen,
            new,
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
        ) {
            Ok(_) => Self::decode(seg, new),
            Err(other) => {
                // Another thread re-attached first: give ours back.
                if let Some(p) = Self::decode(seg, new) {
                    participants::detach(seg, p.entry, liveness::current());
                }
                Self::decode(seg, other)
            }
        }
        .ok_or(ShmError::TooManyParticipants)
    }

    pub(super) fn process(&self) -> ProcessId {
        liveness::current()
    }

    /// Gives the entry back, if it belongs to this process (not to the
    /// parent this handle was copied from).
    pub(super) fn detach(&self, seg: &Segment) {
        // Relaxed: as in `get`.
        let cached = self.cached.load(std::sync::atomic::Ordering::Relaxed);
        if cached >> 16 == liveness::fork_generation() {
            if let Some(p) = Self::decode(seg, cached) {
                participants::detach(seg, p.entry, liveness::current());
            }
        }
    }
}

/// Under loom a handle is one model process, with a fixed entry.
#[cfg(loom)]
pub(super) struct Me {
    pub(super) participant: Participant,
    pub(super) process: ProcessId,
}

#[cfg(loom)]
impl Me {
    pub(super) fn get(&self, _seg: &Segment) -> Result<Participant, ShmError> {
        Ok(self.participant)
    }

    pub(super) fn process(&self) -> ProcessId {
        self.process
    }

    /// A killed model process does not detach: it is gone.
    pub(super) fn detach(&self, seg: &Segment) {
        if liveness::is_alive(seg, self.process) {
            participants::detach(seg, self.participant.entry, self.process);
        }
    }
}
