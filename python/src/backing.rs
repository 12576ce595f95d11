//! The storage behind `Queue` and `SimpleQueue`: the core's bounded ring,
//! replaced by a larger one when an unbounded queue fills it.
//!
//! # Why a ring, even for the unbounded queues
//!
//! A `ringq::BoundedQueue` push or pop costs one atomic read-modify-write;
//! a `ringq::UnboundedQueue` push+pop costs about six (per-slot state bits,
//! SeqCst fences) and a segment allocation per 31 items, which is most of
//! what separates `queue.SimpleQueue` from a fast Python queue. So every
//! queue here keeps its items in a ring. An unbounded queue (`SimpleQueue`,
//! `Queue(0)`) starts with a small ring and, when it is full, moves its
//! items to one twice as large: amortised, a move costs a few copies per
//! item.
//!
//! # Moving to a new ring
//!
//! A move (growing an unbounded queue, assigning a `maxsize` above the
//! ring's capacity, shrinking a large empty ring) takes the `rare` lock,
//! closes the old ring, takes its items out, pushes them in order into the
//! new ring, and publishes the new ring. A push or pop that finds the old
//! ring closed takes the lock, which it gets once the move is over, and
//! tries again on the new ring. With the GIL no operation can overlap a
//! move: every item moves while its thread is attached (see
//! [`crate::blocking`]). On a free-threaded build operations can overlap
//! it, and the closing is what keeps them in order.
//!
//! The `rare` lock is only taken by an attached thread, never around Python
//! code, a release of a Python object or a wait, so it is never held when
//! the process forks, never taken re-entrantly by a `__del__` or a signal
//! handler, and, with the GIL, never contended.
//!
//! # Freeing old rings
//!
//! A thread waiting for an item or for room peeks at the ring while
//! detached. Peeks are counted in `peekers`, and an old ring is freed only
//! when a move (or the queue's end) finds no peek in progress; otherwise
//! it waits for a later move. With the GIL that is enough, since no
//! operation is in progress during a move. On a free-threaded build an
//! operation may still hold the old ring, so old rings are kept until the
//! queue is freed, and rings never shrink there, which bounds what is
//! kept to about twice the largest ring.
//!
//! # `maxsize`
//!
//! `Queue(n)` makes a ring of exactly `n` slots, whose capacity is the
//! limit, so the fast path's push enforces `maxsize` by itself. Assigning a
//! value within the capacity sets a *soft limit*: each put compares the
//! length with it first (a load and a branch when there is none). On a
//! free-threaded build, puts that race each other can pass that check
//! together and overshoot the limit by at most the number of racing
//! producers; with the GIL the limit is exact. A larger value moves the
//! items to a ring of that size (at least twice the old one, with the soft
//! limit at the value), and a value `<= 0` makes the queue unbounded.
//!
//! # Shutdown
//!
//! `shutdown()` closes the ring, so every later push fails atomically with
//! respect to the pushes that got in, and moves the items still in it to
//! `left`, where gets find them. A closed ring can't take items back, and
//! the GC takes items out and puts them back to visit them (see
//! [`visit_at_rest`]); keeping a shut-down queue's items in `left` lets it
//! visit them in place.

use std::collections::VecDeque;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use ringq::{BoundedQueue, CapacityError, Closed, TryPopError, TryPushError};

/// What the queues hold: strong references to Python objects.
pub(crate) type Item = pyo3::Py<pyo3::PyAny>;

/// A ring of Python objects.
pub(crate) type Ring = BoundedQueue<Item>;

/// The first ring of an unbounded queue, in slots.
const FIRST_RING: usize = 256;

/// An empty ring larger than this is replaced by a [`FIRST_RING`] one, to
/// give back the memory of a burst (with the GIL only; see the module
/// docs). Smaller rings stay as they are, so a queue that often empties
/// doesn't pay for moves. A queue that grows back to the size it shrank
/// from raises its own threshold above that size: its bursts are that
/// large, and shrinking between them would only repeat the moves.
const SHRINK_ABOVE: usize = 1 << 18;

/// The batch operations of a core queue (or of an SPSC channel's two
/// halves), which traversal and clearing use.
pub(crate) trait Batch {
    fn pop_many(&self, out: &mut Vec<Item>, max: usize) -> Result<usize, Closed>;
    fn push_vec(&self, items: &mut Vec<Item>) -> Result<usize, Closed>;
}

impl Batch for Ring {
    fn pop_many(&self, out: &mut Vec<Item>, max: usize) -> Result<usize, Closed> {
        self.try_pop_many(out, max)
    }
    fn push_vec(&self, items: &mut Vec<Item>) -> Result<usize, Closed> {
        self.try_push_vec(items)
    }
}

/// Takes out every item there is, in order.
pub(crate) fn take_all(queue: &impl Batch, out: &mut Vec<Item>) {
    while let Ok(n) = queue.pop_many(out, usize::MAX) {
        if n == 0 {
            break;
        }
    }
}

/// Shows every item of `queue` to `visit`, for the GC's traversal.
///
/// The core offers no way to look at its items in place, so this takes
/// them all out, visits them, and puts them back in the same order. That is
/// only right while the queue is at rest, as it is during a GC traversal
/// (see [`crate::blocking`]): nothing else moves items, so the items put
/// back are the queue's whole content and, on an open queue, always fit. A
/// closed queue can't take them back, so it must hold none; the callers
/// keep that true (see [`Store::visit_at_rest`]).
///
/// Every item is put back even if `visit` fails; the first failure is
/// returned.
pub(crate) fn visit_at_rest<E>(
    queue: &impl Batch,
    mut visit: impl FnMut(&Item) -> Result<(), E>,
) -> Result<(), E> {
    let mut items = Vec::new();
    take_all(queue, &mut items);
    if items.is_empty() {
        return Ok(());
    }
    let result = items.iter().try_for_each(&mut visit);
    // At rest, an open queue takes back exactly what it gave (see above).
    // Should that ever fail, the rest are leaked, which is safe, rather
    // than released here, where the GC forbids it.
    let _ = queue.push_vec(&mut items);
    debug_assert!(items.is_empty(), "a queue at rest takes back its items");
    items.into_iter().for_each(std::mem::forget);
    result
}

/// What the `rare` lock guards.
struct Rare {
    /// The items of a shut-down queue, in order.
    left: VecDeque<Item>,
    /// An empty ring larger than this is shrunk (see [`SHRINK_ABOVE`]).
    shrink_above: usize,
    /// The capacity of the ring the last shrink replaced; 0 if none.
    shrunk_from: usize,
    /// Replaced rings not freed yet (closed and empty).
    // Boxed: a detached peek may still hold a ring's address.
    #[allow(clippy::vec_box)]
    retired: Vec<Box<Ring>>,
}

/// The items of a `Queue` or `SimpleQueue`, its limit, and its shutdown.
pub(crate) struct Store {
    /// The ring the queue was made with. Boxed: the ring's cache-padded
    /// positions need more alignment than the Python object that holds the
    /// store has (16 bytes, from CPython's allocator).
    initial: Box<Ring>,
    /// The ring that serves the queue now, when it is not `initial`; null
    /// until the first move. Owned by the store; a replaced one goes to
    /// `retired`.
    current: AtomicPtr<Ring>,
    /// Whether a full ring is replaced by a larger one (an unbounded queue).
    grows: AtomicBool,
    /// A limit that puts check against the length, where the ring's own
    /// capacity is not the limit; 0 for none.
    soft_limit: AtomicUsize,
    /// `maxsize` as last assigned.
    maxsize: AtomicIsize,
    /// Set by `shutdown()`, before the ring is closed.
    shut_down: AtomicBool,
    /// Detached peeks in progress (see the module docs).
    peekers: AtomicUsize,
    rare: Mutex<Rare>,
}

impl Drop for Store {
    fn drop(&mut self) {
        let current = *self.current.get_mut();
        if !current.is_null() {
            // SAFETY: a non-null `current` came from `Box::into_raw` in
            // `replace_ring` and is owned by the store, which nothing can
            // reach any more.
            drop(unsafe { Box::from_raw(current) });
        }
    }
}

impl Store {
    /// `queue.Queue(maxsize)`'s storage: a ring of exactly `maxsize` slots,
    /// or a growing one when `maxsize <= 0`.
    pub(crate) fn with_maxsize(maxsize: isize) -> Result<Self, CapacityError> {
        let exact = usize::try_from(maxsize).ok().filter(|&m| m > 0);
        Ok(Self {
            initial: Box::new(Ring::new(exact.unwrap_or(FIRST_RING))?),
            current: AtomicPtr::new(ptr::null_mut()),
            grows: AtomicBool::new(exact.is_none()),
            soft_limit: AtomicUsize::new(0),
            maxsize: AtomicIsize::new(maxsize),
            shut_down: AtomicBool::new(false),
            peekers: AtomicUsize::new(0),
            rare: Mutex::new(Rare {
                left: VecDeque::new(),
                shrink_above: SHRINK_ABOVE,
                shrunk_from: 0,
                retired: Vec::new(),
            }),
        })
    }

    /// Storage for an unbounded queue.
    pub(crate) fn unbounded() -> Self {
        Self::with_maxsize(0).expect("a small ring can be allocated")
    }

    /// The ring that serves the queue now. Only attached threads use it
    /// this way; a detached one goes through [`Self::peek`].
    #[inline(always)]
    pub(crate) fn ring(&self) -> &Ring {
        // Acquire: pairs with the Release that publishes a new ring, so its
        // contents are visible.
        let current = self.current.load(Ordering::Acquire);
        if current.is_null() {
            &self.initial
        } else {
            // SAFETY: a non-null `current` points to a ring the store owns;
            // it is freed only after a move replaced it, and no attached
            // caller holds it across a move (see the module docs), or with
            // the store.
            unsafe { &*current }
        }
    }

    /// Runs `look` on the ring, for a thread that is detached: counted in
    /// `peekers`, so that the ring is not freed under it.
    fn peek<R>(&self, look: impl FnOnce(&Ring) -> R) -> R {
        // SeqCst: ordered with a move's SeqCst publish and `peekers` load
        // (a Dekker pair): either the move sees this peek and keeps the old
        // ring, or this peek sees the new ring.
        self.peekers.fetch_add(1, Ordering::SeqCst);
        let current = self.current.load(Ordering::SeqCst);
        let ring = if current.is_null() {
            &*self.initial
        } else {
            // SAFETY: counted in `peekers` before loading it, so the ring is
            // not freed until the count drops (see `free_retired`).
            unsafe { &*current }
        };
        let result = look(ring);
        // Release: our reads of the ring happen before a move that sees the
        // count drop frees it.
        self.peekers.fetch_sub(1, Ordering::Release);
        result
    }

    /// The soft limit, 0 when there is none.
    #[inline(always)]
    pub(crate) fn soft_limit(&self) -> usize {
        // Relaxed: a put that races an assignment may see either limit.
        self.soft_limit.load(Ordering::Relaxed)
    }

    pub(crate) fn maxsize(&self) -> isize {
        // Relaxed: a plain value, like the attribute it stands for.
        self.maxsize.load(Ordering::Relaxed)
    }

    fn grows(&self) -> bool {
        // Relaxed: changed only under the lock; a racing put sees either.
        self.grows.load(Ordering::Relaxed)
    }

    /// The limit a put must respect on `ring` now, or `None` when the
    /// queue is unbounded.
    fn limit(&self, ring: &Ring) -> Option<usize> {
        match self.soft_limit() {
            0 if self.grows() => None,
            0 => Some(ring.capacity()),
            limit => Some(limit),
        }
    }

    #[inline(always)]
    pub(crate) fn is_shut_down(&self) -> bool {
        // Acquire: pairs with the Release store in `shutdown`.
        self.shut_down.load(Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, Rare> {
        // Nothing under the lock can leave the items half moved (no code
        // there panics by design), so a poisoned lock is still consistent.
        self.rare
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The number of items. Takes the lock after shutdown, so only for
    /// attached callers.
    pub(crate) fn len(&self) -> usize {
        let in_ring = self.ring().len();
        if self.is_shut_down() {
            in_ring + self.lock().left.len()
        } else {
            in_ring
        }
    }

    /// Whether a put may find room now: a wait's peek, for a detached
    /// thread.
    pub(crate) fn may_have_room(&self) -> bool {
        self.is_shut_down()
            || self.peek(|ring| self.limit(ring).is_none_or(|limit| ring.len() < limit))
    }

    /// Whether a get may find an item now: a wait's peek, for a detached
    /// thread.
    pub(crate) fn may_have_item(&self) -> bool {
        self.is_shut_down() || self.peek(|ring| !ring.is_empty())
    }

    /// Whether `get` would find the queue shut down and drained.
    pub(crate) fn is_shut_down_and_empty(&self) -> bool {
        self.is_shut_down() && self.len() == 0
    }

    /// Sets `maxsize` (see the module docs).
    pub(crate) fn set_maxsize(&self, maxsize: isize) {
        let mut rare = self.lock();
        self.maxsize.store(maxsize, Ordering::Relaxed);
        let wanted = usize::try_from(maxsize).ok().filter(|&m| m > 0);
        let capacity = self.ring().capacity();
        if let Some(wanted) = wanted {
            if wanted > capacity && !self.is_shut_down() {
                self.replace_ring(&mut rare, wanted.max(capacity.saturating_mul(2)));
            }
        }
        let capacity = self.ring().capacity();
        // Relaxed (both): changed under the lock; see `soft_limit`.
        self.grows.store(wanted.is_none(), Ordering::Relaxed);
        let soft = match wanted {
            Some(wanted) if wanted != capacity => wanted,
            _ => 0,
        };
        self.soft_limit.store(soft, Ordering::Relaxed);
    }

    /// Moves every item, in order, to a new ring of `capacity` slots (or of
    /// as many as there are items, if more). Called with the lock held, on
    /// an open queue.
    fn replace_ring(&self, rare: &mut Rare, capacity: usize) {
        let old = self.ring();
        // From here on pushes to the old ring fail, and whoever gets
        // `Closed` waits on the lock until the new ring is published.
        old.close();
        let mut items = Vec::new();
        take_all(old, &mut items);
        let new = match Ring::new(capacity.max(items.len())) {
            Ok(ring) => ring,
            // Out of memory, or past what a ring can index: the process
            // can't go on keeping its promise of an unbounded queue.
            Err(err) => panic!("cannot grow the queue to {capacity} slots: {err}"),
        };
        // A new ring with room for all of them takes them all.
        let _ = new.try_push_vec(&mut items);
        debug_assert!(items.is_empty());
        let new = Box::into_raw(Box::new(new));
        // SeqCst: publishes the filled ring (Release), and is ordered with
        // the `peekers` load below (see `peek`).
        let old = self.current.swap(new, Ordering::SeqCst);
        if !old.is_null() {
            // SAFETY: `old` came from `Box::into_raw` here and was owned by
            // `current`, which no longer points to it.
            rare.retired.push(unsafe { Box::from_raw(old) });
        }
        self.free_retired(rare);
    }

    /// Frees the replaced rings if nothing can be using them (see the
    /// module docs). Called with the lock held.
    fn free_retired(&self, rare: &mut Rare) {
        // Only with the GIL can no attached operation be inside an old ring.
        #[cfg(not(Py_GIL_DISABLED))]
        {
            // SeqCst: see `peek`.
            if self.peekers.load(Ordering::SeqCst) == 0 {
                rare.retired.clear();
            }
        }
        #[cfg(Py_GIL_DISABLED)]
        let _ = rare;
    }

    /// After a push found the ring full: replaces an unbounded queue's
    /// ring by one twice as large (or by whatever another thread already
    /// replaced it with). Returns whether the push should try again.
    #[cold]
    fn grow(&self, full: &Ring) -> bool {
        let mut rare = self.lock();
        if !self.grows() || self.is_shut_down() {
            return false;
        }
        if ptr::eq(self.ring(), full) {
            let capacity = full.capacity().saturating_mul(2);
            if rare.shrunk_from != 0 && capacity >= rare.shrunk_from {
                // Back to the size the last shrink gave up: stop shrinking
                // rings of that size.
                rare.shrink_above = rare.shrink_above.max(capacity);
                rare.shrunk_from = 0;
            }
            self.replace_ring(&mut rare, capacity);
        }
        true
    }

    /// After a get found the ring empty: gives back a large ring's memory
    /// (see [`SHRINK_ABOVE`]).
    pub(crate) fn maybe_shrink(&self) {
        if cfg!(Py_GIL_DISABLED) || !self.grows() || self.ring().capacity() <= SHRINK_ABOVE {
            return;
        }
        let mut rare = self.lock();
        let ring = self.ring();
        if self.grows() && !self.is_shut_down() && ring.capacity() > SHRINK_ABOVE && ring.is_empty()
        {
            self.replace_ring(&mut rare, FIRST_RING);
        }
    }

    /// Shuts the queue down: later puts fail, and gets take what is left,
    /// or with `immediate`, nothing: those items are returned, for the
    /// caller to release after the lock is gone.
    pub(crate) fn shutdown(&self, immediate: bool) -> Vec<Item> {
        let mut rare = self.lock();
        // Release: pairs with `is_shut_down`'s Acquire.
        self.shut_down.store(true, Ordering::Release);
        let ring = self.ring();
        ring.close();
        let mut items = Vec::new();
        take_all(ring, &mut items);
        if immediate {
            let mut all: Vec<Item> = rare.left.drain(..).collect();
            all.append(&mut items);
            all
        } else {
            rare.left.extend(items);
            Vec::new()
        }
    }

    /// Pushes, or hands the item back: `Full` when there is no room, and
    /// `Closed` when the queue is shut down.
    pub(crate) fn try_push(&self, mut item: Item) -> Result<(), TryPushError<Item>> {
        loop {
            let ring = self.ring();
            let limit = self.soft_limit();
            if limit != 0 && ring.len() >= limit {
                return Err(TryPushError::Full(item));
            }
            match ring.try_push(item) {
                Err(TryPushError::Full(back)) if self.grow(ring) => item = back,
                Err(TryPushError::Closed(back)) if !self.closed_for_good() => item = back,
                result => return result,
            }
        }
    }

    /// Pops, or says why not.
    pub(crate) fn try_pop(&self) -> Result<Item, TryPopError> {
        loop {
            match self.ring().try_pop() {
                Err(TryPopError::Closed) if !self.closed_for_good() => {}
                Err(TryPopError::Closed) => {
                    return self.lock().left.pop_front().ok_or(TryPopError::Closed);
                }
                result => return result,
            }
        }
    }

    /// Pops up to `max` items into `out`; `Ok(0)` when empty.
    pub(crate) fn try_pop_many(&self, out: &mut Vec<Item>, max: usize) -> Result<usize, Closed> {
        loop {
            match self.ring().try_pop_many(out, max) {
                Err(Closed) if !self.closed_for_good() => {}
                Err(Closed) => {
                    let mut rare = self.lock();
                    let n = rare.left.len().min(max);
                    if n == 0 {
                        return Err(Closed);
                    }
                    out.extend(rare.left.drain(..n));
                    return Ok(n);
                }
                result => return result,
            }
        }
    }

    /// Pushes as many of `items` as fit (from the front), within the soft
    /// limit; `Ok(0)` when full.
    pub(crate) fn try_push_vec(&self, items: &mut Vec<Item>) -> Result<usize, Closed> {
        let mut pushed = 0;
        loop {
            let ring = self.ring();
            let limit = self.soft_limit();
            let result = if limit == 0 {
                ring.try_push_vec(items)
            } else {
                // Only the items within the limit are offered.
                let room = limit.saturating_sub(ring.len()).min(items.len());
                let mut batch: Vec<Item> = items.drain(..room).collect();
                let result = ring.try_push_vec(&mut batch);
                // Whatever did not go in goes back to the front, in order.
                items.splice(0..0, batch);
                result
            };
            match result {
                Ok(n) => {
                    pushed += n;
                    if items.is_empty() || limit != 0 || !self.grow(ring) {
                        return Ok(pushed);
                    }
                }
                Err(Closed) if !self.closed_for_good() => {}
                Err(Closed) if pushed > 0 => return Ok(pushed),
                Err(Closed) => return Err(Closed),
            }
        }
    }

    /// After a ring call said `Closed`: whether the queue is shut down
    /// (`true`), or the ring was just replaced and the call should retry.
    /// Taking the lock waits for a move in progress to finish.
    fn closed_for_good(&self) -> bool {
        drop(self.lock());
        self.is_shut_down()
    }

    /// Takes every item out, for `tp_clear`; the caller releases them.
    pub(crate) fn take_all(&self) -> Vec<Item> {
        let mut items: Vec<Item> = self.lock().left.drain(..).collect();
        take_all(self.ring(), &mut items);
        items
    }

    /// Shows every item to `visit`, for the GC. The queue must be at rest
    /// (see [`visit_at_rest`]).
    pub(crate) fn visit_at_rest<E>(
        &self,
        mut visit: impl FnMut(&Item) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.is_shut_down() {
            // Shutdown moved every item into `left` and closed the ring,
            // which has taken none since.
            self.lock().left.iter().try_for_each(&mut visit)
        } else {
            // Replaced rings are closed and empty.
            visit_at_rest(self.ring(), visit)
        }
    }
}
