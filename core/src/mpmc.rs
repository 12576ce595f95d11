//! A bounded multi-producer multi-consumer ring with per-slot sequence stamps.
//!
//! # Algorithm
//!
//! This is Dmitry Vyukov's bounded MPMC queue, in the variant crossbeam's
//! `ArrayQueue` and array channel use. `head` and `tail` are *positions*: a
//! slot index in the low bits and a lap count above them, so that positions
//! grow forever (modulo wrapping) while the index cycles through the buffer.
//! Each slot carries a stamp that says which position it is ready for:
//!
//! - `stamp == pos`: empty, ready for the push at `pos`;
//! - `stamp == pos + 1`: holds the item pushed at `pos`, ready for the pop;
//! - after that pop the stamp becomes `pos + one_lap`: empty for the next lap.
//!
//! A pusher claims position `tail` with a CAS once the slot's stamp says it is
//! free, writes the item, then publishes it with a Release store of the stamp.
//! A popper does the mirror image on `head`. The CAS only decides *who* owns a
//! slot; the stamps carry the data between threads, so the CAS needs no
//! ordering of its own beyond atomicity.
//!
//! `one_lap` is a power of two above `capacity`, so a position is split into
//! lap and index with masks, never a division, and any capacity works, not
//! just powers of two. One more bit, `mark_bit`, sits between index and lap in
//! `tail`: [`close`](BoundedQueue::close) sets it with one `fetch_or`, so every
//! later CAS on `tail` fails and each push sees the queue closed. Because the
//! mark lives in the same word that pushes claim, a push either lands before
//! the close (and is drained by poppers) or fails: none is lost.
//!
//! Batches claim many consecutive slots with one CAS. A batch only counts
//! slots whose stamps already say "free" (or "ready"), so it never waits for
//! another thread after claiming.
//!
//! # Progress
//!
//! The non-blocking operations never park, but they are not lock-free in the
//! strict sense: a pop whose slot was claimed by a push that has not written
//! it yet (or a push whose slot a pop has claimed and not yet read) spins
//! until that thread finishes, however long it is preempted. See the
//! [crate docs](crate#progress).

use std::fmt;
use std::mem::{self, MaybeUninit};
use std::ptr;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::blocking::{self, PopSide, PushSide};
use crate::buffer;
use crate::error::{
    CapacityError, Closed, PopTimeoutError, PushError, PushTimeoutError, TryPopError, TryPushError,
};
use crate::loom::{fence, AtomicUsize, Backoff, Ordering, UnsafeCell, PLAIN_MEMORY};
use crate::wait::WaitQueue;

struct Slot<T> {
    /// The position this slot is ready for; see the module docs.
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// A bounded multi-producer multi-consumer queue.
///
/// Share it by reference (scoped threads) or in an `Arc`. Every operation
/// takes `&self`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use ringq::BoundedQueue;
///
/// let q = Arc::new(BoundedQueue::new(3).unwrap());
/// let producer = {
///     let q = Arc::clone(&q);
///     std::thread::spawn(move || {
///         for i in 0..100 {
///             q.push(i).unwrap(); // blocks while the queue is full
///         }
///         q.close();
///     })
/// };
/// let mut sum = 0;
/// while let Ok(i) = q.pop() {
///     sum += i;
/// }
/// assert_eq!(sum, 4950);
/// producer.join().unwrap();
/// ```
pub struct BoundedQueue<T> {
    /// The next position to pop.
    head: CachePadded<AtomicUsize>,
    /// The next position to push, with `mark_bit` set once closed.
    tail: CachePadded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    cap: usize,
    /// The smallest power of two above `cap`: the closed mark in `tail`.
    mark_bit: usize,
    /// `2 * mark_bit`: adding it to a position moves it one lap ahead.
    one_lap: usize,
    readers: CachePadded<WaitQueue>,
    writers: CachePadded<WaitQueue>,
}

// SAFETY: items move between threads through the queue, so `T: Send` is
// required and enough; the slots are only accessed by the thread that won
// them with a CAS, as argued at each access.
unsafe impl<T: Send> Send for BoundedQueue<T> {}
// SAFETY: as above: `&BoundedQueue` only lets a thread move a `T` in or out
// of a slot it owns exclusively, never share one.
unsafe impl<T: Send> Sync for BoundedQueue<T> {}

impl<T> BoundedQueue<T> {
    /// Creates a queue that holds exactly `capacity` items.
    ///
    /// # Errors
    ///
    /// [`CapacityError::Zero`] for a capacity of 0,
    /// [`CapacityError::TooLarge`] when the positions cannot encode it, and
    /// [`CapacityError::AllocFailed`] when the buffer cannot be allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::BoundedQueue::<String>::new(3).unwrap();
    /// assert_eq!(q.capacity(), 3);
    /// assert!(ringq::BoundedQueue::<u8>::new(0).is_err());
    /// ```
    pub fn new(capacity: usize) -> Result<Self, CapacityError> {
        Self::with_start(capacity, |_| (0, 0))
    }

    /// Like [`new`](Self::new), but with positions starting
    /// `pushes_before_wrap` pushes below the point where their lap count
    /// wraps around. For tests only.
    #[cfg(feature = "__near_wrap")]
    #[doc(hidden)]
    pub fn new_near_wrap(
        capacity: usize,
        pushes_before_wrap: usize,
    ) -> Result<Self, CapacityError> {
        Self::with_start(capacity, |one_lap| {
            // The last lap a position can hold, and how far back from its
            // end to start: `pushes_before_wrap` positions before lap 0.
            let last_lap = usize::MAX / one_lap;
            let back = pushes_before_wrap.max(1) - 1;
            let laps_back = (back / capacity).min(last_lap);
            (last_lap - laps_back, capacity - 1 - back % capacity)
        })
    }

    /// A queue whose `head` and `tail` start at lap and index `start(one_lap)`,
    /// with every slot's stamp what it would be after a run that got there.
    fn with_start(
        capacity: usize,
        start: impl FnOnce(usize) -> (usize, usize),
    ) -> Result<Self, CapacityError> {
        let too_large = CapacityError::TooLarge {
            requested: capacity,
        };
        let mark_bit = capacity
            .checked_add(1)
            .and_then(usize::checked_next_power_of_two)
            .ok_or(too_large)?;
        let one_lap = mark_bit.checked_mul(2).ok_or(too_large)?;
        // At least two laps must fit in a position, or stamps of
        // consecutive laps would collide.
        one_lap.checked_mul(2).ok_or(too_large)?;
        let (lap, index) = start(one_lap);
        let pos = lap.wrapping_mul(one_lap) + index;
        // Slots before the start index are already one lap ahead.
        let stamp = |i| {
            if i < index {
                lap.wrapping_add(1).wrapping_mul(one_lap) + i
            } else {
                lap.wrapping_mul(one_lap) + i
            }
        };
        let init = |i, slot: *mut Slot<T>| {
            let stamp = AtomicUsize::new(stamp(i));
            if PLAIN_MEMORY {
                // Only the stamp: building a whole slot would pass a value
                // of the item's size through the stack.
                // SAFETY: `slot` points to room for one slot, ours to write.
                unsafe { ptr::addr_of_mut!((*slot).stamp).write(stamp) }
            } else {
                let value = UnsafeCell::new(MaybeUninit::uninit());
                // SAFETY: as above.
                unsafe { slot.write(Slot { stamp, value }) }
            }
        };
        // SAFETY: `init` writes every slot's stamp, and outside loom leaves
        // only its value, a `MaybeUninit`, unwritten.
        let slots = unsafe { buffer::slots(capacity, init) }?;

        Ok(Self {
            head: CachePadded::new(AtomicUsize::new(pos)),
            tail: CachePadded::new(AtomicUsize::new(pos)),
            slots,
            cap: capacity,
            mark_bit,
            one_lap,
            readers: CachePadded::new(WaitQueue::new()),
            writers: CachePadded::new(WaitQueue::new()),
        })
    }

    /// The position after `pos`.
    #[inline]
    fn next(&self, pos: usize) -> usize {
        let index = pos & (self.mark_bit - 1);
        if index + 1 < self.cap {
            pos + 1
        } else {
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    #[inline]
    fn slot(&self, pos: usize) -> &Slot<T> {
        let index = pos & (self.mark_bit - 1);
        debug_assert!(index < self.cap);
        // SAFETY: positions are only ever built by `next`, which wraps the
        // index to 0 when it reaches `cap`, so `index < cap == slots.len()`.
        unsafe { self.slots.get_unchecked(index) }
    }

    /// Claims up to `max` free slots at the tail in one CAS.
    ///
    /// Returns the first claimed position and how many were claimed; 0 means
    /// the queue is full.
    // Always inlined, like `claim_pop`, `fill` and `drain`: with `max` a
    // constant 1 the loops fold into the plain single-slot step, and the
    // spinning 1p1c benchmark measured about 0.7x crossbeam's ArrayQueue
    // with these as out-of-line calls and about 1x inlined.
    #[inline(always)]
    fn claim_push(&self, max: usize) -> Result<(usize, usize), Closed> {
        let backoff = Backoff::new();
        // Relaxed: `tail` only arbitrates ownership; a stale value just
        // fails the CAS below.
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & self.mark_bit != 0 {
                // Acquire: pairs with the Release in `close`, so a push that
                // reports Closed sees what preceded the close. Only here, off
                // the path that claims.
                fence(Ordering::Acquire);
                return Err(Closed);
            }
            let mut end = tail;
            let mut count = 0;
            while count < max {
                // Acquire: pairs with the Release stamp store of the pop that
                // emptied this slot, so our write cannot overlap its read.
                if self.slot(end).stamp.load(Ordering::Acquire) != end {
                    break;
                }
                count += 1;
                end = self.next(end);
            }
            if count > 0 {
                // Relaxed on both paths: the stamps, not `tail`, order the
                // data; the CAS only has to be atomic.
                match self.tail.compare_exchange_weak(
                    tail,
                    end,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Ok((tail, count)),
                    Err(current) => {
                        tail = current;
                        backoff.spin();
                        continue;
                    }
                }
            }
            let stamp = self.slot(tail).stamp.load(Ordering::Relaxed);
            if stamp.wrapping_add(self.one_lap) == tail + 1 {
                // The slot still holds the item from one lap ago. SeqCst:
                // read a `head` no older than that stamp, so Full is only
                // reported if the queue was full at some point of this call.
                fence(Ordering::SeqCst);
                let head = self.head.load(Ordering::Relaxed);
                if head.wrapping_add(self.one_lap) == tail {
                    return Ok((tail, 0));
                }
                // A popper claimed the slot and is still reading it.
                backoff.spin();
            } else {
                // Another pusher claimed this position and moved on.
                backoff.snooze();
            }
            tail = self.tail.load(Ordering::Relaxed);
        }
    }

    /// Claims up to `max` ready items at the head in one CAS.
    ///
    /// Returns the first claimed position and how many were claimed; 0 means
    /// the queue is empty.
    #[inline(always)]
    fn claim_pop(&self, max: usize) -> Result<(usize, usize), Closed> {
        let backoff = Backoff::new();
        // Relaxed: as in `claim_push`.
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let mut end = head;
            let mut count = 0;
            while count < max {
                // Acquire: pairs with the pusher's Release stamp store, which
                // makes its item visible to us.
                if self.slot(end).stamp.load(Ordering::Acquire) != end + 1 {
                    break;
                }
                count += 1;
                end = self.next(end);
            }
            if count > 0 {
                // Relaxed: the stamps order the data; see `claim_push`.
                match self.head.compare_exchange_weak(
                    head,
                    end,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Ok((head, count)),
                    Err(current) => {
                        head = current;
                        backoff.spin();
                        continue;
                    }
                }
            }
            let stamp = self.slot(head).stamp.load(Ordering::Relaxed);
            if stamp == head {
                // Nothing pushed here yet. SeqCst: read a `tail` no older than
                // that stamp, so Empty means empty at some point of this call
                // and Closed means no push can still land.
                fence(Ordering::SeqCst);
                let tail = self.tail.load(Ordering::Relaxed);
                if tail & !self.mark_bit == head {
                    if tail & self.mark_bit != 0 {
                        // Acquire: pairs with the Release in `close`, so a
                        // pop that reports Closed sees what preceded the
                        // close, as `is_closed` does. Only on this path.
                        fence(Ordering::Acquire);
                        return Err(Closed);
                    }
                    return Ok((head, 0));
                }
                // A pusher claimed the slot and is still writing it.
                backoff.spin();
            } else {
                // Another popper took this position and moved on.
                backoff.snooze();
            }
            head = self.head.load(Ordering::Relaxed);
        }
    }

    /// Moves `count` items from `src` into the slots claimed at `start` and
    /// publishes each. Calls no code but ours, so it cannot panic with slots
    /// claimed and unwritten.
    ///
    /// # Safety
    ///
    /// The slots `start..start + count` (in positions) must have been claimed
    /// by this thread with [`claim_push`](Self::claim_push) and not yet
    /// filled, and `src` must point to `count` items that the caller gives
    /// up: they are moved.
    #[inline(always)]
    unsafe fn fill_from(&self, start: usize, count: usize, src: *const T) {
        let mut pos = start;
        for i in 0..count {
            let slot = self.slot(pos);
            // SAFETY: the caller claimed this slot, so no other thread touches
            // its value until our stamp store below hands it to a popper; the
            // caller gave up the item at `src + i`.
            slot.value
                .with_mut(|p| unsafe { ptr::copy_nonoverlapping(src.add(i), p.cast::<T>(), 1) });
            // Release: publishes the value to the popper that Acquires it.
            slot.stamp.store(pos + 1, Ordering::Release);
            pos = self.next(pos);
        }
        if count == 1 {
            self.readers.notify_one();
        } else {
            self.readers.notify_all();
        }
    }

    /// Moves `count` items claimed at `start` out to `dst`, freeing each slot
    /// once read. Calls no code but ours, so it cannot panic with items
    /// claimed and unread.
    ///
    /// # Safety
    ///
    /// The slots `start..start + count` (in positions) must have been claimed
    /// by this thread with [`claim_pop`](Self::claim_pop) and not yet
    /// emptied, and `dst` must be valid for writing `count` items.
    #[inline(always)]
    unsafe fn drain_into(&self, start: usize, count: usize, dst: *mut T) {
        let mut pos = start;
        for i in 0..count {
            let slot = self.slot(pos);
            // SAFETY: the caller claimed this slot, whose stamp said it holds
            // an initialised value; nobody else reads or writes it until our
            // stamp store below frees it. The caller vouches for `dst`.
            slot.value
                .with(|p| unsafe { ptr::copy_nonoverlapping(p.cast::<T>(), dst.add(i), 1) });
            // Release: our read completes before a pusher, which Acquires
            // this stamp, can overwrite the slot.
            slot.stamp
                .store(pos.wrapping_add(self.one_lap), Ordering::Release);
            pos = self.next(pos);
        }
        if count == 1 {
            self.writers.notify_one();
        } else {
            self.writers.notify_all();
        }
    }

    /// Pops the item claimed at `pos`.
    ///
    /// # Safety
    ///
    /// As [`drain_into`](Self::drain_into), for one item.
    #[inline(always)]
    unsafe fn take(&self, pos: usize) -> T {
        let mut out = MaybeUninit::uninit();
        // SAFETY: as promised by our caller; `out` has room for one item.
        unsafe { self.drain_into(pos, 1, out.as_mut_ptr()) };
        // SAFETY: `drain_into` wrote it.
        unsafe { out.assume_init() }
    }

    /// Pushes `value` if there is room, without waiting for room (see
    /// [progress](crate#progress)).
    ///
    /// # Errors
    ///
    /// Hands `value` back in [`TryPushError::Full`] or
    /// [`TryPushError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::BoundedQueue::new(1).unwrap();
    /// assert!(q.try_push('a').is_ok());
    /// assert_eq!(q.try_push('b').unwrap_err().into_inner(), 'b');
    /// ```
    pub fn try_push(&self, value: T) -> Result<(), TryPushError<T>> {
        let claim = self.claim_push(1);
        if let Ok((pos, 1)) = claim {
            // SAFETY: `claim_push` gave this thread the slot at `pos`, and
            // `value` is forgotten right after its bytes are moved.
            unsafe { self.fill_from(pos, 1, &value) };
            // Moved by address and forgotten, rather than passed on by value,
            // and the error built in one place: in an unoptimised build every
            // by-value step copies the item on the stack, which large items
            // would overflow.
            mem::forget(value);
            return Ok(());
        }
        Err(if claim.is_ok() {
            TryPushError::Full(value)
        } else {
            TryPushError::Closed(value)
        })
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
    /// use ringq::{BoundedQueue, TryPopError};
    ///
    /// let q = BoundedQueue::new(2).unwrap();
    /// q.try_push(7).unwrap();
    /// assert_eq!(q.try_pop(), Ok(7));
    /// assert_eq!(q.try_pop(), Err(TryPopError::Empty));
    /// ```
    pub fn try_pop(&self) -> Result<T, TryPopError> {
        match self.claim_pop(1) {
            // SAFETY: `claim_pop` gave this thread the item at `pos`.
            Ok((pos, 1)) => Ok(unsafe { self.take(pos) }),
            Ok(_) => Err(TryPopError::Empty),
            Err(Closed) => Err(TryPopError::Closed),
        }
    }

    /// Pushes `value`, blocking while the queue is full.
    ///
    /// # Errors
    ///
    /// Hands `value` back in [`PushError`] if the queue is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::BoundedQueue::new(1).unwrap();
    /// q.push(1).unwrap();
    /// ```
    pub fn push(&self, value: T) -> Result<(), PushError<T>> {
        // One try here before the blocking path, as `try_push` does it: a
        // call to `try_push` would copy a large item once more in an
        // unoptimised build.
        match self.claim_push(1) {
            Ok((pos, 1)) => {
                // SAFETY: as in `try_push`.
                unsafe { self.fill_from(pos, 1, &value) };
                mem::forget(value);
                Ok(())
            }
            Ok(_) => blocking::push(self, value),
            Err(Closed) => Err(PushError(value)),
        }
    }

    /// Pushes `value`, blocking at most `timeout` while the queue is full.
    ///
    /// # Errors
    ///
    /// Hands `value` back in [`PushTimeoutError`] on timeout or close.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let q = ringq::BoundedQueue::new(1).unwrap();
    /// q.push_timeout(1, Duration::from_millis(10)).unwrap();
    /// assert!(q.push_timeout(2, Duration::from_millis(1)).unwrap_err().is_timeout());
    /// ```
    pub fn push_timeout(&self, value: T, timeout: Duration) -> Result<(), PushTimeoutError<T>> {
        blocking::push_until(self, value, Instant::now().checked_add(timeout))
    }

    /// Pushes `value`, blocking until `deadline` at most while the queue is full.
    ///
    /// # Errors
    ///
    /// Hands `value` back in [`PushTimeoutError`] on timeout or close.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let q = ringq::BoundedQueue::new(1).unwrap();
    /// let deadline = Instant::now() + Duration::from_millis(10);
    /// q.push_deadline(1, deadline).unwrap();
    /// ```
    pub fn push_deadline(&self, value: T, deadline: Instant) -> Result<(), PushTimeoutError<T>> {
        blocking::push_until(self, value, Some(deadline))
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
    /// let q = ringq::BoundedQueue::new(1).unwrap();
    /// q.push(5).unwrap();
    /// q.close();
    /// assert_eq!(q.pop(), Ok(5)); // drains what was pushed before the close
    /// assert!(q.pop().is_err());
    /// ```
    pub fn pop(&self) -> Result<T, Closed> {
        // One try here before the blocking path, as in `push`.
        match self.claim_pop(1) {
            // SAFETY: `claim_pop` gave this thread the item at `pos`.
            Ok((pos, 1)) => Ok(unsafe { self.take(pos) }),
            Ok(_) => blocking::pop(self),
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
    /// use ringq::PopTimeoutError;
    ///
    /// let q = ringq::BoundedQueue::<u8>::new(1).unwrap();
    /// assert_eq!(q.pop_timeout(Duration::from_millis(1)), Err(PopTimeoutError::Timeout));
    /// ```
    pub fn pop_timeout(&self, timeout: Duration) -> Result<T, PopTimeoutError> {
        blocking::pop_until(self, Instant::now().checked_add(timeout))
    }

    /// Pops the oldest item, blocking until `deadline` at most.
    ///
    /// Waiting in short slices (a deadline a few tens of milliseconds away,
    /// in a loop) lets a caller do other work between waits, such as checking
    /// for signals.
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
    /// let q = ringq::BoundedQueue::new(1).unwrap();
    /// q.push(3).unwrap();
    /// assert_eq!(q.pop_deadline(Instant::now() + Duration::from_millis(50)), Ok(3));
    /// ```
    pub fn pop_deadline(&self, deadline: Instant) -> Result<T, PopTimeoutError> {
        blocking::pop_until(self, Some(deadline))
    }

    /// Pushes the longest prefix of `items` that fits, claiming the slots in
    /// one atomic step. Returns how many were pushed: 0 when full.
    ///
    /// # Errors
    ///
    /// [`Closed`] if the queue is closed; nothing was pushed.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::BoundedQueue::new(3).unwrap();
    /// assert_eq!(q.try_push_slice(&[1, 2, 3, 4, 5]), Ok(3));
    /// assert_eq!(q.try_push_slice(&[4, 5]), Ok(0));
    /// ```
    pub fn try_push_slice(&self, items: &[T]) -> Result<usize, Closed>
    where
        T: Copy,
    {
        if items.is_empty() {
            return Ok(0);
        }
        let (start, count) = self.claim_push(items.len())?;
        // SAFETY: `claim_push` gave this thread `count <= items.len()` slots;
        // copying `Copy` items gives nothing up.
        unsafe { self.fill_from(start, count, items.as_ptr()) };
        Ok(count)
    }

    /// Moves the longest prefix of `items` that fits into the queue, claiming
    /// the slots in one atomic step. What did not fit stays in `items`.
    /// Returns how many were pushed: 0 when full.
    ///
    /// # Errors
    ///
    /// [`Closed`] if the queue is closed; `items` is left untouched.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::BoundedQueue::new(2).unwrap();
    /// let mut jobs = vec!["a".to_string(), "b".into(), "c".into()];
    /// assert_eq!(q.try_push_vec(&mut jobs), Ok(2));
    /// assert_eq!(jobs, ["c"]);
    /// ```
    pub fn try_push_vec(&self, items: &mut Vec<T>) -> Result<usize, Closed> {
        if items.is_empty() {
            return Ok(0);
        }
        let (start, count) = self.claim_push(items.len())?;
        let len = items.len();
        // SAFETY: `claim_push` gave this thread `count <= len` slots. The
        // first `count` items are moved into them, then the rest slid to
        // the front: the vector forgets its items while that happens, and
        // nothing in between can panic.
        unsafe {
            items.set_len(0);
            let base = items.as_mut_ptr();
            self.fill_from(start, count, base);
            ptr::copy(base.add(count), base, len - count);
            items.set_len(len - count);
        }
        Ok(count)
    }

    /// Pushes every item, blocking while the queue is full; batches are
    /// claimed in one atomic step each.
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
    /// let q = ringq::BoundedQueue::new(10).unwrap();
    /// assert_eq!(q.push_iter(0..4), Ok(4));
    /// q.close();
    /// assert_eq!(q.push_iter(4..6).unwrap_err().into_inner(), vec![4, 5]);
    /// ```
    pub fn push_iter<I: IntoIterator<Item = T>>(
        &self,
        items: I,
    ) -> Result<usize, PushError<Vec<T>>> {
        blocking::push_iter(self, items)
    }

    /// Pops up to `buf.len()` items into `buf` without waiting, claiming
    /// them in one atomic step. Returns how many were written to the front
    /// of `buf`: 0 when empty.
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
    /// let q = ringq::BoundedQueue::new(4).unwrap();
    /// q.try_push_slice(&[1, 2, 3]).unwrap();
    /// let mut buf = [MaybeUninit::<i32>::uninit(); 8];
    /// let n = q.try_pop_into(&mut buf).unwrap();
    /// // SAFETY: the first `n` elements were initialised by `try_pop_into`.
    /// let got: Vec<i32> = buf[..n].iter().map(|v| unsafe { v.assume_init() }).collect();
    /// assert_eq!(got, [1, 2, 3]);
    /// ```
    pub fn try_pop_into(&self, buf: &mut [MaybeUninit<T>]) -> Result<usize, Closed> {
        if buf.is_empty() {
            return Ok(0);
        }
        let (start, count) = self.claim_pop(buf.len())?;
        // SAFETY: `claim_pop` gave this thread `count <= buf.len()` items.
        unsafe { self.drain_into(start, count, buf.as_mut_ptr().cast()) };
        Ok(count)
    }

    /// Appends up to `max` items to `out` without waiting, claiming them in
    /// one atomic step. Returns how many were appended: 0 when empty.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the queue is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::BoundedQueue::new(4).unwrap();
    /// q.try_push_slice(&[1, 2, 3]).unwrap();
    /// let mut out = Vec::new();
    /// assert_eq!(q.try_pop_many(&mut out, 2), Ok(2));
    /// assert_eq!(out, [1, 2]);
    /// ```
    pub fn try_pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, Closed> {
        if max == 0 {
            return Ok(0);
        }
        // Room first, for what is there now (at least one item), and then
        // claim no more than there is room for: once claimed, items are
        // moved out with nothing in between that could panic.
        out.reserve(self.len().clamp(1, max));
        let room = (out.capacity() - out.len()).min(max);
        let (start, count) = self.claim_pop(room)?;
        let len = out.len();
        // SAFETY: `claim_pop` gave this thread `count <= room` items, and
        // `out` has room for them after its end.
        unsafe {
            self.drain_into(start, count, out.as_mut_ptr().add(len));
            out.set_len(len + count);
        }
        Ok(count)
    }

    /// Appends up to `max` items to `out`, blocking until at least one is
    /// there. Returns how many were appended.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the queue is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::BoundedQueue::new(4).unwrap();
    /// q.push(1).unwrap();
    /// let mut out = Vec::new();
    /// assert_eq!(q.pop_many(&mut out, 10), Ok(1));
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
    /// let q = ringq::BoundedQueue::<u8>::new(4).unwrap();
    /// let mut out = Vec::new();
    /// let soon = Instant::now() + Duration::from_millis(1);
    /// assert!(q.pop_many_deadline(&mut out, 10, Some(soon)).is_err());
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
    /// then report closed, and every blocked thread wakes. Returns `true` if
    /// this call closed it, `false` if it was already closed.
    ///
    /// A thread that learns of the close, from [`is_closed`](Self::is_closed)
    /// or from any pop or push that reports it closed, also sees everything
    /// this thread did before calling `close`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::BoundedQueue::<u8>::new(1).unwrap();
    /// assert!(q.close());
    /// assert!(!q.close());
    /// assert!(q.is_closed());
    /// ```
    pub fn close(&self) -> bool {
        // Release: pairs with the Acquire in `is_closed` and on the paths
        // that report Closed, so a thread that sees the mark also sees what
        // this thread did before closing. Being
        // an RMW on `tail`, it is also ordered with every push's CAS.
        let was_open = self.tail.fetch_or(self.mark_bit, Ordering::Release) & self.mark_bit == 0;
        if was_open {
            self.readers.notify_all();
            self.writers.notify_all();
        }
        was_open
    }

    /// Whether [`close`](Self::close) has been called.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::BoundedQueue::<u8>::new(1).unwrap();
    /// assert!(!q.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        // Acquire: a caller that sees the mark also sees what preceded close().
        self.tail.load(Ordering::Acquire) & self.mark_bit != 0
    }

    /// The number of items in the queue. With other threads at work this is
    /// a snapshot that may be stale by the time it returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::BoundedQueue::new(4).unwrap();
    /// q.try_push_slice(&[1, 2]).unwrap();
    /// assert_eq!(q.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        loop {
            // Acquire on all three: keeps the `head` load between the two
            // `tail` loads, so equal tails mean a consistent pair.
            let tail = self.tail.load(Ordering::Acquire);
            let head = self.head.load(Ordering::Acquire);
            if self.tail.load(Ordering::Acquire) == tail {
                let tail = tail & !self.mark_bit;
                let hix = head & (self.mark_bit - 1);
                let tix = tail & (self.mark_bit - 1);
                return if hix < tix {
                    tix - hix
                } else if hix > tix {
                    self.cap - hix + tix
                } else if tail == head {
                    0
                } else {
                    self.cap
                };
            }
        }
    }

    /// Whether the queue holds no items (a snapshot, like [`len`](Self::len)).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(ringq::BoundedQueue::<u8>::new(1).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the queue holds `capacity` items (a snapshot, like [`len`](Self::len)).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::BoundedQueue::new(1).unwrap();
    /// q.push(1).unwrap();
    /// assert!(q.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == self.cap
    }

    /// The most items the queue holds: exactly what [`new`](Self::new) was given.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(ringq::BoundedQueue::<u8>::new(3).unwrap().capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// How many threads are blocked in a pop (a snapshot): past spinning
    /// and registered to park until an item comes or the queue closes.
    ///
    /// For diagnostics and tests, for example to make sure a consumer is
    /// really parked before waking it.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::BoundedQueue::<u8>::new(1).unwrap();
    /// assert_eq!(q.waiting_poppers(), 0);
    /// ```
    pub fn waiting_poppers(&self) -> usize {
        self.readers.waiting()
    }

    /// How many threads are blocked in a push (a snapshot): past spinning
    /// and registered to park until there is room or the queue closes.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = ringq::BoundedQueue::<u8>::new(1).unwrap();
    /// assert_eq!(q.waiting_pushers(), 0);
    /// ```
    pub fn waiting_pushers(&self) -> usize {
        self.writers.waiting()
    }
}

impl<T> PushSide<T> for BoundedQueue<T> {
    fn try_push(&self, value: T) -> Result<(), TryPushError<T>> {
        self.try_push(value)
    }
    fn try_push_vec(&self, items: &mut Vec<T>) -> Result<usize, Closed> {
        self.try_push_vec(items)
    }
    fn writers(&self) -> &WaitQueue {
        &self.writers
    }
}

impl<T> PopSide<T> for BoundedQueue<T> {
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

impl<T> Drop for BoundedQueue<T> {
    fn drop(&mut self) {
        let len = self.len();
        // Relaxed: `&mut self` means no other thread is left.
        let mut pos = self.head.load(Ordering::Relaxed);
        for _ in 0..len {
            let slot = self.slot(pos);
            // SAFETY: the `len` slots from `head` hold initialised items that
            // nobody else can reach any more. If one item's drop panics, the
            // rest leak, which is safe.
            slot.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
            pos = self.next(pos);
        }
    }
}

impl<T> fmt::Debug for BoundedQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedQueue")
            .field("len", &self.len())
            .field("capacity", &self.cap)
            .field("closed", &self.is_closed())
            .finish()
    }
}
