//! `ringq_spsc`: the bounded single-producer single-consumer queue.
//!
//! The core splits this queue into a `Producer` and a `Consumer`, each usable
//! by one thread. C has no such types, so one handle owns both halves and the
//! header states the rule instead: at most one thread pushes and at most one
//! thread pops at a time (the `ck_ring` SPSC contract).

use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::time::Instant;

use crossbeam_utils::CachePadded;
use ringq_core::spsc::{self, Consumer, Producer};

use crate::ffi::Item;
use crate::ops::{self, Queue};
use crate::result::ringq_result;

/// A bounded single-producer single-consumer FIFO queue of `void *` items:
/// the fastest queue when exactly one thread pushes and one thread pops.
///
/// Opaque: create it with `ringq_spsc_new`, destroy it with `ringq_spsc_free`.
/// At most one thread at a time may push and at most one thread at a time may
/// pop (they may be different threads, running concurrently); `close`,
/// `is_closed`, `len`, `capacity` and `waiting` may be called from any
/// thread. Which
/// thread is the producer may change over time, provided the hand-over is
/// synchronised (a mutex, a thread join, ...); the same goes for the consumer.
pub struct ringq_spsc {
    /// Used only by push functions; see the `Sync` impl for why that is sound.
    /// Each half keeps indices it writes on every call, so the two sit on
    /// separate cache lines: sharing one would make the producer and consumer
    /// threads fight over it.
    producer: CachePadded<UnsafeCell<Producer<Item>>>,
    /// Used only by pop functions; see the `Sync` impl for why that is sound.
    consumer: CachePadded<UnsafeCell<Consumer<Item>>>,
}

// SAFETY: C shares one handle between threads, so `&ringq_spsc` is used from
// several threads at once. `Producer` and `Consumer` are `Send` but not
// `Sync`: each must be used by one thread at a time. Every push function
// reaches only `producer` and every pop function only `consumer`, and the
// documented contract of this type (restated in each push and pop function's
// `# Safety` section) is that at most one thread at a time is inside the push
// functions and at most one inside the pop functions; any change of producer
// or consumer thread is synchronised by the caller, which orders the accesses.
// So each half is only ever used by one thread at a time, which is exactly
// what `Send` permits. `close`, `is_closed`, `len`, `capacity` and `waiting`,
// callable from any thread, go through `shared()`, whose own SAFETY comment
// covers them.
unsafe impl Sync for ringq_spsc {}

impl ringq_spsc {
    /// The producer half. Only push functions may call this.
    fn producer(&self) -> &Producer<Item> {
        // SAFETY: the cell is never borrowed mutably, and only push functions
        // call this, which the C contract limits to one thread at a time (see
        // the `Sync` impl).
        unsafe { &*self.producer.get() }
    }

    /// The consumer half. Only pop functions may call this.
    fn consumer(&self) -> &Consumer<Item> {
        // SAFETY: the cell is never borrowed mutably, and only pop functions
        // call this, which the C contract limits to one thread at a time (see
        // the `Sync` impl).
        unsafe { &*self.consumer.get() }
    }

    /// The producer half, for the operations any thread may call: `close`,
    /// `is_closed`, `len`, `capacity` and `waiting`.
    fn shared(&self) -> &Producer<Item> {
        // SAFETY: the cell is never borrowed mutably. These operations of
        // the core's `Producer` only read or update the state shared by both
        // halves through atomics (and wake waiters through the shared wait
        // queues); they never touch the producer's thread-local cached indices,
        // so running them concurrently with a push on another thread is no
        // data race.
        unsafe { &*self.producer.get() }
    }
}

impl Queue for ringq_spsc {
    #[inline(always)]
    fn try_push(&self, item: Item) -> Result<(), ringq_result> {
        Ok(self.producer().try_push(item)?)
    }
    fn push(&self, item: Item) -> Result<(), ringq_result> {
        Ok(self.producer().push(item)?)
    }
    fn push_deadline(&self, item: Item, deadline: Instant) -> Result<(), ringq_result> {
        Ok(self.producer().push_deadline(item, deadline)?)
    }
    #[inline(always)]
    fn try_pop(&self) -> Result<Item, ringq_result> {
        Ok(self.consumer().try_pop()?)
    }
    fn pop(&self) -> Result<Item, ringq_result> {
        Ok(self.consumer().pop()?)
    }
    fn pop_deadline(&self, deadline: Instant) -> Result<Item, ringq_result> {
        Ok(self.consumer().pop_deadline(deadline)?)
    }
    fn try_push_slice(&self, items: &[Item]) -> Result<usize, ringq_result> {
        Ok(self.producer().try_push_slice(items)?)
    }
    fn try_pop_into(&self, slots: &mut [MaybeUninit<Item>]) -> Result<usize, ringq_result> {
        Ok(self.consumer().try_pop_into(slots)?)
    }
    fn close(&self) {
        // Both halves close the same shared flag; which half is used makes no
        // difference, which thread calls makes one (see `ringq_spsc_close`).
        self.shared().close();
    }
    fn is_closed(&self) -> bool {
        self.shared().is_closed()
    }
    fn len(&self) -> usize {
        self.shared().len()
    }
    fn capacity(&self) -> usize {
        self.shared().capacity()
    }
    fn waiting(&self) -> (usize, usize) {
        (
            self.shared().waiting_poppers(),
            self.shared().waiting_pushers(),
        )
    }
}

/// Creates a queue that holds up to `capacity` items and stores its handle in
/// `*out` (NULL on failure).
///
/// Returns `RINGQ_OK`, `RINGQ_ERR_INVALID_ARGUMENT` when `out` is NULL or
/// `capacity` is 0, `RINGQ_ERR_OUT_OF_MEMORY` when the buffer cannot be
/// allocated or `capacity` is too large.
///
/// Ownership: the caller owns the new handle, which owns both ends of the
/// queue, and must release it with `ringq_spsc_free`.
///
/// Threads: any thread.
///
/// # Safety
///
/// `out` must be NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_new(
    capacity: usize,
    out: *mut *mut ringq_spsc,
) -> ringq_result {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        ops::new(out, || {
            let (producer, consumer) = spsc::channel(capacity)?;
            Ok(ringq_spsc {
                producer: CachePadded::new(UnsafeCell::new(producer)),
                consumer: CachePadded::new(UnsafeCell::new(consumer)),
            })
        })
    }
}

/// Destroys a queue. NULL is ignored.
///
/// Items still in the queue are forgotten, not freed: they are plain pointers
/// the queue never owned. Drain the queue first if they need releasing.
///
/// Ownership: takes back the handle; it must not be used again.
///
/// Threads: any one thread, once no other thread is using the queue or blocked
/// in it (close it and join the threads first).
///
/// # Safety
///
/// `queue` must be NULL or a handle from `ringq_spsc_new` that has not been
/// freed, and no other thread may use it during or after the call.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_free(queue: *mut ringq_spsc) {
    // SAFETY: forwarded from this function's contract.
    unsafe { ops::free(queue) }
}

/// Appends `item` if there is room, without waiting.
///
/// Returns `RINGQ_OK`, `RINGQ_ERR_FULL` when there is no room,
/// `RINGQ_ERR_CLOSED` when the queue is closed, `RINGQ_ERR_INVALID_ARGUMENT`
/// when `queue` is NULL.
///
/// Ownership: the queue stores the pointer value and never dereferences it; on
/// success the item belongs to whoever pops it, on failure the caller keeps it.
///
/// Threads: the producer side: at most one thread at a time may be inside the
/// push functions (`try_push`, `push`, `push_timeout`, `try_push_many`) of one
/// queue; it may run concurrently with the consumer and with `close`,
/// `is_closed`, `len`, `capacity` and `waiting` on any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_spsc_new` that has not
/// been freed, and no other thread may be inside a push function of the same
/// queue.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_try_push(
    queue: *mut ringq_spsc,
    item: *mut c_void,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::try_push(queue, item) }
}

/// Pushes `item`, waiting (spinning briefly, then sleeping) while the queue is
/// full.
///
/// Returns `RINGQ_OK`, `RINGQ_ERR_CLOSED` when the queue is or becomes closed
/// before there is room, `RINGQ_ERR_INVALID_ARGUMENT` when `queue` is NULL.
///
/// Ownership: the queue stores the pointer value and never dereferences it; on
/// success the item belongs to whoever pops it, on failure the caller keeps it.
///
/// Threads: the producer side: at most one thread at a time may be inside the
/// push functions (`try_push`, `push`, `push_timeout`, `try_push_many`) of one
/// queue; it may run concurrently with the consumer and with `close`,
/// `is_closed`, `len`, `capacity` and `waiting` on any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_spsc_new` that has not
/// been freed, and no other thread may be inside a push function of the same
/// queue.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_push(
    queue: *mut ringq_spsc,
    item: *mut c_void,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::push(queue, item) }
}

/// Pushes `item`, waiting at most `timeout_ns` nanoseconds for room.
///
/// A timeout of 0 tries once, like `ringq_spsc_try_push` but reporting
/// `RINGQ_ERR_TIMED_OUT` instead of `RINGQ_ERR_FULL`. A timeout too large to
/// represent as a deadline (hundreds of years) waits without a limit.
///
/// Returns `RINGQ_OK`, `RINGQ_ERR_TIMED_OUT`, `RINGQ_ERR_CLOSED` when the
/// queue is or becomes closed first, `RINGQ_ERR_INVALID_ARGUMENT` when `queue`
/// is NULL.
///
/// Ownership: the queue stores the pointer value and never dereferences it; on
/// success the item belongs to whoever pops it, on failure the caller keeps it.
///
/// Threads: the producer side: at most one thread at a time may be inside the
/// push functions (`try_push`, `push`, `push_timeout`, `try_push_many`) of one
/// queue; it may run concurrently with the consumer and with `close`,
/// `is_closed`, `len`, `capacity` and `waiting` on any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_spsc_new` that has not
/// been freed, and no other thread may be inside a push function of the same
/// queue.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_push_timeout(
    queue: *mut ringq_spsc,
    item: *mut c_void,
    timeout_ns: u64,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::push_timeout(queue, item, timeout_ns) }
}

/// Pushes the longest prefix of `items[0..count]` that fits, without waiting,
/// and stores how many went in in `*pushed` (0 on any error). The prefix is
/// claimed in one atomic step, so its items stay together and in order.
///
/// Returns `RINGQ_OK` when at least one item went in (or `count` is 0),
/// `RINGQ_ERR_FULL` when none fit, `RINGQ_ERR_CLOSED` when the queue is closed
/// (then nothing went in), `RINGQ_ERR_INVALID_ARGUMENT` for a NULL `queue` or
/// `pushed`, or a NULL `items` with a non-zero `count`.
///
/// Ownership: the array stays the caller's and is only read; the first
/// `*pushed` items now belong to whoever pops them, the rest stay the caller's.
///
/// Threads: the producer side: at most one thread at a time may be inside the
/// push functions (`try_push`, `push`, `push_timeout`, `try_push_many`) of one
/// queue; it may run concurrently with the consumer and with `close`,
/// `is_closed`, `len`, `capacity` and `waiting` on any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_spsc_new` that has not
/// been freed, and no other thread may be inside a push function of the same
/// queue; `items` must be NULL or point to `count` readable pointers (anything
/// when `count` is 0); `pushed` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_try_push_many(
    queue: *mut ringq_spsc,
    items: *const *mut c_void,
    count: usize,
    pushed: *mut usize,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::try_push_many(queue, items, count, pushed) }
}

/// Removes the oldest item, without waiting, and stores it in `*out`.
///
/// Returns `RINGQ_OK`, `RINGQ_ERR_EMPTY` when there is nothing to pop,
/// `RINGQ_ERR_CLOSED` when the queue is closed and empty,
/// `RINGQ_ERR_INVALID_ARGUMENT` when `queue` or `out` is NULL.
///
/// Ownership: on `RINGQ_OK` the popped item now belongs to the caller; `*out`
/// is written only on `RINGQ_OK`.
///
/// Threads: the consumer side: at most one thread at a time may be inside the
/// pop functions (`try_pop`, `pop`, `pop_timeout`, `try_pop_many`) of one
/// queue; it may run concurrently with the producer and with `close`,
/// `is_closed`, `len`, `capacity` and `waiting` on any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_spsc_new` that has not
/// been freed, and no other thread may be inside a pop function of the same
/// queue; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_try_pop(
    queue: *mut ringq_spsc,
    out: *mut *mut c_void,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::try_pop(queue, out) }
}

/// Removes the oldest item and stores it in `*out`, waiting (spinning
/// briefly, then sleeping) while the queue is empty.
///
/// Returns `RINGQ_OK`, `RINGQ_ERR_CLOSED` once the queue is closed and every
/// item pushed before the close has been popped, `RINGQ_ERR_INVALID_ARGUMENT`
/// when `queue` or `out` is NULL.
///
/// Ownership: on `RINGQ_OK` the popped item now belongs to the caller; `*out`
/// is written only on `RINGQ_OK`.
///
/// Threads: the consumer side: at most one thread at a time may be inside the
/// pop functions (`try_pop`, `pop`, `pop_timeout`, `try_pop_many`) of one
/// queue; it may run concurrently with the producer and with `close`,
/// `is_closed`, `len`, `capacity` and `waiting` on any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_spsc_new` that has not
/// been freed, and no other thread may be inside a pop function of the same
/// queue; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_pop(
    queue: *mut ringq_spsc,
    out: *mut *mut c_void,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::pop(queue, out) }
}

/// Removes the oldest item and stores it in `*out`, waiting at most
/// `timeout_ns` nanoseconds for one.
///
/// A timeout of 0 tries once, like `ringq_spsc_try_pop` but reporting
/// `RINGQ_ERR_TIMED_OUT` instead of `RINGQ_ERR_EMPTY`. A timeout too large to
/// represent as a deadline (hundreds of years) waits without a limit.
///
/// Returns `RINGQ_OK`, `RINGQ_ERR_TIMED_OUT`, `RINGQ_ERR_CLOSED` once the
/// queue is closed and drained, `RINGQ_ERR_INVALID_ARGUMENT` when `queue` or
/// `out` is NULL.
///
/// Ownership: on `RINGQ_OK` the popped item now belongs to the caller; `*out`
/// is written only on `RINGQ_OK`.
///
/// Threads: the consumer side: at most one thread at a time may be inside the
/// pop functions (`try_pop`, `pop`, `pop_timeout`, `try_pop_many`) of one
/// queue; it may run concurrently with the producer and with `close`,
/// `is_closed`, `len`, `capacity` and `waiting` on any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_spsc_new` that has not
/// been freed, and no other thread may be inside a pop function of the same
/// queue; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_pop_timeout(
    queue: *mut ringq_spsc,
    out: *mut *mut c_void,
    timeout_ns: u64,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::pop_timeout(queue, out, timeout_ns) }
}

/// Removes up to `max` of the oldest items, without waiting, into
/// `out[0..*popped]`, and stores how many in `*popped` (0 on any error). The
/// items are claimed in one atomic step and come out in queue order.
///
/// Returns `RINGQ_OK` when at least one item was popped (or `max` is 0),
/// `RINGQ_ERR_EMPTY` when there was nothing to pop, `RINGQ_ERR_CLOSED` when
/// the queue is closed and drained, `RINGQ_ERR_INVALID_ARGUMENT` for a NULL
/// `queue` or `popped`, or a NULL `out` with a non-zero `max`.
///
/// Ownership: `out` stays the caller's; the popped items now belong to the
/// caller. Elements of `out` past `*popped` are left as they were.
///
/// Threads: the consumer side: at most one thread at a time may be inside the
/// pop functions (`try_pop`, `pop`, `pop_timeout`, `try_pop_many`) of one
/// queue; it may run concurrently with the producer and with `close`,
/// `is_closed`, `len`, `capacity` and `waiting` on any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_spsc_new` that has not
/// been freed, and no other thread may be inside a pop function of the same
/// queue; `out` must be NULL or point to `max` writable pointers (anything when
/// `max` is 0); `popped` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_try_pop_many(
    queue: *mut ringq_spsc,
    out: *mut *mut c_void,
    max: usize,
    popped: *mut usize,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::try_pop_many(queue, out, max, popped) }
}

/// Closes the queue: every later push fails with `RINGQ_ERR_CLOSED`, pops
/// return what is left and then `RINGQ_ERR_CLOSED`, and every thread blocked
/// in a push or pop wakes up. Closing a closed queue does nothing.
///
/// A close called by the producer thread (after its last push) is exact. A
/// close from any other thread races with a push already under way: that push
/// may still succeed, and its item is then returned by a later pop or, if the
/// consumer had already seen the queue closed and empty, stays in the queue
/// until `ringq_spsc_free` forgets it. Close from the producer thread when
/// every item must be accounted for.
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` when `queue` is NULL.
///
/// Ownership: nothing changes hands; the handle must still be freed.
///
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_spsc_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_spsc_new` that has not
/// been freed.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_close(queue: *mut ringq_spsc) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::close(queue) }
}

/// Stores in `*out` whether the queue has been closed.
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` when `queue` or `out`
/// is NULL.
///
/// Ownership: the queue stays the caller's; `*out` is written only on
/// `RINGQ_OK`.
///
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_spsc_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_spsc_new` that has not
/// been freed; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_is_closed(
    queue: *const ringq_spsc,
    out: *mut bool,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::is_closed(queue, out) }
}

/// Stores in `*out` the number of items in the queue. With other threads
/// pushing or popping, the value may be stale by the time it is read.
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` when `queue` or `out`
/// is NULL.
///
/// Ownership: the queue stays the caller's; `*out` is written only on
/// `RINGQ_OK`.
///
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_spsc_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_spsc_new` that has not
/// been freed; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_len(queue: *const ringq_spsc, out: *mut usize) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::len(queue, out) }
}

/// Stores in `*out` the capacity given to `ringq_spsc_new` (exact, not
/// rounded).
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` when `queue` or `out`
/// is NULL.
///
/// Ownership: the queue stays the caller's; `*out` is written only on
/// `RINGQ_OK`.
///
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_spsc_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_spsc_new` that has not
/// been freed; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_capacity(
    queue: *const ringq_spsc,
    out: *mut usize,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::capacity(queue, out) }
}

/// Stores in `*poppers` how many threads are blocked in a pop of this queue,
/// and in `*pushers` how many are blocked in a push: past spinning and
/// registered to sleep until woken. Each count is 0 or 1: one thread at a time pushes, one pops.
///
/// A thread counts from the moment it stops spinning until its wait ends,
/// so a count above zero means the next push (for poppers), pop (for pushers)
/// or close goes through the wake-up path. The counts are snapshots, for
/// diagnostics and tests: a test can wait for a count to reach 1 to be sure
/// that a thread is really blocked before it wakes it.
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` when `queue`,
/// `poppers` or `pushers` is NULL.
///
/// Ownership: nothing changes hands.
///
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_spsc_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_spsc_new` that has not
/// been freed; `poppers` and `pushers` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_spsc_waiting(
    queue: *const ringq_spsc,
    poppers: *mut usize,
    pushers: *mut usize,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::waiting(queue, poppers, pushers) }
}
