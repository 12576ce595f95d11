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
//! bytes included: a slot's message area is a whole number of aligned
//! 8-byte words, always accessed as `AtomicU64` (relaxed; the slot word's
//! Release and Acquire order them), with a message's parts assembled into
//! words before they are stored. So every location has one access size,
//! no plain load can race with a peer's store, and a racing or hostile
//! peer can change the *values* this process sees, never make its accesses
//! undefined behaviour. No reference to shared bytes other
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

        #[inline]
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

        #[inline]
        pub(crate) fn tail(&self) -> &AtomicU64 {
            // SAFETY: a fixed, 8-aligned offset inside the header page.
            unsafe { self.at(layout::OFF_TAIL) }
        }

        #[inline]
        pub(crate) fn head(&self) -> &AtomicU64 {
            // SAFETY: a fixed, 8-aligned offset inside the header page.
            unsafe { self.at(layout::OFF_HEAD) }
        }

        #[inline]
        pub(crate) fn unfinished(&self) -> &AtomicU64 {
            // SAFETY: a fixed, 8-aligned offset inside the header page.
            unsafe { self.at(layout::OFF_TASKS) }
        }

        /// The sleeper count and futex word of one kind of waiter.
        #[inline]
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

        #[inline]
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

        #[inline]
        pub(crate) fn slot_word(&self, index: SlotIndex) -> &AtomicU64 {
            // SAFETY: `SlotIndex` is below `capacity`, so the slot lies inside
            // the slot array; slots are 64-aligned.
            unsafe { self.at(self.layout.slot_at(index.get()) + layout::SLOT_WORD) }
        }

        #[inline]
        fn slot_len(&self, index: SlotIndex) -> &AtomicU32 {
            // SAFETY: as in `slot_word`; the length is 8 bytes in.
            unsafe { self.at(self.layout.slot_at(index.get()) + layout::SLOT_LEN) }
        }

        /// The first byte of a slot's message area: 8-aligned, and a whole
        /// number of 8-byte words long (at least `max_message` bytes, as the
        /// stride is `16 + max_message` rounded up to 64).
        #[inline]
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
        #[inline]
        pub(crate) unsafe fn write_message(&self, index: SlotIndex, parts: &[&[u8]]) {
            let mut words = WordWriter {
                next: self.data(index).cast::<AtomicU64>(),
                pending: [0; 8],
                filled: 0,
            };
            let mut total = 0;
            for part in parts {
                debug_assert!(total + part.len() <= self.layout.max_message);
                // SAFETY: the parts together fit in `max_message` bytes,
                // checked by the caller's `TooLarge` test, and the message
                // area is `max_message` rounded up to whole words.
                unsafe { words.write(part) };
                total += part.len();
            }
            // SAFETY: as above.
            unsafe { words.finish() };
            // Relaxed: the Release store of the slot word publishes it.
            self.slot_len(index)
                .store(total as u32, std::sync::atomic::Ordering::Relaxed);
        }

        /// The length a slot's writer stored: unchecked, as another process
        /// may have written anything there.
        ///
        /// # Safety
        ///
        /// The caller must own the slot (have claimed its position for a
        /// pop and not released it).
        #[inline]
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
        #[inline]
        pub(crate) unsafe fn read_message(&self, index: SlotIndex, out: &mut [MaybeUninit<u8>]) {
            debug_assert!(out.len() <= self.layout.max_message);
            // SAFETY: `out.len() <= max_message`, so the words that cover it
            // are inside the slot's message area.
            unsafe { load_words(self.data(index).cast::<AtomicU64>(), out) }
        }
    }

    /// Writes a message into a slot's message area as whole aligned 8-byte
    /// words, so that every access to the area is an `AtomicU64` of one
    /// size and alignment: parts that do not end on a word boundary are
    /// assembled in `pending` first. Bytes of the last word past the
    /// message are zero.
    struct WordWriter {
        /// The next word to store.
        next: *const AtomicU64,
        /// Bytes of the next word received so far.
        pending: [u8; 8],
        filled: usize,
    }

    impl WordWriter {
        /// Appends `src`.
        ///
        /// # Safety
        ///
        /// The words this call and `finish` store (the message so far, plus
        /// `src`, rounded up to whole words) must lie in the message area.
        #[inline]
        unsafe fn write(&mut self, mut src: &[u8]) {
            if self.filled > 0 {
                let take = (8 - self.filled).min(src.len());
                self.pending[self.filled..self.filled + take].copy_from_slice(&src[..take]);
                self.filled += take;
                src = &src[take..];
                if self.filled < 8 {
                    return;
                }
                // SAFETY: within the area, by the caller's contract.
                unsafe { self.store(u64::from_ne_bytes(self.pending)) };
                self.filled = 0;
            }
            let mut chunks = src.chunks_exact(8);
            // The cursor lives in a local for the loop: stored through
            // `self` after every word, it made each store wait for the
            // previous one's write of the cursor to memory.
            let mut next = self.next;
            for chunk in &mut chunks {
                let word = u64::from_ne_bytes(chunk.try_into().expect("8 bytes"));
                // SAFETY: `next` is an aligned word of the area, by the
                // caller's contract.
                unsafe { (*next).store(word, Relaxed) };
                // SAFETY: one word further; only dereferenced while the
                // caller's contract covers it.
                next = unsafe { next.add(1) };
            }
            self.next = next;
            let rest = chunks.remainder();
            if !rest.is_empty() {
                self.pending = [0; 8];
                self.pending[..rest.len()].copy_from_slice(rest);
            }
            self.filled = rest.len();
        }

        /// Stores the last, partial word.
        ///
        /// # Safety
        ///
        /// As for [`write`](Self::write).
        #[inline]
        unsafe fn finish(mut self) {
            if self.filled > 0 {
                // SAFETY: within the area, by the caller's contract.
                unsafe { self.store(u64::from_ne_bytes(self.pending)) };
            }
        }

        /// # Safety
        ///
        /// `next` must be a word of the message area.
        #[inline(always)]
        unsafe fn store(&mut self, word: u64) {
            // SAFETY: `next` is an aligned word of the mapping, by the
            // caller's contract.
            unsafe { (*self.next).store(word, Relaxed) };
            // SAFETY: one word further; only dereferenced if the caller's
            // contract covers it.
            self.next = unsafe { self.next.add(1) };
        }
    }

    /// Loads `out.len()` bytes from the words at `src` with relaxed,
    /// aligned 8-byte atomic loads; of the last word only the bytes needed.
    ///
    /// # Safety
    ///
    /// The `out.len()` bytes at `src`, rounded up to whole words, must lie
    /// inside the mapping, and `src` must be 8-aligned.
    #[inline]
    unsafe fn load_words(src: *const AtomicU64, out: &mut [MaybeUninit<u8>]) {
        let mut chunks = out.chunks_exact_mut(8);
        let mut at = src;
        for chunk in &mut chunks {
            // SAFETY: an aligned word in bounds, by the caller's contract.
            let word = unsafe { (*at).load(Relaxed) };
            // SAFETY: `chunk` is 8 writable bytes; `[u8; 8]` needs no
            // alignment.
            unsafe {
                chunk
                    .as_mut_ptr()
                    .cast::<[u8; 8]>()
                    .write(word.to_ne_bytes())
            };
            // SAFETY: the next word; dereferenced only while in bounds.
            at = unsafe { at.add(1) };
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            // SAFETY: the last, partial word is in bounds: the caller's
            // range is rounded up to whole words.
            let word = unsafe { (*at).load(Relaxed) }.to_ne_bytes();
            for (o, b) in rest.iter_mut().zip(word) {
                o.write(b);
            }
        }
    }

    // Relaxed for the message words: the slot word's Release CAS and
    // Acquire load order them; the atomics only keep a racing peer from
    // causing undefined behaviour.
    use std::sync::atomic::Ordering::Relaxed;

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn messages_round_trip_whatever_their_parts() {
            let mut area: [AtomicU64; 8] = std::array::from_fn(|_| AtomicU64::new(u64::MAX));
            let base = area.as_mut_ptr();
            for len in 0..=64usize {
                let msg: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(7) + 1).collect();
                for split in [0, 1, 3, 8, 9, len / 2, len] {
                    let (a, rest) = msg.split_at(split.min(len));
                    let (b, c) = rest.split_at(rest.len() / 3);
                    let mut w = WordWriter {
                        next: base,
                        pending: [0; 8],
                        filled: 0,
                    };
                    // SAFETY: at most 64 bytes, the 8 words of `area`.
                    unsafe {
                        for part in [a, b, c] {
                            w.write(part);
                        }
                        w.finish();
                    }
                    let mut out = vec![MaybeUninit::new(0u8); len];
                    // SAFETY: as above; `area` is 8-aligned.
                    unsafe { load_words(base, &mut out) };
                    // SAFETY: `load_words` wrote every element.
                    let out: Vec<u8> = out.iter().map(|b| unsafe { b.assume_init() }).collect();
                    assert_eq!(out, msg, "len {len} split {split}");
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
