//! A bounded single-producer single-consumer ring.
//!
//! # Algorithm
//!
//! The design of rigtorp's `SPSCQueue` and of rtrb. `head` (next position to
//! pop) is written only by the [`Consumer`], `tail` (next position to push)
//! only by the [`Producer`]; they sit on separate cache lines. As in rtrb,
//! positions count modulo `2 * capacity`: twice the capacity, so that a full
//! ring (`tail` a capacity ahead of `head`) and an empty one (`tail ==
//! head`) differ, and the slot of a position is the position itself or that
//! less the capacity. Any capacity works, with no division. (Keeping a slot
//! index beside positions that count up forever does the same work, but a
//! half that reloads its own index from memory on every operation measured
//! several times slower once the two halves ran on different cores.)
//!
//! Each half caches the other's position. The producer only reloads `head`
//! when its cached copy says the ring is full, the consumer only reloads
//! `tail` when its copy says empty, so an uncontended push or pop touches no
//! cache line the other side is writing.
//!
//! Orderings: the producer writes the slot, then stores `tail` with Release;
//! the consumer loads `tail` with Acquire before reading the slot. The mirror
//! pair on `head` keeps the producer from overwriting a slot the consumer is
//! still reading.
//!
//! # Progress
//!
//! The non-blocking operations are wait-free: each takes a bounded number
//! of steps, whatever the other half is doing, since no slot is ever shared
//! by two threads at once.
//!
//! # Closing
//!
//! Either half may [`close`](Producer::close) the queue, and dropping a half
//! closes it. A close by the producer is exact: pushes after it fail, pops
//! drain everything pushed before it. A close by the consumer races with a
//! push that is already under way; such a push may still succeed, and its
//! item is then returned by a later pop, or dropped with the queue.
//!
//! # Examples
//!
//! ```
//! let (tx, rx) = ringq::spsc::channel(8).unwrap();
//! let producer = std::thread::spawn(move || {
//!     for i in 0..1000u32 {
//!         tx.push(i).unwrap();
//!     }
//!     // dropping `tx` closes the queue
//! });
//! let mut expected = 0;
//! while let Ok(i) = rx.pop() {
//!     assert_eq!(i, expected);
//!     expected += 1;
//! }
//! assert_eq!(expected, 1000);
//! producer.join().unwrap();
//! ```

use std::cell::Cell;
use std::fmt;
use std::mem::{self, MaybeUninit};
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::blocking::{self, PopSide, PushSide};
use crate::buffer;
use crate::error::{
    CapacityError, Closed, PopTimeoutError, PushError, PushTimeoutError, TryPopError, TryPushError,
};
use crate::loom::{fence, AtomicBool, AtomicUsize, Ordering, UnsafeCell, PLAIN_MEMORY};
use crate::wait::WaitQueue;

struct Shared<T> {
    /// Next position to pop; written only by the consumer.
    head: CachePadded<AtomicUsize>,
    /// Next position to push; written only by the producer.
    tail: CachePadded<AtomicUsize>,
    closed: AtomicBool,
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
    readers: CachePadded<WaitQueue>,
    writers: CachePadded<WaitQueue>,
}

// SAFETY: items move from the producer's thread to the consumer's, so
// `T: Send` is needed and enough. Each slot is accessed by one side at a
// time, handed over through `head` and `tail` as argued at each access.
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Shared<T> {}

/// Position arithmetic for a ring of `cap` slots: positions run from 0 to
/// `2 * cap - 1` and then start again at 0.
#[derive(Clone, Copy, Debug)]
struct Ring {
    cap: usize,
}

impl Ring {
    /// How many positions `to` is ahead of `from`: at most `cap` for the
    /// positions of one ring.
    #[inline(always)]
    fn distance(self, from: usize, to: usize) -> usize {
        if from <= to {
            to - from
        } else {
            2 * self.cap - from + to
        }
    }

    /// The slot of position `pos`.
    #[inline(always)]
    fn index(self, pos: usize) -> usize {
        if pos < self.cap {
            pos
        } else {
            pos - self.cap
        }
    }

    /// The position `n <= cap` after `pos`.
    #[inline(always)]
    fn advance(self, pos: usize, n: usize) -> usize {
        if n == 1 {
            // The common case, in fewer instructions: `pos + 1 <= 2 * cap`.
            return if pos + 1 == 2 * self.cap { 0 } else { pos + 1 };
        }
        // Written so that nothing overflows, whatever the capacity.
        if pos >= 2 * self.cap - n {
            pos - (2 * self.cap - n)
        } else {
            pos + n
        }
    }
}

impl<T> Shared<T> {
    fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn ring(&self) -> Ring {
        Ring {
            cap: self.capacity(),
        }
    }

    fn close(&self) -> bool {
        // Release: a pop that sees the flag also sees every push the closing
        // thread made before (the producer closing after its last push), and
        // a push that reports Closed what the consumer did before closing.
        let was_open = !self.closed.swap(true, Ordering::Release);
        if was_open {
            self.readers.notify_all();
            self.writers.notify_all();
        }
        was_open
    }

    fn is_closed(&self) -> bool {
        // Acquire: pairs with the Release in `close`.
        self.closed.load(Ordering::Acquire)
    }

    fn len(&self) -> usize {
        // Acquire on both: `head` first, so `tail`, which is never behind
        // `head`, is at least as new.
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire);
        self.ring().distance(head, tail)
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        if !std::mem::needs_drop::<T>() {
            return;
        }
        // Relaxed: both halves are gone, so no other thread is left (the
        // `Arc` ordered their last accesses before this drop).
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed);
        let ring = self.ring();
        let cap = self.capacity();
        let mut index = ring.index(head);
        for _ in 0..ring.distance(head, tail) {
            // SAFETY: the slots from `head` to `tail` hold initialised items
            // nobody else can reach. If one item's drop panics the rest leak,
            // which is safe.
            self.slots[index].with_mut(|p| unsafe { (*p).assume_init_drop() });
            index = if index + 1 == cap { 0 } else { index + 1 };
        }
    }
}

/// Creates a queue that holds exactly `capacity` items, returning its two
/// halves.
///
/// # Errors
///
/// [`CapacityError::Zero`] for a capacity of 0, [`CapacityError::TooLarge`]
/// or [`CapacityError::AllocFailed`] when the buffer cannot be allocated.
///
/// # Examples
///
/// ```
/// let (tx, rx) = ringq::spsc::channel::<u64>(3).unwrap();
/// assert_eq!(tx.capacity(), 3);
/// assert!(ringq::spsc::channel::<u64>(0).is_err());
/// # drop(rx);
/// ```
pub fn channel<T>(capacity: usize) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
    with_start(capacity, |_| 0)
}

/// Like [`channel`], but with positions starting `pushes_before_wrap`
/// pushes below the point where they wrap around (`2 * capacity`, see the
/// module docs). For tests only.
#[cfg(feature = "__near_wrap")]
#[doc(hidden)]
pub fn channel_near_wrap<T>(
    capacity: usize,
    pushes_before_wrap: usize,
) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
    with_start(capacity, |wrap| (wrap - pushes_before_wrap % wrap) % wrap)
}

/// A queue whose positions start at `start(2 * capacity)`.
fn with_start<T>(
    capacity: usize,
    start: impl FnOnce(usize) -> usize,
) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
    // Positions run up to twice the capacity.
    let wrap = capacity.checked_mul(2).ok_or(CapacityError::TooLarge {
        requested: capacity,
    })?;
    let slots = cells(capacity)?;
    let start = start(wrap);
    let shared = Arc::new(Shared {
        head: CachePadded::new(AtomicUsize::new(start)),
        tail: CachePadded::new(AtomicUsize::new(start)),
        closed: AtomicBool::new(false),
        slots,
        readers: CachePadded::new(WaitQueue::new()),
        writers: CachePadded::new(WaitQueue::new()),
    });
    let buffer = NonNull::from(&shared.slots[..]).cast();
    let ring = Ring { cap: capacity };
    let producer = Producer {
        shared: Arc::clone(&shared),
        slots: buffer,
        ring,
        tail: Cell::new(start),
        limit: Cell::new(ring.advance(start, capacity)),
    };
    let consumer = Consumer {
        shared,
        slots: buffer,
        ring,
        head: Cell::new(start),
        cached_tail: Cell::new(start),
    };
    Ok((producer, consumer))
}

/// Allocates the ring's cells, empty. Nothing is written per cell (outside
/// loom), so creating a queue takes constant time whatever its capacity,
/// which for zero-sized items may be anything up to `usize::MAX / 2`.
fn cells<T>(capacity: usize) -> Result<Box<[UnsafeCell<MaybeUninit<T>>]>, CapacityError> {
    if PLAIN_MEMORY {
        let cells = buffer::uninit(capacity)?;
        // SAFETY: outside loom `UnsafeCell<MaybeUninit<T>>` is transparent
        // over `MaybeUninit<T>`, which is valid whatever its bytes.
        Ok(unsafe { buffer::assume_init(cells) })
    } else {
        let init = |_, cell: *mut UnsafeCell<MaybeUninit<T>>| {
            // SAFETY: `cell` points to room for one cell, ours to write.
            unsafe { cell.write(UnsafeCell::new(MaybeUninit::uninit())) }
        };
        // SAFETY: `init` writes the whole cell.
        unsafe { buffer::slots(capacity, init) }
    }
}

/// The pushing half of an SPSC queue. `Send`, neither `Sync` nor `Clone`:
/// exactly one thread pushes at a time.
///
/// # Examples
///
/// ```
/// let (tx, rx) = ringq::spsc::channel(2).unwrap();
/// tx.try_push("hello").unwrap();
/// assert_eq!(rx.try_pop(), Ok("hello"));
/// ```
pub struct Producer<T> {
    shared: Arc<Shared<T>>,
    /// `shared.slots`, which lives as long as `shared`, and its length: read
    /// on every push, so kept here rather than behind the `Arc`.
    slots: NonNull<UnsafeCell<MaybeUninit<T>>>,
    ring: Ring,
    /// Our own copy of `shared.tail`, which only we write.
    tail: Cell<usize>,
    /// How far we may push without looking at `head`: the consumer's
    /// `head` as last seen (never ahead of the real one) plus the capacity.
    /// `tail == limit` means the ring may be full.
    limit: Cell<usize>,
}

/// The popping half of an SPSC queue. `Send`, neither `Sync` nor `Clone`:
/// exactly one thread pops at a time.
///
/// # Examples
///
/// ```
/// let (tx, rx) = ringq::spsc::channel(2).unwrap();
/// tx.push(1).unwrap();
/// drop(tx); // closes the queue
/// assert_eq!(rx.pop(), Ok(1));
/// assert!(rx.pop().is_err());
/// ```
pub struct Consumer<T> {
    shared: Arc<Shared<T>>,
    /// `shared.slots` and its length, as in [`Producer`].
    slots: NonNull<UnsafeCell<MaybeUninit<T>>>,
    ring: Ring,
    /// Our own copy of `shared.head`, which only we write.
    head: Cell<usize>,
    /// The producer's `tail` as last seen; never ahead of the real one.
    cached_tail: Cell<usize>,
}

// SAFETY: a half owns its side of the ring; moving it to another thread moves
// that side with it. `Cell` keeps it `!Sync`, so only one thread uses a half
// at a time. Items cross threads, hence `T: Send`.
unsafe impl<T: Send> Send for Producer<T> {}
// SAFETY: as for `Producer`.
unsafe impl<T: Send> Send for Consumer<T> {}

impl<T> Producer<T> {
    /// How many slots are free, reloading `head` only if fewer than `wanted`
    /// seem free.
    #[inline]
    fn free_slots(&self, wanted: usize) -> usize {
        let ring = self.ring;
        let tail = self.tail.get();
        let mut free = ring.distance(tail, self.limit.get());
        if free < wanted {
            // Acquire: pairs with the consumer's Release store of `head`,
            // made after it finished reading the slots it frees.
            let head = self.shared.head.load(Ordering::Acquire);
            let limit = ring.advance(head, ring.cap);
            self.limit.set(limit);
            free = ring.distance(tail, limit);
        }
        free
    }

    /// Whether a slot is free: one comparison unless the ring looks full.
    #[inline(always)]
    fn has_room(&self) -> bool {
        self.tail.get() != self.limit.get() || self.free_slots(1) > 0
    }

    /// Moves `count` items from `src` into the slots after `tail` and
    /// publishes them. Calls no code but ours, so nothing can panic while
    /// the slots are half written.
    ///
    /// # Safety
    ///
    /// `count` slots must be free (as [`free_slots`](Self::free_slots) has
    /// said), and `src` must point to `count` items that the caller gives
    /// up: they are moved.
    #[inline]
    unsafe fn fill_from(&self, count: usize, src: *const T) {
        if count == 0 {
            return;
        }
        // Everything read before the slots are written: the compiler cannot
        // tell that those writes leave `self` alone, and would reload it.
        let shared: &Shared<T> = &self.shared;
        let ring = self.ring;
        let tail = self.tail.get();
        let mut index = ring.index(tail);
        for i in 0..count {
            // SAFETY: `index < ring.cap`, so this is one of the `shared.slots`,
            // which live as long as `shared`.
            let slot = unsafe { &*self.slots.as_ptr().add(index) };
            // SAFETY: the slot is free (the consumer's Release of `head` past
            // it was Acquired in `free_slots`), and only the producer, this
            // thread, writes free slots. The caller gave up the item.
            slot.with_mut(|p| unsafe { ptr::copy_nonoverlapping(src.add(i), p.cast::<T>(), 1) });
            index = if index + 1 == ring.cap { 0 } else { index + 1 };
        }
        let tail = ring.advance(tail, count);
        self.tail.set(tail);
        // Release: publishes the slot writes above to the consumer.
        shared.tail.store(tail, Ordering::Release);
        if count == 1 {
            shared.readers.notify_one();
        } else {
            shared.readers.notify_all();
        }
    }

    fn check_open(&self) -> Result<(), Closed> {
        // Relaxed: the flag carries no data to a push that goes ahead;
        // ordering with pops is given by `tail` (see the module docs on
        // closing).
        if self.shared.closed.load(Ordering::Relaxed) {
            // Acquire: pairs with the Release in `close`, so a push that
            // reports Closed sees what the consumer did before closing.
            fence(Ordering::Acquire);
            Err(Closed)
        } else {
            Ok(())
        }
    }

    /// Pushes `value` if there is room, without blocking.
    ///
    /// # Errors
    ///
    /// Hands `value` back in [`TryPushError::Full`] or [`TryPushError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ringq::spsc::channel(1).unwrap();
    /// tx.try_push(1).unwrap();
    /// assert!(tx.try_push(2).unwrap_err().is_full());
    /// ```
    #[inline]
    pub fn try_push(&self, value: T) -> Result<(), TryPushError<T>> {
        let open = self.check_open().is_ok();
        if open && self.has_room() {
            // SAFETY: a slot is free, and `value` is forgotten right after
            // its bytes are moved.
            unsafe { self.fill_from(1, &value) };
            // Moved by address and forgotten, rather than passed on by value,
            // and the error built in one place: in an unoptimised build every
            // by-value step copies the item on the stack, which large items
            // would overflow.
            mem::forget(value);
            return Ok(());
        }
        Err(if open {
            TryPushError::Full(value)
        } else {
            TryPushError::Closed(value)
        })
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
    /// let (tx, rx) = ringq::spsc::channel(1).unwrap();
    /// tx.push(1).unwrap();
    /// drop(rx);
    /// assert_eq!(tx.push(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn push(&self, value: T) -> Result<(), PushError<T>> {
        // One try here before the blocking path, as `try_push` does it: a
        // call to `try_push` would copy a large item once more in an
        // unoptimised build.
        if self.check_open().is_err() {
            return Err(PushError(value));
        }
        if !self.has_room() {
            return blocking::push(self, value);
        }
        // SAFETY: as in `try_push`.
        unsafe { self.fill_from(1, &value) };
        mem::forget(value);
        Ok(())
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
    /// let (tx, _rx) = ringq::spsc::channel(1).unwrap();
    /// tx.push(1).unwrap();
    /// assert!(tx.push_timeout(2, Duration::from_millis(1)).unwrap_err().is_timeout());
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
    /// let (tx, _rx) = ringq::spsc::channel(1).unwrap();
    /// tx.push_deadline(1, Instant::now() + Duration::from_millis(10)).unwrap();
    /// ```
    pub fn push_deadline(&self, value: T, deadline: Instant) -> Result<(), PushTimeoutError<T>> {
        blocking::push_until(self, value, Some(deadline))
    }

    /// Pushes the longest prefix of `items` that fits and publishes it with
    /// one atomic store. Returns how many were pushed: 0 when full.
    ///
    /// # Errors
    ///
    /// [`Closed`] if the queue is closed and `items` is not empty; nothing
    /// was pushed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ringq::spsc::channel(3).unwrap();
    /// assert_eq!(tx.try_push_slice(&[1, 2, 3, 4]), Ok(3));
    /// ```
    pub fn try_push_slice(&self, items: &[T]) -> Result<usize, Closed>
    where
        T: Copy,
    {
        if items.is_empty() {
            return Ok(0);
        }
        self.check_open()?;
        let count = self.free_slots(items.len()).min(items.len());
        // SAFETY: `count` slots are free and `items` holds at least that
        // many; copying `Copy` items gives nothing up.
        unsafe { self.fill_from(count, items.as_ptr()) };
        Ok(count)
    }

    /// Moves the longest prefix of `items` that fits into the queue and
    /// publishes it with one atomic store. What did not fit stays in `items`.
    /// Returns how many were pushed: 0 when full.
    ///
    /// # Errors
    ///
    /// [`Closed`] if the queue is closed and `items` is not empty; `items`
    /// is left untouched.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ringq::spsc::channel(2).unwrap();
    /// let mut items = vec![String::from("a"), "b".into(), "c".into()];
    /// assert_eq!(tx.try_push_vec(&mut items), Ok(2));
    /// assert_eq!(items, ["c"]);
    /// ```
    pub fn try_push_vec(&self, items: &mut Vec<T>) -> Result<usize, Closed> {
        if items.is_empty() {
            return Ok(0);
        }
        self.check_open()?;
        let len = items.len();
        let count = self.free_slots(len).min(len);
        // SAFETY: `count <= len` slots are free. The first `count` items are
        // moved into them, then the rest slid to the front: the vector
        // forgets its items while that happens, and nothing in between can
        // panic.
        unsafe {
            items.set_len(0);
            let base = items.as_mut_ptr();
            self.fill_from(count, base);
            ptr::copy(base.add(count), base, len - count);
            items.set_len(len - count);
        }
        Ok(count)
    }

    /// Pushes every item, blocking while the queue is full.
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
    /// let (tx, rx) = ringq::spsc::channel(4).unwrap();
    /// assert_eq!(tx.push_iter(0..3), Ok(3));
    /// drop(rx);
    /// assert_eq!(tx.push_iter(3..5).unwrap_err().into_inner(), vec![3, 4]);
    /// ```
    pub fn push_iter<I: IntoIterator<Item = T>>(
        &self,
        items: I,
    ) -> Result<usize, PushError<Vec<T>>> {
        blocking::push_iter(self, items)
    }

    /// Closes the queue; see [`Consumer::close`]. Returns `true` if this call
    /// closed it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ringq::spsc::channel::<u8>(1).unwrap();
    /// assert!(tx.close());
    /// assert!(rx.is_closed());
    /// ```
    pub fn close(&self) -> bool {
        self.shared.close()
    }

    /// Whether the queue is closed, by either half or by a dropped half.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ringq::spsc::channel::<u8>(1).unwrap();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// The number of items in the queue (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ringq::spsc::channel(2).unwrap();
    /// tx.push(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// Whether the queue holds no items (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ringq::spsc::channel::<u8>(2).unwrap();
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the queue holds `capacity` items (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ringq::spsc::channel(1).unwrap();
    /// tx.push(1).unwrap();
    /// assert!(tx.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// The most items the queue holds: exactly what [`channel`] was given.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ringq::spsc::channel::<u8>(5).unwrap();
    /// assert_eq!(tx.capacity(), 5);
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// Whether the consumer is blocked in a pop (a snapshot): 1 if it is
    /// past spinning and registered to park, else 0.
    ///
    /// For diagnostics and tests, for example to make sure the consumer is
    /// really parked before waking it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ringq::spsc::channel::<u8>(1).unwrap();
    /// assert_eq!(tx.waiting_poppers(), 0);
    /// ```
    pub fn waiting_poppers(&self) -> usize {
        self.shared.readers.waiting()
    }

    /// Whether the producer is blocked in a push (a snapshot): 1 if it is
    /// past spinning and registered to park, else 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ringq::spsc::channel::<u8>(1).unwrap();
    /// assert_eq!(tx.waiting_pushers(), 0);
    /// ```
    pub fn waiting_pushers(&self) -> usize {
        self.shared.writers.waiting()
    }
}

impl<T> Consumer<T> {
    /// How many items are ready, reloading `tail` only if fewer than
    /// `wanted` seem ready.
    #[inline]
    fn ready_items(&self, wanted: usize) -> usize {
        let ring = self.ring;
        let head = self.head.get();
        let mut ready = ring.distance(head, self.cached_tail.get());
        if ready < wanted {
            // Acquire: pairs with the producer's Release store of `tail`,
            // made after it wrote the slots it publishes.
            let tail = self.shared.tail.load(Ordering::Acquire);
            self.cached_tail.set(tail);
            ready = ring.distance(head, tail);
        }
        ready
    }

    /// Whether an item is ready, as far as the last look at `tail` says: one
    /// comparison. (`false` only means look again, with `ready_items`.)
    #[inline(always)]
    fn has_item(&self) -> bool {
        self.head.get() != self.cached_tail.get()
    }

    /// How many items are ready, or `Closed` if none are and none will come.
    fn ready_or_closed(&self, wanted: usize) -> Result<usize, Closed> {
        let ready = self.ready_items(wanted);
        if ready > 0 || !self.shared.is_closed() {
            return Ok(ready);
        }
        // The flag was set: look at `tail` once more, since the producer may
        // have pushed and then closed after our first look.
        let ready = self.ready_items(wanted);
        if ready > 0 {
            Ok(ready)
        } else {
            Err(Closed)
        }
    }

    /// Moves `count` ready items out to `dst` and frees their slots. Calls
    /// no code but ours, so nothing can panic between taking the items and
    /// publishing `head`, after which a panic could drop them again.
    ///
    /// # Safety
    ///
    /// `count` items must be ready (as [`ready_items`](Self::ready_items)
    /// has said), and `dst` must be valid for writing `count` items.
    #[inline]
    unsafe fn drain_into(&self, count: usize, dst: *mut T) {
        if count == 0 {
            return;
        }
        // Everything read before the items are written out, as in
        // `Producer::fill_from`.
        let shared: &Shared<T> = &self.shared;
        let ring = self.ring;
        let head = self.head.get();
        let mut index = ring.index(head);
        for i in 0..count {
            // SAFETY: `index < ring.cap`, so this is one of the `shared.slots`,
            // which live as long as `shared`.
            let slot = unsafe { &*self.slots.as_ptr().add(index) };
            // SAFETY: the slot holds an item the producer published (its
            // Release of `tail` was Acquired in `ready_items`), and only the
            // consumer, this thread, reads published slots. The caller
            // vouches for `dst`.
            slot.with(|p| unsafe { ptr::copy_nonoverlapping(p.cast::<T>(), dst.add(i), 1) });
            index = if index + 1 == ring.cap { 0 } else { index + 1 };
        }
        let head = ring.advance(head, count);
        self.head.set(head);
        // Release: our reads above complete before the producer, which
        // Acquires `head`, may overwrite these slots.
        shared.head.store(head, Ordering::Release);
        if count == 1 {
            shared.writers.notify_one();
        } else {
            shared.writers.notify_all();
        }
    }

    /// Pops the oldest item, which is ready.
    ///
    /// # Safety
    ///
    /// An item must be ready, as [`ready_items`](Self::ready_items) has said.
    #[inline]
    unsafe fn take(&self) -> T {
        let mut out = MaybeUninit::uninit();
        // SAFETY: as promised by our caller; `out` has room for one item.
        unsafe { self.drain_into(1, out.as_mut_ptr()) };
        // SAFETY: `drain_into` wrote it.
        unsafe { out.assume_init() }
    }

    /// Pops the oldest item, without blocking.
    ///
    /// # Errors
    ///
    /// [`TryPopError::Empty`] if there is none right now, and
    /// [`TryPopError::Closed`] once the queue is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringq::TryPopError;
    ///
    /// let (tx, rx) = ringq::spsc::channel(1).unwrap();
    /// assert_eq!(rx.try_pop(), Err(TryPopError::Empty));
    /// tx.push(1).unwrap();
    /// assert_eq!(rx.try_pop(), Ok(1));
    /// ```
    #[inline]
    pub fn try_pop(&self) -> Result<T, TryPopError> {
        if self.has_item() {
            // SAFETY: an item is ready.
            return Ok(unsafe { self.take() });
        }
        match self.ready_or_closed(1) {
            Ok(0) => Err(TryPopError::Empty),
            // SAFETY: an item is ready.
            Ok(_) => Ok(unsafe { self.take() }),
            Err(Closed) => Err(TryPopError::Closed),
        }
    }

    /// Pops the oldest item, blocking while the queue is empty.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the queue is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ringq::spsc::channel(1).unwrap();
    /// std::thread::spawn(move || tx.push(9).unwrap());
    /// assert_eq!(rx.pop(), Ok(9));
    /// ```
    pub fn pop(&self) -> Result<T, Closed> {
        // One try here before the blocking path, as in `Producer::push`.
        if self.has_item() {
            // SAFETY: an item is ready.
            return Ok(unsafe { self.take() });
        }
        match self.ready_or_closed(1) {
            Ok(0) => blocking::pop(self),
            // SAFETY: an item is ready.
            Ok(_) => Ok(unsafe { self.take() }),
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
    /// let (_tx, rx) = ringq::spsc::channel::<u8>(1).unwrap();
    /// assert!(rx.pop_timeout(Duration::from_millis(1)).is_err());
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
    /// let (tx, rx) = ringq::spsc::channel(1).unwrap();
    /// tx.push(2).unwrap();
    /// assert_eq!(rx.pop_deadline(Instant::now() + Duration::from_millis(50)), Ok(2));
    /// ```
    pub fn pop_deadline(&self, deadline: Instant) -> Result<T, PopTimeoutError> {
        blocking::pop_until(self, Some(deadline))
    }

    /// Pops up to `buf.len()` items into the front of `buf` without blocking,
    /// freeing their slots with one atomic store. Returns how many: 0 when empty.
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
    /// let (tx, rx) = ringq::spsc::channel(4).unwrap();
    /// tx.try_push_slice(&[1u8, 2]).unwrap();
    /// let mut buf = [MaybeUninit::uninit(); 4];
    /// assert_eq!(rx.try_pop_into(&mut buf), Ok(2));
    /// ```
    pub fn try_pop_into(&self, buf: &mut [MaybeUninit<T>]) -> Result<usize, Closed> {
        if buf.is_empty() {
            return Ok(0);
        }
        let count = self.ready_or_closed(buf.len())?.min(buf.len());
        // SAFETY: `count` items are ready and `buf` has room for them.
        unsafe { self.drain_into(count, buf.as_mut_ptr().cast()) };
        Ok(count)
    }

    /// Appends up to `max` items to `out` without blocking, freeing their
    /// slots with one atomic store. Returns how many: 0 when empty.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the queue is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ringq::spsc::channel(4).unwrap();
    /// tx.try_push_slice(&[1, 2, 3]).unwrap();
    /// let mut out = Vec::new();
    /// assert_eq!(rx.try_pop_many(&mut out, 8), Ok(3));
    /// ```
    pub fn try_pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, Closed> {
        if max == 0 {
            return Ok(0);
        }
        let count = self.ready_or_closed(max)?.min(max);
        // Room before taking anything: the items stay in the ring, owned by
        // it, if this panics.
        out.reserve(count);
        let len = out.len();
        // SAFETY: `count` items are ready, and `out` has room for them after
        // its end.
        unsafe {
            self.drain_into(count, out.as_mut_ptr().add(len));
            out.set_len(len + count);
        }
        Ok(count)
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
    /// let (tx, rx) = ringq::spsc::channel(4).unwrap();
    /// tx.push(1).unwrap();
    /// let mut out = Vec::new();
    /// assert_eq!(rx.pop_many(&mut out, 8), Ok(1));
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
    /// let (_tx, rx) = ringq::spsc::channel::<u8>(4).unwrap();
    /// let mut out = Vec::new();
    /// let soon = Some(Instant::now() + Duration::from_millis(1));
    /// assert!(rx.pop_many_deadline(&mut out, 8, soon).is_err());
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
    /// then report closed, and a blocked half wakes. Returns `true` if this
    /// call closed it. See the module docs for a close racing with a push.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ringq::spsc::channel(1).unwrap();
    /// rx.close();
    /// assert!(tx.try_push(1).unwrap_err().is_closed());
    /// ```
    pub fn close(&self) -> bool {
        self.shared.close()
    }

    /// Whether the queue is closed, by either half or by a dropped half.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ringq::spsc::channel::<u8>(1).unwrap();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// The number of items in the queue (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ringq::spsc::channel(2).unwrap();
    /// tx.push(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// Whether the queue holds no items (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = ringq::spsc::channel::<u8>(2).unwrap();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the queue holds `capacity` items (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ringq::spsc::channel(1).unwrap();
    /// tx.push(1).unwrap();
    /// assert!(rx.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// The most items the queue holds: exactly what [`channel`] was given.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = ringq::spsc::channel::<u8>(5).unwrap();
    /// assert_eq!(rx.capacity(), 5);
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// Whether the consumer is blocked in a pop (a snapshot): 1 if it is
    /// past spinning and registered to park, else 0.
    ///
    /// For diagnostics and tests, for example to make sure the consumer is
    /// really parked before waking it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = ringq::spsc::channel::<u8>(1).unwrap();
    /// assert_eq!(rx.waiting_poppers(), 0);
    /// ```
    pub fn waiting_poppers(&self) -> usize {
        self.shared.readers.waiting()
    }

    /// Whether the producer is blocked in a push (a snapshot): 1 if it is
    /// past spinning and registered to park, else 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = ringq::spsc::channel::<u8>(1).unwrap();
    /// assert_eq!(rx.waiting_pushers(), 0);
    /// ```
    pub fn waiting_pushers(&self) -> usize {
        self.shared.writers.waiting()
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl<T> PushSide<T> for Producer<T> {
    fn try_push(&self, value: T) -> Result<(), TryPushError<T>> {
        self.try_push(value)
    }
    fn try_push_vec(&self, items: &mut Vec<T>) -> Result<usize, Closed> {
        self.try_push_vec(items)
    }
    fn writers(&self) -> &WaitQueue {
        &self.shared.writers
    }
}

impl<T> PopSide<T> for Consumer<T> {
    fn try_pop(&self) -> Result<T, TryPopError> {
        self.try_pop()
    }
    fn try_pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, Closed> {
        self.try_pop_many(out, max)
    }
    fn readers(&self) -> &WaitQueue {
        &self.shared.readers
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}
