//! `ringq_bounded`: the bounded multi-producer multi-consumer queue.

use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::time::Instant;

use ringq_core::BoundedQueue;

use crate::ffi::Item;
use crate::ops::{self, Queue};
use crate::result::ringq_result;

/// A bounded multi-producer multi-consumer FIFO queue of `void *` items.
///
/// Opaque: create it with `ringq_bounded_new`, destroy it with
/// `ringq_bounded_free`. Any number of threads may push and pop at the same
/// time; each producer's items come out in the order it pushed them.
pub struct ringq_bounded {
    queue: BoundedQueue<Item>,
}

impl Queue for ringq_bounded {
    #[inline(always)]
    fn try_push(&self, item: Item) -> Result<(), ringq_result> {
        Ok(self.queue.try_push(item)?)
    }
    fn push(&self, item: Item) -> Result<(), ringq_result> {
        Ok(self.queue.push(item)?)
    }
    fn push_deadline(&self, item: Item, deadline: Instant) -> Result<(), ringq_result> {
        Ok(self.queue.push_deadline(item, deadline)?)
    }
    #[inline(always)]
    fn try_pop(&self) -> Result<Item, ringq_result> {
        Ok(self.queue.try_pop()?)
    }
    fn pop(&self) -> Result<Item, ringq_result> {
        Ok(self.queue.pop()?)
    }
    fn pop_deadline(&self, deadline: Instant) -> Result<Item, ringq_result> {
        Ok(self.queue.pop_deadline(deadline)?)
    }
    fn try_push_slice(&self, items: &[Item]) -> Result<usize, ringq_result> {
        Ok(self.queue.try_push_slice(items)?)
    }
    fn try_pop_into(&self, slots: &mut [MaybeUninit<Item>]) -> Result<usize, ringq_result> {
        Ok(self.queue.try_pop_into(slots)?)
    }
    fn close(&self) {
        self.queue.close();
    }
    fn is_closed(&self) -> bool {
        self.queue.is_closed()
    }
    fn len(&self) -> usize {
        self.queue.len()
    }
    fn capacity(&self) -> usize {
        self.queue.capacity()
    }
    fn waiting(&self) -> (usize, usize) {
        (self.queue.waiting_poppers(), self.queue.waiting_pushers())
    }
}

/// Creates a queue that holds up to `capacity` items and stores its handle in
/// `*out` (NULL on failure).
///
/// Returns `RINGQ_OK`, `RINGQ_ERR_INVALID_ARGUMENT` when `out` is NULL or
/// `capacity` is 0, `RINGQ_ERR_OUT_OF_MEMORY` when the buffer cannot be
/// allocated or `capacity` is too large.
///
/// Ownership: the caller owns the new handle and must release it with
/// `ringq_bounded_free`.
///
/// Threads: any thread.
///
/// # Safety
///
/// `out` must be NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_new(
    capacity: usize,
    out: *mut *mut ringq_bounded,
) -> ringq_result {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        ops::new(out, || {
            Ok(ringq_bounded {
                queue: BoundedQueue::new(capacity)?,
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
/// `queue` must be NULL or a handle from `ringq_bounded_new` that has not been
/// freed, and no other thread may use it during or after the call.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_free(queue: *mut ringq_bounded) {
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
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_bounded_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_bounded_new` that has not
/// been freed.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_try_push(
    queue: *mut ringq_bounded,
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
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_bounded_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_bounded_new` that has not
/// been freed.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_push(
    queue: *mut ringq_bounded,
    item: *mut c_void,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::push(queue, item) }
}

/// Pushes `item`, waiting at most `timeout_ns` nanoseconds for room.
///
/// A timeout of 0 tries once, like `ringq_bounded_try_push` but reporting
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
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_bounded_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_bounded_new` that has not
/// been freed.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_push_timeout(
    queue: *mut ringq_bounded,
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
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_bounded_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_bounded_new` that has not
/// been freed; `items` must be NULL or point to `count` readable pointers
/// (anything when `count` is 0); `pushed` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_try_push_many(
    queue: *mut ringq_bounded,
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
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_bounded_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_bounded_new` that has not
/// been freed; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_try_pop(
    queue: *mut ringq_bounded,
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
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_bounded_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_bounded_new` that has not
/// been freed; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_pop(
    queue: *mut ringq_bounded,
    out: *mut *mut c_void,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::pop(queue, out) }
}

/// Removes the oldest item and stores it in `*out`, waiting at most
/// `timeout_ns` nanoseconds for one.
///
/// A timeout of 0 tries once, like `ringq_bounded_try_pop` but reporting
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
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_bounded_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_bounded_new` that has not
/// been freed; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_pop_timeout(
    queue: *mut ringq_bounded,
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
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_bounded_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_bounded_new` that has not
/// been freed; `out` must be NULL or point to `max` writable pointers (anything
/// when `max` is 0); `popped` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_try_pop_many(
    queue: *mut ringq_bounded,
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
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` when `queue` is NULL.
///
/// Ownership: nothing changes hands; the handle must still be freed.
///
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_bounded_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_bounded_new` that has not
/// been freed.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_close(queue: *mut ringq_bounded) -> ringq_result {
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
/// except `ringq_bounded_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_bounded_new` that has not
/// been freed; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_is_closed(
    queue: *const ringq_bounded,
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
/// except `ringq_bounded_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_bounded_new` that has not
/// been freed; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_len(
    queue: *const ringq_bounded,
    out: *mut usize,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::len(queue, out) }
}

/// Stores in `*out` the capacity given to `ringq_bounded_new` (exact, not
/// rounded).
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` when `queue` or `out`
/// is NULL.
///
/// Ownership: the queue stays the caller's; `*out` is written only on
/// `RINGQ_OK`.
///
/// Threads: any thread, concurrently with any other call on the same queue
/// except `ringq_bounded_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_bounded_new` that has not
/// been freed; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_capacity(
    queue: *const ringq_bounded,
    out: *mut usize,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::capacity(queue, out) }
}

/// Stores in `*poppers` how many threads are blocked in a pop of this queue,
/// and in `*pushers` how many are blocked in a push: past spinning and
/// registered to sleep until woken.
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
/// except `ringq_bounded_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle from `ringq_bounded_new` that has not
/// been freed; `poppers` and `pushers` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_bounded_waiting(
    queue: *const ringq_bounded,
    poppers: *mut usize,
    pushers: *mut usize,
) -> ringq_result {
    // SAFETY: the caller upholds this function's `# Safety` contract, which
    // is the one `ops` requires.
    unsafe { ops::waiting(queue, poppers, pushers) }
}
