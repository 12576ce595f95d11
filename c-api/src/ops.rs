//! The checked body of every queue operation, written once for all three
//! handle types: NULL checks, the panic guard, timeout conversion and the
//! writing of out parameters. The per-queue modules only add the exported
//! symbols and their documentation.
//!
//! The non-blocking single-item operations are `#[inline(always)]`, as are
//! the handles' `Queue` methods behind them, so that each exported function
//! is one call from C into the core's code rather than three nested ones:
//! the difference is a large share of a push or pop that costs ~10 ns.
//!
//! The blocking operations try the non-blocking one first and keep `errno`
//! (see `errno.rs`) only on the path that may sleep, so a push or pop that
//! finds room or an item costs what its `try_` form costs.

use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::time::Instant;

use crate::errno::preserving_errno;
use crate::ffi::{arg_item_slots, arg_items, arg_out, arg_ref, deadline_after, ffi_guard, Item};
use crate::result::ringq_result::{self, RINGQ_ERR_EMPTY, RINGQ_ERR_FULL};

/// What a C handle offers; each queue module maps it onto the core queue.
pub(crate) trait Queue {
    fn try_push(&self, item: Item) -> Result<(), ringq_result>;
    fn push(&self, item: Item) -> Result<(), ringq_result>;
    fn push_deadline(&self, item: Item, deadline: Instant) -> Result<(), ringq_result>;
    fn try_pop(&self) -> Result<Item, ringq_result>;
    fn pop(&self) -> Result<Item, ringq_result>;
    fn pop_deadline(&self, deadline: Instant) -> Result<Item, ringq_result>;
    /// Pushes the longest prefix that fits; `Ok(0)` when full.
    fn try_push_slice(&self, items: &[Item]) -> Result<usize, ringq_result>;
    /// Pops into the front of `slots`; `Ok(0)` when empty and not closed.
    fn try_pop_into(&self, slots: &mut [MaybeUninit<Item>]) -> Result<usize, ringq_result>;
    fn close(&self);
    fn is_closed(&self) -> bool;
    fn len(&self) -> usize;
    /// `usize::MAX` for a queue without a bound.
    fn capacity(&self) -> usize;
    /// Threads registered to park in a pop, and in a push (snapshots).
    fn waiting(&self) -> (usize, usize);
}

/// Moves a new handle to the heap and stores it in `*out`, or stores NULL and
/// returns the error.
///
/// # Safety
///
/// `out` must be NULL or valid for writing one pointer.
pub(crate) unsafe fn new<Q>(
    out: *mut *mut Q,
    make: impl FnOnce() -> Result<Q, ringq_result>,
) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let out = unsafe { arg_out(out) }?;
        out.write(std::ptr::null_mut());
        // Allocating and probing the kernel's barriers may set errno.
        let handle = preserving_errno(make)?;
        out.write(Box::into_raw(Box::new(handle)));
        Ok(())
    })
}

/// Drops a handle made by [`new`]; NULL is ignored.
///
/// # Safety
///
/// `q` must be NULL or a handle from [`new`] for the same `Q`, not yet
/// freed, that no other thread uses any more.
pub(crate) unsafe fn free<Q>(q: *mut Q) {
    if q.is_null() {
        return;
    }
    // Dropping a queue of plain pointers cannot panic short of a bug; if one
    // does, leaking the handle is the only safe thing left to do.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        preserving_errno(|| {
            // SAFETY: the caller hands back a live handle from
            // `Box::into_raw` that nobody else uses, so we own it again.
            drop(unsafe { Box::from_raw(q) });
        })
    }));
}

/// # Safety
///
/// `q` must be NULL or a live handle; the queue's thread rules apply.
#[inline(always)]
pub(crate) unsafe fn try_push<Q: Queue>(q: *const Q, item: *mut c_void) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let q = unsafe { arg_ref(q) }?;
        q.try_push(Item(item))
    })
}

/// # Safety
///
/// `q` must be NULL or a live handle; the queue's thread rules apply.
pub(crate) unsafe fn push<Q: Queue>(q: *const Q, item: *mut c_void) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let q = unsafe { arg_ref(q) }?;
        let item = Item(item);
        match q.try_push(item) {
            Err(RINGQ_ERR_FULL) => preserving_errno(|| q.push(item)),
            done => done,
        }
    })
}

/// # Safety
///
/// `q` must be NULL or a live handle; the queue's thread rules apply.
pub(crate) unsafe fn push_timeout<Q: Queue>(
    q: *const Q,
    item: *mut c_void,
    timeout_ns: u64,
) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let q = unsafe { arg_ref(q) }?;
        let item = Item(item);
        match q.try_push(item) {
            Err(RINGQ_ERR_FULL) => preserving_errno(|| match deadline_after(timeout_ns) {
                Some(deadline) => q.push_deadline(item, deadline),
                None => q.push(item),
            }),
            done => done,
        }
    })
}

/// # Safety
///
/// `q` must be NULL or a live handle; `out` NULL or valid for writing one
/// pointer; the queue's thread rules apply.
#[inline(always)]
pub(crate) unsafe fn try_pop<Q: Queue>(q: *const Q, out: *mut *mut c_void) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, out) = unsafe { (arg_ref(q)?, arg_out(out)?) };
        out.write(q.try_pop()?.0);
        Ok(())
    })
}

/// # Safety
///
/// `q` must be NULL or a live handle; `out` NULL or valid for writing one
/// pointer; the queue's thread rules apply.
pub(crate) unsafe fn pop<Q: Queue>(q: *const Q, out: *mut *mut c_void) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, out) = unsafe { (arg_ref(q)?, arg_out(out)?) };
        let item = match q.try_pop() {
            Err(RINGQ_ERR_EMPTY) => preserving_errno(|| q.pop())?,
            popped => popped?,
        };
        out.write(item.0);
        Ok(())
    })
}

/// # Safety
///
/// `q` must be NULL or a live handle; `out` NULL or valid for writing one
/// pointer; the queue's thread rules apply.
pub(crate) unsafe fn pop_timeout<Q: Queue>(
    q: *const Q,
    out: *mut *mut c_void,
    timeout_ns: u64,
) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, out) = unsafe { (arg_ref(q)?, arg_out(out)?) };
        let item = match q.try_pop() {
            Err(RINGQ_ERR_EMPTY) => preserving_errno(|| match deadline_after(timeout_ns) {
                Some(deadline) => q.pop_deadline(deadline),
                None => q.pop(),
            })?,
            popped => popped?,
        };
        out.write(item.0);
        Ok(())
    })
}

/// # Safety
///
/// `q` must be NULL or a live handle; `items` NULL or `count` readable
/// pointers (anything when `count` is 0); `pushed` NULL or valid for writing
/// one `size_t`; the queue's thread rules apply.
pub(crate) unsafe fn try_push_many<Q: Queue>(
    q: *const Q,
    items: *const *mut c_void,
    count: usize,
    pushed: *mut usize,
) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, items, pushed) =
            unsafe { (arg_ref(q)?, arg_items(items, count)?, arg_out(pushed)?) };
        pushed.write(0);
        let n = q.try_push_slice(items)?;
        pushed.write(n);
        if n == 0 && count > 0 {
            return Err(RINGQ_ERR_FULL);
        }
        Ok(())
    })
}

/// # Safety
///
/// `q` must be NULL or a live handle; `out` NULL or valid for writing `max`
/// pointers (anything when `max` is 0); `popped` NULL or valid for writing
/// one `size_t`; the queue's thread rules apply.
pub(crate) unsafe fn try_pop_many<Q: Queue>(
    q: *const Q,
    out: *mut *mut c_void,
    max: usize,
    popped: *mut usize,
) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, slots, popped) =
            unsafe { (arg_ref(q)?, arg_item_slots(out, max)?, arg_out(popped)?) };
        popped.write(0);
        let n = q.try_pop_into(slots)?;
        popped.write(n);
        if n == 0 && max > 0 {
            return Err(RINGQ_ERR_EMPTY);
        }
        Ok(())
    })
}

/// # Safety
///
/// `q` must be NULL or a live handle.
pub(crate) unsafe fn close<Q: Queue>(q: *const Q) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let q = unsafe { arg_ref(q) }?;
        q.close();
        Ok(())
    })
}

/// # Safety
///
/// `q` must be NULL or a live handle; `out` NULL or valid for writing one
/// `bool`.
pub(crate) unsafe fn is_closed<Q: Queue>(q: *const Q, out: *mut bool) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, out) = unsafe { (arg_ref(q)?, arg_out(out)?) };
        out.write(q.is_closed());
        Ok(())
    })
}

/// # Safety
///
/// `q` must be NULL or a live handle; `out` NULL or valid for writing one
/// `size_t`.
pub(crate) unsafe fn len<Q: Queue>(q: *const Q, out: *mut usize) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, out) = unsafe { (arg_ref(q)?, arg_out(out)?) };
        out.write(q.len());
        Ok(())
    })
}

/// # Safety
///
/// `q` must be NULL or a live handle; `out` NULL or valid for writing one
/// `size_t`.
pub(crate) unsafe fn capacity<Q: Queue>(q: *const Q, out: *mut usize) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, out) = unsafe { (arg_ref(q)?, arg_out(out)?) };
        out.write(q.capacity());
        Ok(())
    })
}

/// # Safety
///
/// `q` must be NULL or a live handle; `poppers` and `pushers` NULL or valid
/// for writing one `size_t` each.
pub(crate) unsafe fn waiting<Q: Queue>(
    q: *const Q,
    poppers: *mut usize,
    pushers: *mut usize,
) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, poppers, pushers) = unsafe { (arg_ref(q)?, arg_out(poppers)?, arg_out(pushers)?) };
        let (waiting_poppers, waiting_pushers) = q.waiting();
        poppers.write(waiting_poppers);
        pushers.write(waiting_pushers);
        Ok(())
    })
}
