//! Typed access to the shared words of one segment.
//!
//! Outside loom a [`Segment`] owns a mapping and hands out references to the
//! atomics at the offsets its [`Layout`] computes. Under loom it is a heap
//! model with the same accessors, built of loom's atomics and cells, so the
//! protocol code above it is the same in both builds and loom checks every
//! access it makes. In the model the message bytes live in loom cells, which
//! lets loom report a reader and a writer that could touch one slot at once.
//!
//! # Shared memory and the memory model
//!
//! Another process can write any word at any time. Everything this process
//! reads or writes in the segment is therefore an atomic access, message
//! bytes included (they are copied 8 bytes at a time with relaxed atomic
//! loads and stores): no plain load can race with a peer's store, so a
//! racing or hostile peer can change the *values* this process sees, never
//! make its accesses undefined behaviour. No reference to shared bytes other
//! than these atomics is ever created. The values are then checked before
//! use (see `ring.rs`): a length is compared with the maximum message size,
//! a position's index with the capacity, an owner with the participant table.

use std::mem::MaybeUninit;

use super::words::SlotIndex;
use crate::loom::{AtomicU32, AtomicU64};

/// The index of a participant table entry, checked to be in range. Only
/// [`Segment::entry_index`] makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EntryIndex(usize);

impl EntryIndex {
    pub(crate) const fn get(self) -> usize {
        self.0
    }
}

/// One participant table entry.
pub(crate) struct Entry<'a> {
    /// Free, alive (pid and start time) or being recovered; see
    /// `participants.rs`.
    pub(crate) ident: &'a AtomicU64,
    /// How many of the sleepers counted in the queue's pop, push and join
    /// waiters are this participant's threads.
    pub(crate) sleepers: [&'a AtomicU32; 3],
}

/// Which of the three wait words: poppers, pushers, joiners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Pop = 0,
    Push = 1,
    Join = 2,
}

impl Side {
    pub(crate) const ALL: [Side; 3] = [Side::Pop, Side::Push, Side::Join];
}

#[cfg(not(loom))]
pub(crate) use mapped::Segment;
#[cfg(loom)]
pub(crate) use model::Segment;

impl Segment {
    /// The entry of participant `index`, if the table has one.
    pub(crate) fn entry_index(&self, index: usize) -> Option<EntryIndex> {
        (index < self.layout().participants).then_some(EntryIndex(index))
    }

    /// Every entry index of the table.
    pub(crate) fn entries(&self) -> impl Iterator<Item = EntryIndex> {
        (0..self.layout().participants).map(EntryIndex)
    }
}

#[cfg(not(loom))]
mod mapped {
    use std::sync::atomic::AtomicU8;

    use super::super::layout::{self, Layout};
    use super::super::map::Mapping;
    use super::super::wait::Epoch;
    use super::*;

    /// A mapped segment.
    pub(crate) struct Segment {
        map: Mapping,
        layout: Layout,
    }

    impl Segment {
        /// Wraps a mapping whose length is at least `layout.total`.
        ///
        /// # Panics
        ///
        /// If the mapping is shorter than the layout: a bug in `map.rs`.
        pub(crate) fn new(map: Mapping, layout: Layout) -> Self {
            assert!(map.len() >= layout.total, "mapping shorter than its layout");
            Self { map, layout }
        }

        pub(crate) fn layout(&self) -> &Layout {
            &self.layout
        }

        pub(crate) fn mapping(&self) -> &Mapping {
            &self.map
        }

        /// The atomic at `offset`.
        ///
        /// # Safety
        ///
        /// `offset` must be a multiple of `align_of::<A>()` with
        /// `offset + size_of::<A>() <= layout.total`, and `A` must be one of
        /// the atomic integer types.
        #[inline(always)]
        unsafe fn at<A>(&self, offset: usize) -> &A {
            debug_assert!(offset + std::mem::size_of::<A>() <= self.layout.total);
            debug_assert_eq!(offset % std::mem::align_of::<A>(), 0);
            // SAFETY: the mapping is page-aligned and at least
            // `layout.total` bytes long, and lives as long as `self`; the
            // caller guarantees the offset is in bounds and aligned for `A`.
            // Atomic integers have the size and alignment of their integer
            // and allow shared mutation, so a shared reference to one in
            // memory other processes also write is sound; see the module
            // docs.
            unsafe { &*self.map.as_ptr().add(offset).cast::<A>() }
        }

        pub(crate) fn tail(&self) -> &AtomicU64 {
            // SAFETY: a fixed, 8-aligned offset inside the header page.
            unsafe { self.at(layout::OFF_TAIL) }
        }

        pub(crate) fn head(&self) -> &AtomicU64 {
            // SAFETY: a fixed, 8-aligned offset inside the header page.
            unsafe { self.at(layout::OFF_HEAD) }
        }

        pub(crate) fn unfinished(&self) -> &AtomicU64 {
            // SAFETY: a fixed, 8-aligned offset inside the header page.
            unsafe { self.at(layout::OFF_TASKS) }
        }

        /// The sleeper count and futex word of one kind of waiter.
        pub(crate) fn waiters(&self, side: Side) -> (&AtomicU32, Epoch<'_>) {
            let at = match side {
                Side::Pop => layout::OFF_POP_WAITERS,
                Side::Push => layout::OFF_PUSH_WAITERS,
                Side::Join => layout::OFF_JOIN_WAITERS,
            };
            // SAFETY: fixed, 8-aligned offsets inside the header page, each
            // followed by the 4-byte epoch.
            unsafe { (self.at(at), Epoch::new(self.at(at + 4))) }
        }

        pub(crate) fn entry(&self, index: EntryIndex) -> Entry<'_> {
            let at = self.layout.entry_at(index.get());
            // SAFETY: `EntryIndex` is below `participants`, so the 64-byte
            // entry at this 64-aligned offset lies inside the table, and the
            // fields' offsets are aligned for their types.
            unsafe {
                Entry {
                    ident: self.at(at + layout::ENTRY_IDENT),
                    sleepers: [
                        self.at(at + layout::ENTRY_POP_SLEEPERS),
                        self.at(at + layout::ENTRY_PUSH_SLEEPERS),
                        self.at(at + layout::ENTRY_JOIN_SLEEPERS),
                    ],
                }
            }
        }

        pub(crate) fn slot_word(&self, index: SlotIndex) -> &AtomicU64 {
            // SAFETY: `SlotIndex` is below `capacity`, so the slot lies inside
            // the slot array; slots are 64-aligned.
            unsafe { self.at(self.layout.slot_at(index.get()) + layout::SLOT_WORD) }
        }

        fn slot_len(&self, index: SlotIndex) -> &AtomicU32 {
            // SAFETY: as in `slot_word`; the length is 8 bytes in.
            unsafe { self.at(self.layout.slot_at(index.get()) + layout::SLOT_LEN) }
        }

        /// The first byte of a slot's message area, `max_message` bytes long
        /// and 8-aligned.
        fn data(&self, index: SlotIndex) -> *mut u8 {
            let at = self.layout.slot_at(index.get()) + layout::SLOT_DATA;
            // SAFETY: in bounds, as in `slot_word`: the message area ends
            // within the slot's stride.
            unsafe { self.map.as_ptr().add(at) }
        }

        /// Writes a message made of `parts` (together at most `max_message`
        /// bytes) and its length into a slot.
        ///
        /// # Safety
        ///
        /// The caller must own the slot (have claimed its position for a
        /// push and not published it), so that no correct participant
        /// touches its message area meanwhile.
        pub(crate) unsafe fn write_message(&self, index: SlotIndex, parts: &[&[u8]]) {
            let data = self.data(index);
            let mut at = 0;
            for part in parts {
                debug_assert!(at + part.len() <= self.layout.max_message);
                // SAFETY: `at + part.len() <= max_message`, checked by the
                // caller's `TooLarge` test, so the range is inside the area.
                unsafe { store_bytes(data.add(at), part) };
                at += part.len();
            }
            // Relaxed: the Release store of the slot word publishes it.
            self.slot_len(index)
                .store(at as u32, std::sync::atomic::Ordering::Relaxed);
        }

        /// The length a slot's writer stored: unchecked, as another process
        /// may have written anything there.
        ///
        /// # Safety
        ///
        /// The caller must own the slot (have claimed its position for a
        /// pop and not released it).
        pub(crate) unsafe fn message_len(&self, index: SlotIndex) -> u32 {
            // Relaxed: ordered after the writer's store by the Acquire load
            // of the slot word that preceded the claim.
            self.slot_len(index)
                .load(std::sync::atomic::Ordering::Relaxed)
        }

        /// Copies the first `out.len()` message bytes of a slot into `out`.
        ///
        /// # Safety
        ///
        /// The caller must own the slot, as for [`message_len`](Self::message_len),
        /// and `out.len()` must not exceed `max_message`.
        pub(crate) unsafe fn read_message(&self, index: SlotIndex, out: &mut [MaybeUninit<u8>]) {
            debug_assert!(out.len() <= self.layout.max_message);
            // SAFETY: `out.len() <= max_message`, so the range is inside the
            // slot's message area.
            unsafe { load_bytes(self.data(index), out) }
        }
    }

    /// Stores `src` at `dst` with relaxed atomic stores, 8 bytes at a time
    /// where `dst` is 8-aligned.
    ///
    /// # Safety
    ///
    /// `dst..dst + src.len()` must lie inside the mapping.
    unsafe fn store_bytes(dst: *mut u8, src: &[u8]) {
        let head = dst.align_offset(8).min(src.len());
        let (first, rest) = src.split_at(head);
        let chunks = rest.chunks_exact(8);
        let tail = chunks.remainder();
        for (i, &b) in first.iter().enumerate() {
            // SAFETY: in bounds by the caller's contract; any address is
            // aligned for `AtomicU8`.
            unsafe { (*dst.add(i).cast::<AtomicU8>()).store(b, Relaxed) };
        }
        let mut at = head;
        for chunk in chunks {
            let word = u64::from_ne_bytes(chunk.try_into().expect("8-byte chunk"));
            // SAFETY: in bounds by the caller's contract, and `dst + at` is
            // 8-aligned: `head` aligned it and every step adds 8.
            unsafe { (*dst.add(at).cast::<AtomicU64>()).store(word, Relaxed) };
            at += 8;
        }
        for (i, &b) in tail.iter().enumerate() {
            // SAFETY: in bounds by the caller's contract.
            unsafe { (*dst.add(at + i).cast::<AtomicU8>()).store(b, Relaxed) };
        }
    }

    /// Loads `out.len()` bytes from `src` with relaxed atomic loads, 8 at a
    /// time where `src` is 8-aligned.
    ///
    /// # Safety
    ///
    /// `src..src + out.len()` must lie inside the mapping.
    unsafe fn load_bytes(src: *const u8, out: &mut [MaybeUninit<u8>]) {
        let head = src.align_offset(8).min(out.len());
        let (first, rest) = out.split_at_mut(head);
        for (i, b) in first.iter_mut().enumerate() {
            // SAFETY: in bounds by the caller's contract.
            b.write(unsafe { (*src.add(i).cast::<AtomicU8>()).load(Relaxed) });
        }
        let mut at = head;
        let mut chunks = rest.chunks_exact_mut(8);
        for chunk in &mut chunks {
            // SAFETY: in bounds and 8-aligned, as in `store_bytes`.
            let word = unsafe { (*src.add(at).cast::<AtomicU64>()).load(Relaxed) };
            // SAFETY: `chunk` is 8 writable bytes; `[u8; 8]` needs no
            // alignment.
            unsafe {
                chunk
                    .as_mut_ptr()
                    .cast::<[u8; 8]>()
                    .write(word.to_ne_bytes())
            };
            at += 8;
        }
        for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
            // SAFETY: in bounds by the caller's contract.
            b.write(unsafe { (*src.add(at + i).cast::<AtomicU8>()).load(Relaxed) });
        }
    }

    // Relaxed for the bytes: the slot word's Release store and Acquire load
    // order them; the atomics only keep a racing peer from causing UB.
    use std::sync::atomic::Ordering::Relaxed;

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn byte_copies_round_trip_at_every_alignment_and_length() {
            let mut area = vec![0u64; 8];
            let base = area.as_mut_ptr().cast::<u8>();
            for start in 0..8 {
                for len in 0..40 {
                    let src: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(7) + 1).collect();
                    // SAFETY: start + len <= 47 < 64 bytes of `area`.
                    unsafe { store_bytes(base.add(start), &src) };
                    let mut out = vec![MaybeUninit::new(0u8); len];
                    // SAFETY: as above.
                    unsafe { load_bytes(base.add(start), &mut out) };
                    // SAFETY: `load_bytes` wrote every element.
                    let out: Vec<u8> = out.iter().map(|b| unsafe { b.assume_init() }).collect();
                    assert_eq!(out, src, "start {start} len {len}");
                }
            }
        }
    }
}

#[cfg(loom)]
mod model {
    use std::sync::Arc;

    use super::super::layout::Layout;
    use super::*;
    use crate::loom::{AtomicBool, Futex, Ordering, UnsafeCell};

    use super::super::wait::Epoch;

    struct Slot {
        word: AtomicU64,
        message: UnsafeCell<(u32, Vec<u8>)>,
    }

    struct EntryCells {
        ident: AtomicU64,
        sleepers: [AtomicU32; 3],
    }

    struct Waiters {
        sleepers: AtomicU32,
        epoch: Futex,
    }

    /// The shared state of one modelled segment.
    pub(crate) struct Model {
        tail: AtomicU64,
        head: AtomicU64,
        unfinished: AtomicU64,
        waiters: [Waiters; 3],
        entries: Vec<EntryCells>,
        slots: Vec<Slot>,
        /// Which model processes (by pid) have died; see `liveness.rs`.
        pub(crate) dead: Vec<AtomicBool>,
        /// The next model pid to hand out.
        pub(crate) next_pid: AtomicU32,
    }

    // SAFETY: the model stands for memory shared between processes. Its
    // cells are only touched by the participant that owns the slot under
    // the ring protocol, which is exactly what loom checks on every access.
    unsafe impl Sync for Model {}
    // SAFETY: as above; nothing in it is tied to a thread.
    unsafe impl Send for Model {}

    /// A modelled segment, shared by the handles of one model.
    #[derive(Clone)]
    pub(crate) struct Segment {
        model: Arc<Model>,
        layout: Layout,
    }

    /// How many model processes one model may start.
    pub(crate) const MODEL_PIDS: usize = 8;

    impl Segment {
        /// A fresh, zeroed segment of `layout`: what `map.rs` initialises.
        pub(crate) fn new(layout: Layout) -> Self {
            let waiters = || Waiters {
                sleepers: AtomicU32::new(0),
                epoch: Futex::new(0),
            };
            let model = Model {
                tail: AtomicU64::new(0),
                head: AtomicU64::new(0),
                unfinished: AtomicU64::new(0),
                waiters: [waiters(), waiters(), waiters()],
                entries: (0..layout.participants)
                    .map(|_| EntryCells {
                        ident: AtomicU64::new(0),
                        sleepers: [AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0)],
                    })
                    .collect(),
                slots: (0..layout.capacity)
                    .map(|_| Slot {
                        word: AtomicU64::new(0),
                        message: UnsafeCell::new((0, vec![0; layout.max_message])),
                    })
                    .collect(),
                dead: (0..MODEL_PIDS).map(|_| AtomicBool::new(false)).collect(),
                next_pid: AtomicU32::new(1),
            };
            Self {
                model: Arc::new(model),
                layout,
            }
        }

        pub(crate) fn model(&self) -> &Model {
            &self.model
        }

        pub(crate) fn layout(&self) -> &Layout {
            &self.layout
        }

        pub(crate) fn tail(&self) -> &AtomicU64 {
            &self.model.tail
        }

        pub(crate) fn head(&self) -> &AtomicU64 {
            &self.model.head
        }

        pub(crate) fn unfinished(&self) -> &AtomicU64 {
            &self.model.unfinished
        }

        pub(crate) fn waiters(&self, side: Side) -> (&AtomicU32, Epoch<'_>) {
            let w = &self.model.waiters[side as usize];
            (&w.sleepers, Epoch::new(&w.epoch))
        }

        pub(crate) fn entry(&self, index: EntryIndex) -> Entry<'_> {
            let e = &self.model.entries[index.get()];
            Entry {
                ident: &e.ident,
                sleepers: [&e.sleepers[0], &e.sleepers[1], &e.sleepers[2]],
            }
        }

        pub(crate) fn slot_word(&self, index: SlotIndex) -> &AtomicU64 {
            &self.model.slots[index.get()].word
        }

        /// # Safety
        ///
        /// As in the mapped segment: the caller owns the slot.
        pub(crate) unsafe fn write_message(&self, index: SlotIndex, parts: &[&[u8]]) {
            self.model.slots[index.get()].message.with_mut(|m| {
                // SAFETY: the caller owns the slot, so nothing else accesses
                // the cell; loom checks that claim.
                let (len, data) = unsafe { &mut *m };
                let mut at = 0;
                for part in parts {
                    data[at..at + part.len()].copy_from_slice(part);
                    at += part.len();
                }
                *len = at as u32;
            })
        }

        /// # Safety
        ///
        /// As in the mapped segment: the caller owns the slot.
        pub(crate) unsafe fn message_len(&self, index: SlotIndex) -> u32 {
            // SAFETY: the caller owns the slot; loom checks that claim.
            self.model.slots[index.get()]
                .message
                .with(|m| unsafe { (*m).0 })
        }

        /// # Safety
        ///
        /// As in the mapped segment: the caller owns the slot, and
        /// `out.len() <= max_message`.
        pub(crate) unsafe fn read_message(&self, index: SlotIndex, out: &mut [MaybeUninit<u8>]) {
            self.model.slots[index.get()].message.with(|m| {
                // SAFETY: the caller owns the slot; loom checks that claim.
                let data = unsafe { &(*m).1 };
                for (o, b) in out.iter_mut().zip(data) {
                    o.write(*b);
                }
            })
        }
    }

    impl Model {
        /// Marks model process `pid` dead, after everything it did.
        pub(crate) fn kill(&self, pid: u32) {
            // Release: whoever sees it dead also sees all it did before.
            self.dead[pid as usize].store(true, Ordering::Release);
        }
    }
}
