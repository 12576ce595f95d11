//! An unbounded multi-producer multi-consumer queue of linked ring segments.
//!
//! # Algorithm
//!
//! The design of crossbeam's `SegQueue` and list channel. Items live in
//! fixed-size segments linked into a list. `head` and `tail` are each an index
//! plus a segment pointer. An index counts slots, shifted left by one bit to
//! make room for a flag; within a segment every `LAP` indices hold
//! `SEGMENT_CAP = LAP - 1` slots, and the one extra index marks "the next
//! segment is being installed".
//!
//! - A pusher claims a slot by CAS on the tail index, writes the item, and
//!   sets the slot's `WRITE` bit with Release. The pusher that claims the last
//!   slot of a segment installs the next segment (allocated before its CAS,
//!   so the CAS winner never allocates) and bumps the index past the marker.
//! - A popper claims a slot by CAS on the head index, waits for `WRITE` (a
//!   pusher that claimed the slot is about to set it), and takes the item.
//!   The popper that takes the last slot moves `head` to the next segment.
//! - Segments are freed by whichever popper finishes last with them: each
//!   popper sets `READ` on its slot, and the one that finds `DESTROY` set (or
//!   that took the last slot) walks the rest, handing the job on to any popper
//!   still reading. So memory follows the number of items held, not the
//!   number ever pushed.
//!
//! The low bit of the tail index is the closed mark: [`close`] sets it with
//! one `fetch_or`, so every later CAS on the tail fails and the push sees the
//! queue closed. The low bit of the head index instead caches "there is a
//! segment after this one", which lets a popper skip a look at `tail`.
//!
//! Batches claim up to the rest of the current segment with one CAS.
//!
//! # Progress
//!
//! Pushes never wait for room, and nothing parks but the blocking pops. A
//! pop whose slot a pusher has claimed but not yet written spins until the
//! pusher finishes, as does a push or pop that reaches the end of a segment
//! while another pusher is still linking the next one, however long that
//! thread is preempted. See the [crate docs](crate#progress).
//!
//! [`close`]: UnboundedQueue::close

use std::alloc::{self, Layout};
use std::fmt;
use std::mem::MaybeUninit;
use std::ptr;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::blocking::{self, PopSide, PushSide};
use crate::error::{Closed, PopTimeoutError, PushError, TryPopError, TryPushError};
use crate::loom::{
    fence, AtomicPtr, AtomicUsize, Backoff, LeakCheck, Ordering, UnsafeCell, PLAIN_MEMORY,
};
use crate::wait::WaitQueue;

// Slot states.
/// The item has been written.
const WRITE: usize = 1;
/// The item has been taken.
const READ: usize = 2;
/// The segment is being freed; whoever reads this slot last must go on freeing it.
const DESTROY: usize = 4;

/// Indices per segment, at most: a queue uses `LAP` (see [`Lap`]). A power
/// of two, so that it divides the number of indices and segments line up
/// on both sides of the point where the indices wrap.
const LAP: usize = if cfg!(loom) { 4 } else { 32 };
/// Slots per segment, at most: one index per lap is the "next segment" marker.
const SEGMENT_CAP: usize = LAP - 1;

/// How many indices per segment a queue uses. Outside loom always [`LAP`],
/// and this takes no room. Under loom a model may pick fewer (2 or 3 per
/// segment, [`UnboundedQueue::with_segment_slots`]), to cross segment
/// boundaries with fewer items; the default there is 3, two slots.
#[derive(Clone, Copy, Debug)]
struct Lap(#[cfg(loom)] usize);

impl Lap {
    #[cfg(not(loom))]
    const DEFAULT: Self = Self();
    #[cfg(loom)]
    const DEFAULT: Self = Self(3);

    /// Indices per segment.
    #[inline(always)]
    fn get(self) -> usize {
        #[cfg(loom)]
        return self.0;
        #[cfg(not(loom))]
        LAP
    }

    /// Slots per segment.
    #[inline(always)]
    fn slots(self) -> usize {
        self.get() - 1
    }
}
/// Indices are shifted by this much to make room for a flag bit.
const SHIFT: usize = 1;
/// In the tail index: the queue is closed. In the head index: a next segment exists.
const MARK_BIT: usize = 1;

struct Slot<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    state: AtomicUsize,
}

impl<T> Slot<T> {
    /// Waits until the pusher that claimed this slot has written it.
    fn wait_write(&self) {
        let backoff = Backoff::new();
        // Acquire: pairs with the pusher's Release of WRITE; makes the item visible.
        while self.state.load(Ordering::Acquire) & WRITE == 0 {
            backoff.snooze();
        }
    }
}

struct Segment<T> {
    next: AtomicPtr<Segment<T>>,
    slots: [Slot<T>; SEGMENT_CAP],
    /// Under loom, makes the models fail if a segment is never freed.
    _freed: LeakCheck,
}

impl<T> Segment<T> {
    /// Allocates an empty segment, on the heap from the start: built on the
    /// stack and moved, a segment of large items would overflow it.
    ///
    /// Aborts through [`alloc::handle_alloc_error`] if the allocator fails, as
    /// `Box::new` does.
    fn new() -> Box<Self> {
        if !PLAIN_MEMORY {
            // Loom's atomics and cells carry state and must be constructed.
            return Box::new(Self {
                next: AtomicPtr::new(ptr::null_mut()),
                slots: std::array::from_fn(|_| Slot {
                    value: UnsafeCell::new(MaybeUninit::uninit()),
                    state: AtomicUsize::new(0),
                }),
                _freed: LeakCheck::new(()),
            });
        }
        let layout = Layout::new::<Self>();
        // SAFETY: the layout has a non-zero size: a segment holds atomics.
        let segment = unsafe { alloc::alloc_zeroed(layout) }.cast::<Self>();
        if segment.is_null() {
            alloc::handle_alloc_error(layout);
        }
        // SAFETY: zeroed memory is an empty segment: a null `next`, every
        // state 0, values that are `MaybeUninit`, and (outside loom) a
        // `LeakCheck` that has no bytes. It was allocated by
        // the global allocator with the layout of `Self`, as `Box` requires.
        unsafe { Box::from_raw(segment) }
    }

    /// Waits until the pusher that filled this segment links the next one.
    fn wait_next(&self) -> *mut Self {
        let backoff = Backoff::new();
        loop {
            // Acquire: pairs with the Release store that links the segment.
            let next = self.next.load(Ordering::Acquire);
            if !next.is_null() {
                return next;
            }
            backoff.snooze();
        }
    }

    /// Frees the segment once every slot from `start` on has been read.
    ///
    /// # Safety
    ///
    /// `this` must be a live segment of `lap`, whose last slot has been
    /// read, and every slot before `start` must have been read too.
    unsafe fn destroy(this: *mut Self, start: usize, lap: Lap) {
        // The last slot is not checked: its reader is the one that started
        // the destruction.
        for i in start..lap.slots() - 1 {
            // SAFETY: the segment stays allocated until this loop decides to
            // free it, and only the thread running this loop can free it.
            let slot = unsafe { &(*this).slots[i] };
            // AcqRel: Acquire sees the reader's work on the slot before we
            // free it; Release hands our DESTROY to that reader if it is not done.
            if slot.state.load(Ordering::Acquire) & READ == 0
                && slot.state.fetch_or(DESTROY, Ordering::AcqRel) & READ == 0
            {
                // That slot's reader will go on freeing from `i + 1`.
                return;
            }
        }
        // SAFETY: every slot has been read and no thread holds a pointer to
        // the segment any more: `head` has moved past it.
        drop(unsafe { Box::from_raw(this) });
    }
}

/// An end of the queue: an index, and the segment it points into.
struct Position<T> {
    index: AtomicUsize,
    segment: AtomicPtr<Segment<T>>,
}

/// An unbounded multi-producer multi-consumer queue.
///
/// Pushes never wait and never report Full; pops block while it is empty.
/// Share it by reference or in an `Arc`.
///
/// Memory is allocated in segments of 31 items as the queue grows, and each
/// segment is freed as soon as its last item is popped.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use ringq::UnboundedQueue;
///
/// let q = Arc::new(UnboundedQueue::new());
/// let workers: Vec<_> = (0..2)
///     .map(|_| {
///         let q = Arc::clone(&q);
///         std::thread::spawn(move || {
///             let mut done = 0;
///             while let Ok(job) = q.pop() {
///                 done += job;
///             }
///             done
///         })
///     })
///     .collect();
/// for job in 1..=100 {
///     q.push(job).unwrap();
/// }
/// q.close();
/// let total: i32 = workers.into_iter().map(|w| w.join().unwrap()).sum();
/// assert_eq!(total, 5050);
/// ```
pub struct UnboundedQueue<T> {
    head: CachePadded<Position<T>>,
    tail: CachePadded<Position<T>>,
    readers: CachePadded<WaitQueue>,
    lap: Lap,
}

// SAFETY: items move between threads through the queue, so `T: Send` is
// required and enough; each slot is accessed by the one thread that claimed
// it with a CAS, as argued at each access.
unsafe impl<T: Send> Send for UnboundedQueue<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for UnboundedQueue<T> {}

impl<T> Default for UnboundedQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> UnboundedQueue<T> {
    /// Creates an empty queue. The first segment is allocated by the first push.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::UnboundedQueue::<String>::new();
    /// assert!(q.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::with_start(0, Lap::DEFAULT)
    }

    /// Like [`new`](Self::new), but with the indices starting
    /// `pushes_before_wrap` pushes (rounded up to whole segments) below the
    /// point where they wrap around. For tests only.
    #[cfg(feature = "__near_wrap")]
    #[doc(hidden)]
    pub fn new_near_wrap(pushes_before_wrap: usize) -> Self {
        // Whole segments, so the first one is used from its first slot.
        // (`usize::div_ceil` would need Rust 1.73.)
        let segments =
            pushes_before_wrap / SEGMENT_CAP + usize::from(pushes_before_wrap % SEGMENT_CAP != 0);
        Self::with_start(0usize.wrapping_sub(segments * LAP) << SHIFT, Lap::DEFAULT)
    }

    /// Under loom: a queue whose segments hold `slots` items (2 or 3), so
    /// that a model can cross segment boundaries with fewer items, or run
    /// the freeing of a segment with more than two readers. For the models
    /// only.
    ///
    /// # Panics
    ///
    /// If `slots` is not 2 or 3.
    #[cfg(loom)]
    #[doc(hidden)]
    pub fn with_segment_slots(slots: usize) -> Self {
        assert!(
            (2..=SEGMENT_CAP).contains(&slots),
            "2 or 3 slots per segment"
        );
        Self::with_start(0, Lap(slots + 1))
    }

    /// A queue whose head and tail indices start at `index`, the start of
    /// a segment, with `lap` indices per segment.
    fn with_start(index: usize, lap: Lap) -> Self {
        Self {
            head: CachePadded::new(Position {
                index: AtomicUsize::new(index),
                segment: AtomicPtr::new(ptr::null_mut()),
            }),
            tail: CachePadded::new(Position {
                index: AtomicUsize::new(index),
                segment: AtomicPtr::new(ptr::null_mut()),
            }),
            readers: CachePadded::new(WaitQueue::new()),
            lap,
        }
    }

    /// Claims up to `max` consecutive slots in the tail segment with one CAS.
    ///
    /// Returns the segment, the first slot's offset and how many were claimed
    /// (at least one).
    fn claim_push(&self, max: usize) -> Result<(*mut Segment<T>, usize, usize), Closed> {
        debug_assert!(max > 0);
        let lap = self.lap.get();
        let backoff = Backoff::new();
        // Acquire (both): pairs with the Release stores that install a
        // segment, so the segment we read is initialised.
        let mut tail = self.tail.index.load(Ordering::Acquire);
        let mut segment = self.tail.segment.load(Ordering::Acquire);
        let mut next_segment: Option<Box<Segment<T>>> = None;
        loop {
            if tail & MARK_BIT != 0 {
                return Err(Closed);
            }
            let offset = (tail >> SHIFT) % lap;
            if offset == lap - 1 {
                // Another pusher is installing the next segment.
                backoff.snooze();
                tail = self.tail.index.load(Ordering::Acquire);
                segment = self.tail.segment.load(Ordering::Acquire);
                continue;
            }
            let count = max.min(lap - 1 - offset);
            let fills_segment = offset + count == lap - 1;
            // Allocate before the CAS, so the winner never waits on malloc
            // while other pushers spin on the marker.
            if fills_segment && next_segment.is_none() {
                next_segment = Some(Segment::new());
            }
            if segment.is_null() {
                // The very first push installs the first segment.
                let new = Box::into_raw(next_segment.take().unwrap_or_else(Segment::new));
                // Release: publishes the segment's initialisation.
                match self.tail.segment.compare_exchange(
                    segment,
                    new,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // Release: publishes the segment to poppers.
                        self.head.segment.store(new, Ordering::Release);
                        segment = new;
                        // Go round again: the claim may still need a spare
                        // segment to install after this one.
                        continue;
                    }
                    Err(_) => {
                        // SAFETY: `new` came from `Box::into_raw` above and
                        // was never shared.
                        next_segment = Some(unsafe { Box::from_raw(new) });
                        tail = self.tail.index.load(Ordering::Acquire);
                        segment = self.tail.segment.load(Ordering::Acquire);
                        continue;
                    }
                }
            }
            let new_tail = tail.wrapping_add(count << SHIFT);
            // SeqCst on success: the CAS must not be reordered with the
            // segment loads of this iteration (Acquire) nor the installation
            // below (Release), and a popper's SeqCst fence must see it before
            // it declares the queue empty. Acquire on failure: we reload the
            // segment that goes with the new index.
            match self.tail.index.compare_exchange_weak(
                tail,
                new_tail,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if fills_segment {
                        let next = Box::into_raw(next_segment.take().expect("allocated above"));
                        // Release (all three): publish the new segment to
                        // pushers, the skipped marker index, and to poppers
                        // that follow `next`.
                        self.tail.segment.store(next, Ordering::Release);
                        self.tail.index.fetch_add(1 << SHIFT, Ordering::Release);
                        // SAFETY: `segment` stays allocated until every slot
                        // in it is read, and our slots are not written yet.
                        unsafe { (*segment).next.store(next, Ordering::Release) };
                    }
                    return Ok((segment, offset, count));
                }
                Err(current) => {
                    tail = current;
                    segment = self.tail.segment.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    /// Claims up to `max` consecutive pushed slots in the head segment with
    /// one CAS. Returns the segment, first offset and count; a count of 0
    /// means empty.
    fn claim_pop(&self, max: usize) -> Result<(*mut Segment<T>, usize, usize), Closed> {
        debug_assert!(max > 0);
        let lap = self.lap.get();
        let backoff = Backoff::new();
        // Acquire: pairs with the Release stores that move `head` to a new
        // segment.
        let mut head = self.head.index.load(Ordering::Acquire);
        let mut segment = self.head.segment.load(Ordering::Acquire);
        loop {
            let offset = (head >> SHIFT) % lap;
            if offset == lap - 1 {
                // Another popper is moving `head` to the next segment.
                backoff.snooze();
                head = self.head.index.load(Ordering::Acquire);
                segment = self.head.segment.load(Ordering::Acquire);
                continue;
            }
            let mut count = max.min(lap - 1 - offset);
            let mut new_head = head;
            if head & MARK_BIT == 0 {
                // Not known whether a next segment exists: look at `tail`.
                // SeqCst: pairs with the pushers' SeqCst CAS, so we see every
                // claim that precedes this fence.
                fence(Ordering::SeqCst);
                let tail = self.tail.index.load(Ordering::Relaxed);
                if head >> SHIFT == tail >> SHIFT {
                    if tail & MARK_BIT != 0 {
                        // Acquire: pairs with the Release half of the RMW in
                        // `close` (the fence above comes before the load, so
                        // it does not), so a pop that reports Closed sees
                        // what preceded the close, as `is_closed` does.
                        fence(Ordering::Acquire);
                        return Err(Closed);
                    }
                    return Ok((segment, offset, 0));
                }
                if (head >> SHIFT) / lap == (tail >> SHIFT) / lap {
                    // Same segment: take only slots claimed so far.
                    count = count.min((tail >> SHIFT) - (head >> SHIFT));
                } else {
                    // The tail is in a later segment: remember that.
                    new_head |= MARK_BIT;
                }
            }
            if segment.is_null() {
                // The first push is still installing the first segment.
                backoff.snooze();
                head = self.head.index.load(Ordering::Acquire);
                segment = self.head.segment.load(Ordering::Acquire);
                continue;
            }
            new_head = new_head.wrapping_add(count << SHIFT);
            // SeqCst on success: orders the claim with the segment load and
            // the head move below, as in `claim_push`.
            match self.head.index.compare_exchange_weak(
                head,
                new_head,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if offset + count == lap - 1 {
                        // We took the last slot: move `head` to the next segment.
                        // SAFETY: the segment is alive until its last slot,
                        // which we own, has been read.
                        let next = unsafe { (*segment).wait_next() };
                        let mut next_index = (new_head & !MARK_BIT).wrapping_add(1 << SHIFT);
                        // Relaxed: a hint; a stale null only costs a look at `tail`.
                        // SAFETY: `next` was linked by the pusher that filled
                        // this segment and is freed only after `head` moves past it.
                        if !unsafe { (*next).next.load(Ordering::Relaxed) }.is_null() {
                            next_index |= MARK_BIT;
                        }
                        // Release (both): publish the segment before the index
                        // that lets other poppers into it.
                        self.head.segment.store(next, Ordering::Release);
                        self.head.index.store(next_index, Ordering::Release);
                    }
                    return Ok((segment, offset, count));
                }
                Err(current) => {
                    head = current;
                    segment = self.head.segment.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    /// Moves `count` items from `src` into the slots claimed at `offset`,
    /// and publishes each. Calls no code but ours, so it cannot panic with
    /// slots claimed and unwritten.
    ///
    /// # Safety
    ///
    /// The slots must have been claimed by this thread with
    /// [`claim_push`](Self::claim_push) and not yet written, and `src` must
    /// point to `count` items that the caller gives up: they are moved.
    unsafe fn fill_from(
        &self,
        segment: *mut Segment<T>,
        offset: usize,
        count: usize,
        src: *const T,
    ) {
        for i in 0..count {
            // SAFETY: the segment stays allocated until every slot in it is
            // read, and ours are not even written yet.
            let slot = unsafe { &(*segment).slots[offset + i] };
            // SAFETY: we claimed this slot, and no popper reads it before
            // WRITE; the caller gave up the item at `src + i`.
            slot.value
                .with_mut(|p| unsafe { ptr::copy_nonoverlapping(src.add(i), p.cast::<T>(), 1) });
            // Release: publishes the item to the popper that Acquires WRITE.
            slot.state.fetch_or(WRITE, Ordering::Release);
        }
        if count == 1 {
            self.readers.notify_one();
        } else {
            self.readers.notify_all();
        }
    }

    /// Moves `count` items claimed at `offset` out to `dst`, freeing the
    /// segment if we are the last to leave it. Calls no code but ours, so it
    /// cannot panic with items claimed and unread.
    ///
    /// # Safety
    ///
    /// The slots must have been claimed by this thread with
    /// [`claim_pop`](Self::claim_pop) and not yet read, and `dst` must be
    /// valid for writing `count` items.
    unsafe fn drain_into(
        &self,
        segment: *mut Segment<T>,
        offset: usize,
        count: usize,
        dst: *mut T,
    ) {
        for i in offset..offset + count {
            // SAFETY: the segment is freed only after this slot is marked READ.
            let slot = unsafe { &(*segment).slots[i] };
            slot.wait_write();
            // SAFETY: WRITE is set (Acquired in `wait_write`), so the value
            // is initialised, and we alone claimed this slot; the caller
            // vouches for `dst`.
            slot.value.with(|p| unsafe {
                ptr::copy_nonoverlapping(p.cast::<T>(), dst.add(i - offset), 1)
            });
            if i + 1 == self.lap.slots() {
                // SAFETY: we read the last slot and every earlier slot is ours
                // or someone else's to mark; `destroy` hands off to them.
                unsafe { Segment::destroy(segment, 0, self.lap) };
            } else if slot.state.fetch_or(READ, Ordering::AcqRel) & DESTROY != 0 {
                // AcqRel: Release publishes our read to the destroyer;
                // Acquire sees its DESTROY. It stopped at us: go on from here.
                // SAFETY: the last slot was read (destruction started) and
                // slots up to `i` are read.
                unsafe { Segment::destroy(segment, i + 1, self.lap) };
            }
        }
    }

    /// Pushes `value`. Never waits for room and never reports Full (see
    /// [progress](crate#progress)).
    ///
    /// # Errors
    ///
    /// Hands `value` back in [`TryPushError::Closed`] if the queue is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::UnboundedQueue::new();
    /// q.try_push(1).unwrap();
    /// q.close();
    /// assert!(q.try_push(2).unwrap_err().is_closed());
    /// ```
    pub fn try_push(&self, value: T) -> Result<(), TryPushError<T>> {
        match self.claim_push(1) {
            Ok((segment, offset, _)) => {
                // SAFETY: `claim_push` gave this thread the slot, and `value`
                // is forgotten right after its bytes are moved.
                unsafe { self.fill_from(segment, offset, 1, &value) };
                // Moved by address and forgotten, rather than passed on by
                // value: in an unoptimised build every by-value step copies
                // the item on the stack, which large items overflow.
                std::mem::forget(value);
                Ok(())
            }
            Err(Closed) => Err(TryPushError::Closed(value)),
        }
    }

    /// Pushes `value`; the same as [`try_push`](Self::try_push), since an
    /// unbounded queue never makes a push wait.
    ///
    /// # Errors
    ///
    /// Hands `value` back in [`PushError`] if the queue is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::UnboundedQueue::new();
    /// q.push("job").unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn push(&self, value: T) -> Result<(), PushError<T>> {
        // `try_push` again rather than a call to it, which would copy the
        // item once more in an unoptimised build.
        match self.claim_push(1) {
            Ok((segment, offset, _)) => {
                // SAFETY: as in `try_push`.
                unsafe { self.fill_from(segment, offset, 1, &value) };
                std::mem::forget(value);
                Ok(())
            }
            Err(Closed) => Err(PushError(value)),
        }
    }

    /// Pops the oldest item, without waiting for one (see
    /// [progress](crate#progress)).
    ///
    /// # Errors
    ///
    /// [`TryPopError::Empty`] if there is none right now, and
    /// [`TryPopError::Closed`] once the queue is closed and drained; the
    /// caller then sees everything that happened before the
    /// [`close`](Self::close).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringq::TryPopError;
    ///
    /// let q = ringq::UnboundedQueue::new();
    /// q.push(1).unwrap();
    /// assert_eq!(q.try_pop(), Ok(1));
    /// assert_eq!(q.try_pop(), Err(TryPopError::Empty));
    /// ```
    pub fn try_pop(&self) -> Result<T, TryPopError> {
        match self.claim_pop(1) {
            Ok((_, _, 0)) => Err(TryPopError::Empty),
            // SAFETY: `claim_pop` gave this thread the slot.
            Ok((segment, offset, _)) => Ok(unsafe { self.take(segment, offset) }),
            Err(Closed) => Err(TryPopError::Closed),
        }
    }

    /// Pops the one item claimed at `offset`.
    ///
    /// # Safety
    ///
    /// As [`drain_into`](Self::drain_into), for one item.
    unsafe fn take(&self, segment: *mut Segment<T>, offset: usize) -> T {
        let mut out = MaybeUninit::uninit();
        // SAFETY: as promised by our caller; `out` has room for one item.
        unsafe { self.drain_into(segment, offset, 1, out.as_mut_ptr()) };
        // SAFETY: `drain_into` wrote it.
        unsafe { out.assume_init() }
    }

    /// Pops the oldest item, blocking while the queue is empty.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the queue is closed and drained; the caller then sees
    /// everything that happened before the [`close`](Self::close).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::UnboundedQueue::new();
    /// q.push(4).unwrap();
    /// q.close();
    /// assert_eq!(q.pop(), Ok(4));
    /// assert!(q.pop().is_err());
    /// ```
    pub fn pop(&self) -> Result<T, Closed> {
        // One try here before the blocking path: a call to `try_pop` would
        // copy a large item once more in an unoptimised build.
        match self.claim_pop(1) {
            Ok((_, _, 0)) => blocking::pop(self),
            // SAFETY: `claim_pop` gave this thread the slot.
            Ok((segment, offset, _)) => Ok(unsafe { self.take(segment, offset) }),
            Err(Closed) => Err(Closed),
        }
    }

    /// Pops the oldest item, blocking at most `timeout` while the queue is empty.
    ///
    /// # Errors
    ///
    /// [`PopTimeoutError::Timeout`] or [`PopTimeoutError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let q = ringq::UnboundedQueue::<u8>::new();
    /// assert!(q.pop_timeout(Duration::from_millis(1)).is_err());
    /// ```
    pub fn pop_timeout(&self, timeout: Duration) -> Result<T, PopTimeoutError> {
        blocking::pop_until(self, Instant::now().checked_add(timeout))
    }

    /// Pops the oldest item, blocking until `deadline` at most.
    ///
    /// # Errors
    ///
    /// [`PopTimeoutError::Timeout`] or [`PopTimeoutError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let q = ringq::UnboundedQueue::new();
    /// q.push(1).unwrap();
    /// assert_eq!(q.pop_deadline(Instant::now() + Duration::from_millis(50)), Ok(1));
    /// ```
    pub fn pop_deadline(&self, deadline: Instant) -> Result<T, PopTimeoutError> {
        blocking::pop_until(self, Some(deadline))
    }

    /// Pushes every item of `items`, up to a segment's worth per atomic step.
    /// Returns how many were pushed: all of them.
    ///
    /// # Errors
    ///
    /// [`Closed`] if the queue is closed; nothing was pushed.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::UnboundedQueue::new();
    /// assert_eq!(q.try_push_slice(&[1, 2, 3]), Ok(3));
    /// ```
    pub fn try_push_slice(&self, items: &[T]) -> Result<usize, Closed>
    where
        T: Copy,
    {
        let mut pushed = 0;
        while pushed < items.len() {
            let (segment, offset, count) = match self.claim_push(items.len() - pushed) {
                Ok(claim) => claim,
                // Items pushed before a racing close stay pushed.
                Err(Closed) if pushed > 0 => break,
                Err(Closed) => return Err(Closed),
            };
            // SAFETY: `claim_push` gave this thread `count` slots, and
            // `items[pushed..]` holds at least that many; copying a `Copy`
            // item gives nothing up.
            unsafe { self.fill_from(segment, offset, count, items.as_ptr().add(pushed)) };
            pushed += count;
        }
        Ok(pushed)
    }

    /// Moves every item out of `items` into the queue, up to a segment's
    /// worth per atomic step. Returns how many were pushed.
    ///
    /// # Errors
    ///
    /// [`Closed`] if the queue is closed; `items` is left untouched. If a
    /// close races with the call, the items it did not push stay in `items`
    /// and the count so far is returned.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::UnboundedQueue::new();
    /// let mut items = vec![String::from("a"), "b".into()];
    /// assert_eq!(q.try_push_vec(&mut items), Ok(2));
    /// assert!(items.is_empty());
    /// ```
    pub fn try_push_vec(&self, items: &mut Vec<T>) -> Result<usize, Closed> {
        let len = items.len();
        // From here the vector does not own its items: those we move into
        // the queue must not be dropped with it. Nothing below can panic.
        // SAFETY: shrinking the length only forgets items.
        unsafe { items.set_len(0) };
        let mut pushed = 0;
        let mut result = Ok(());
        while pushed < len {
            match self.claim_push(len - pushed) {
                Ok((segment, offset, count)) => {
                    // SAFETY: `claim_push` gave this thread `count` slots,
                    // and the items from `pushed` on are still ours to move.
                    unsafe { self.fill_from(segment, offset, count, items.as_ptr().add(pushed)) };
                    pushed += count;
                }
                Err(Closed) => {
                    // Items pushed before a racing close stay pushed.
                    if pushed == 0 {
                        result = Err(Closed);
                    }
                    break;
                }
            }
        }
        // SAFETY: the items from `pushed` on were not moved: slide them to
        // the front and give them back to the vector.
        unsafe {
            let base = items.as_mut_ptr();
            ptr::copy(base.add(pushed), base, len - pushed);
            items.set_len(len - pushed);
        }
        result.map(|()| pushed)
    }

    /// Pushes every item; the same as pushing them one by one, but claiming
    /// up to a segment's worth per atomic step.
    ///
    /// # Errors
    ///
    /// If the queue is closed part-way, hands back in [`PushError`] the
    /// items it took from `items` and did not push, in order: at most one
    /// batch of 64. It stops reading `items` there, so an endless iterator
    /// is fine; pass `&mut iter` to keep what was not read.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::UnboundedQueue::new();
    /// assert_eq!(q.push_iter(0..100), Ok(100));
    /// assert_eq!(q.len(), 100);
    /// ```
    pub fn push_iter<I: IntoIterator<Item = T>>(
        &self,
        items: I,
    ) -> Result<usize, PushError<Vec<T>>> {
        blocking::push_iter(self, items)
    }

    /// Pops up to `buf.len()` items into the front of `buf` without waiting,
    /// up to a segment's worth per atomic step. Returns how many: 0 when empty.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the queue is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    ///
    /// let q = ringq::UnboundedQueue::new();
    /// q.try_push_slice(&[1u8, 2, 3]).unwrap();
    /// let mut buf = [MaybeUninit::uninit(); 2];
    /// assert_eq!(q.try_pop_into(&mut buf), Ok(2));
    /// ```
    pub fn try_pop_into(&self, buf: &mut [MaybeUninit<T>]) -> Result<usize, Closed> {
        let mut popped = 0;
        while popped < buf.len() {
            let (segment, offset, count) = match self.claim_pop(buf.len() - popped) {
                Ok((_, _, 0)) => break,
                Ok(claim) => claim,
                Err(Closed) if popped > 0 => break,
                Err(Closed) => return Err(Closed),
            };
            // SAFETY: `claim_pop` gave this thread `count` items, and
            // `buf[popped..]` has room for that many.
            unsafe { self.drain_into(segment, offset, count, buf[popped..].as_mut_ptr().cast()) };
            popped += count;
        }
        Ok(popped)
    }

    /// Appends up to `max` items to `out` without waiting, claiming up to a
    /// segment's worth per atomic step. Returns how many: 0 when empty.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the queue is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::UnboundedQueue::new();
    /// q.try_push_slice(&[1, 2, 3]).unwrap();
    /// let mut out = Vec::new();
    /// assert_eq!(q.try_pop_many(&mut out, 10), Ok(3));
    /// ```
    pub fn try_pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, Closed> {
        let mut popped = 0;
        while popped < max {
            // Room first: once claimed, items must be moved out with nothing
            // in between that could panic. A claim takes at most the rest of
            // a segment.
            out.reserve((max - popped).min(self.lap.slots()));
            let (segment, offset, count) = match self.claim_pop(max - popped) {
                Ok((_, _, 0)) => break,
                Ok(claim) => claim,
                Err(Closed) if popped > 0 => break,
                Err(Closed) => return Err(Closed),
            };
            let len = out.len();
            // SAFETY: `claim_pop` gave this thread `count` items, at most a
            // segment's worth, which `out` has room for after its end.
            unsafe {
                self.drain_into(segment, offset, count, out.as_mut_ptr().add(len));
                out.set_len(len + count);
            }
            popped += count;
        }
        Ok(popped)
    }

    /// Appends up to `max` items to `out`, blocking until at least one is there.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the queue is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::UnboundedQueue::new();
    /// q.push(1).unwrap();
    /// let mut out = Vec::new();
    /// assert_eq!(q.pop_many(&mut out, 8), Ok(1));
    /// ```
    pub fn pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, Closed> {
        blocking::pop_many_until(self, out, max, None).map_err(|_| Closed)
    }

    /// Appends up to `max` items to `out`, blocking until at least one is
    /// there or `deadline` passes (`None` waits forever).
    ///
    /// # Errors
    ///
    /// [`PopTimeoutError::Timeout`] or [`PopTimeoutError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let q = ringq::UnboundedQueue::<u8>::new();
    /// let mut out = Vec::new();
    /// let soon = Some(Instant::now() + Duration::from_millis(1));
    /// assert!(q.pop_many_deadline(&mut out, 8, soon).is_err());
    /// ```
    pub fn pop_many_deadline(
        &self,
        out: &mut Vec<T>,
        max: usize,
        deadline: Option<Instant>,
    ) -> Result<usize, PopTimeoutError> {
        blocking::pop_many_until(self, out, max, deadline)
    }

    /// Closes the queue: pushes fail from now on, pops drain what is left and
    /// then report closed, and every blocked popper wakes. Returns `true` if
    /// this call closed it.
    ///
    /// A thread that learns of the close, from [`is_closed`](Self::is_closed)
    /// or from any pop or push that reports it closed, also sees everything
    /// this thread did before calling `close`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::UnboundedQueue::<u8>::new();
    /// assert!(q.close());
    /// assert!(q.is_closed());
    /// ```
    pub fn close(&self) -> bool {
        // SeqCst: like the pushers' CAS, so a popper's SeqCst fence that
        // follows it sees the mark together with every claim before it. Its
        // Release half pairs with the Acquire in `is_closed` and on the paths
        // that report Closed, which then see what preceded the close.
        let was_open = self.tail.index.fetch_or(MARK_BIT, Ordering::SeqCst) & MARK_BIT == 0;
        if was_open {
            self.readers.notify_all();
        }
        was_open
    }

    /// Whether [`close`](Self::close) has been called.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!ringq::UnboundedQueue::<u8>::new().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        // Acquire: a caller that sees the mark also sees what preceded close().
        self.tail.index.load(Ordering::Acquire) & MARK_BIT != 0
    }

    /// The number of items in the queue (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::UnboundedQueue::new();
    /// q.push_iter(0..40).unwrap();
    /// assert_eq!(q.len(), 40);
    /// ```
    pub fn len(&self) -> usize {
        let lap = self.lap.get();
        loop {
            // Acquire on all three: keeps the head load between the two tail
            // loads, so equal tails mean a consistent pair.
            let mut tail = self.tail.index.load(Ordering::Acquire);
            let mut head = self.head.index.load(Ordering::Acquire);
            if self.tail.index.load(Ordering::Acquire) != tail {
                continue;
            }
            // Drop the flag bits, and step over a "next segment" marker.
            tail &= !((1 << SHIFT) - 1);
            head &= !((1 << SHIFT) - 1);
            if (tail >> SHIFT) % lap == lap - 1 {
                tail = tail.wrapping_add(1 << SHIFT);
            }
            if (head >> SHIFT) % lap == lap - 1 {
                head = head.wrapping_add(1 << SHIFT);
            }
            // The distance in indices, wrapping like the indices do, less
            // one marker index per segment boundary crossed on the way.
            // (`lap` divides the number of indices, so `% lap` gives the
            // same offset on both sides of the wrap.)
            let distance = tail.wrapping_sub(head) >> SHIFT;
            let offset = (head >> SHIFT) % lap;
            return distance - (offset + distance) / lap;
        }
    }

    /// Whether the queue holds no items (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(ringq::UnboundedQueue::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        // Acquire: as in `len`.
        let head = self.head.index.load(Ordering::Acquire);
        let tail = self.tail.index.load(Ordering::Acquire);
        head >> SHIFT == tail >> SHIFT
    }

    /// Always `false`: an unbounded queue is never full.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!ringq::UnboundedQueue::<u8>::new().is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        false
    }

    /// Always `None`: an unbounded queue has no capacity limit.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(ringq::UnboundedQueue::<u8>::new().capacity(), None);
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        None
    }

    /// How many threads are blocked in a pop (a snapshot): past spinning
    /// and registered to park until an item comes or the queue closes.
    /// Pushes never wait on an unbounded queue.
    ///
    /// For diagnostics and tests, for example to make sure a consumer is
    /// really parked before waking it.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::UnboundedQueue::<u8>::new();
    /// assert_eq!(q.waiting_poppers(), 0);
    /// ```
    pub fn waiting_poppers(&self) -> usize {
        self.readers.waiting()
    }
}

impl<T> PushSide<T> for UnboundedQueue<T> {
    fn try_push(&self, value: T) -> Result<(), TryPushError<T>> {
        self.try_push(value)
    }
    fn try_push_vec(&self, items: &mut Vec<T>) -> Result<usize, Closed> {
        self.try_push_vec(items)
    }
    fn writers(&self) -> &WaitQueue {
        unreachable!("an unbounded queue never makes a push wait")
    }
}

impl<T> PopSide<T> for UnboundedQueue<T> {
    fn try_pop(&self) -> Result<T, TryPopError> {
        self.try_pop()
    }
    fn try_pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, Closed> {
        self.try_pop_many(out, max)
    }
    fn readers(&self) -> &WaitQueue {
        &self.readers
    }
}

impl<T> Drop for UnboundedQueue<T> {
    fn drop(&mut self) {
        // Relaxed throughout: `&mut self` means no other thread is left.
        let mut head = self.head.index.load(Ordering::Relaxed) & !((1 << SHIFT) - 1);
        let tail = self.tail.index.load(Ordering::Relaxed) & !((1 << SHIFT) - 1);
        let mut segment = self.head.segment.load(Ordering::Relaxed);
        while head != tail {
            let offset = (head >> SHIFT) % self.lap.get();
            if offset < self.lap.slots() {
                // SAFETY: slots between head and tail hold written, unread
                // items (no push is half done: we have `&mut self`).
                let slot = unsafe { &(*segment).slots[offset] };
                // SAFETY: as above: the item is initialised and ours alone.
                // If its drop panics the rest leak, which is safe.
                slot.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
            } else {
                // SAFETY: we own every segment still linked from head.
                let next = unsafe { (*segment).next.load(Ordering::Relaxed) };
                // SAFETY: as above; nobody else points to it any more.
                drop(unsafe { Box::from_raw(segment) });
                segment = next;
            }
            head = head.wrapping_add(1 << SHIFT);
        }
        if !segment.is_null() {
            // SAFETY: the last segment, owned by us as above.
            drop(unsafe { Box::from_raw(segment) });
        }
    }
}

impl<T> fmt::Debug for UnboundedQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedQueue")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}
