//! Boundary helpers: the panic guard, NULL-checked argument conversion, the
//! item type and timeout conversion.

use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::time::{Duration, Instant};

use crate::result::ringq_result::{self, RINGQ_ERR_INVALID_ARGUMENT};

/// One queue item: a C pointer that the queue carries without touching.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Item(pub(crate) *mut c_void);

// SAFETY: the queues never dereference an item; they only move the address
// from the pushing thread to the popping one. Whether the pointee may be used
// on that thread is the C program's responsibility, as with any pointer it
// hands to another thread.
unsafe impl Send for Item {}

/// Runs a body returning `Result<(), ringq_result>` and turns it into a
/// `ringq_result`: `Ok(())` is `RINGQ_OK`, `Err(code)` is `code`, and a panic
/// is caught and reported as `RINGQ_ERR_PANIC` so it never unwinds into C.
macro_rules! ffi_guard {
    ($body:block) => {{
        let outcome = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(
            || -> ::core::result::Result<(), $crate::result::ringq_result> { $body },
        ));
        match outcome {
            Ok(Ok(())) => $crate::result::ringq_result::RINGQ_OK,
            Ok(Err(code)) => code,
            Err(_) => $crate::result::ringq_result::RINGQ_ERR_PANIC,
        }
    }};
}
pub(crate) use ffi_guard;

/// Turns a handle pointer into a reference, or `RINGQ_ERR_INVALID_ARGUMENT`
/// when it is NULL.
///
/// # Safety
///
/// `ptr` must be NULL or point to a live `T` that is not freed or mutably
/// borrowed for `'a`.
pub(crate) unsafe fn arg_ref<'a, T>(ptr: *const T) -> Result<&'a T, ringq_result> {
    // SAFETY: the caller guarantees `ptr` is NULL or valid for `'a`; `as_ref`
    // handles NULL.
    unsafe { ptr.as_ref() }.ok_or(RINGQ_ERR_INVALID_ARGUMENT)
}

/// Turns an out pointer into a writable, possibly uninitialised slot, or
/// `RINGQ_ERR_INVALID_ARGUMENT` when it is NULL.
///
/// # Safety
///
/// `ptr` must be NULL or valid for writes of one `T` and not accessed by
/// anything else for `'a`.
pub(crate) unsafe fn arg_out<'a, T>(ptr: *mut T) -> Result<&'a mut MaybeUninit<T>, ringq_result> {
    // SAFETY: `MaybeUninit<T>` has the layout of `T`, and the caller
    // guarantees `ptr` is NULL or valid for writes and unaliased for `'a`.
    unsafe { ptr.cast::<MaybeUninit<T>>().as_mut() }.ok_or(RINGQ_ERR_INVALID_ARGUMENT)
}

/// Turns a C array of items into a slice; NULL is allowed when `len` is 0.
///
/// # Safety
///
/// Unless `len` is 0, `ptr` must be NULL or point to `len` initialised
/// pointers that are not written for `'a`.
pub(crate) unsafe fn arg_items<'a>(
    ptr: *const *mut c_void,
    len: usize,
) -> Result<&'a [Item], ringq_result> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(RINGQ_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: `Item` is a transparent wrapper of `*mut c_void`; the caller
    // guarantees `len` readable, initialised elements at the non-NULL `ptr`.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<Item>(), len) })
}

/// Turns a C output array into a slice of slots; NULL is allowed when `len`
/// is 0.
///
/// # Safety
///
/// Unless `len` is 0, `ptr` must be NULL or valid for writes of `len`
/// pointers and not accessed by anything else for `'a`.
pub(crate) unsafe fn arg_item_slots<'a>(
    ptr: *mut *mut c_void,
    len: usize,
) -> Result<&'a mut [MaybeUninit<Item>], ringq_result> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(RINGQ_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: `MaybeUninit<Item>` has the layout of `*mut c_void`; the caller
    // guarantees `len` writable, unaliased elements at the non-NULL `ptr`.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr.cast::<MaybeUninit<Item>>(), len) })
}

/// The instant `timeout_ns` nanoseconds from now, or `None` when that is too
/// far away to represent (then the caller waits without a deadline).
pub(crate) fn deadline_after(timeout_ns: u64) -> Option<Instant> {
    Instant::now().checked_add(Duration::from_nanos(timeout_ns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::ringq_result::*;

    #[test]
    fn guard_maps_ok_err_and_panic() {
        assert_eq!(ffi_guard!({ Ok(()) }), RINGQ_OK);
        assert_eq!(ffi_guard!({ Err(RINGQ_ERR_FULL) }), RINGQ_ERR_FULL);
        assert_eq!(ffi_guard!({ panic!("boom") }), RINGQ_ERR_PANIC);
    }

    #[test]
    fn null_arguments_are_rejected() {
        // SAFETY: NULL is allowed by every helper's contract.
        unsafe {
            assert_eq!(
                arg_ref::<u8>(std::ptr::null()),
                Err(RINGQ_ERR_INVALID_ARGUMENT)
            );
            assert!(arg_out::<u8>(std::ptr::null_mut()).is_err());
            assert!(arg_items(std::ptr::null(), 1).is_err());
            assert_eq!(arg_items(std::ptr::null(), 0).unwrap().len(), 0);
            assert!(arg_item_slots(std::ptr::null_mut(), 1).is_err());
            assert_eq!(arg_item_slots(std::ptr::null_mut(), 0).unwrap().len(), 0);
        }
    }

    #[test]
    fn huge_timeouts_mean_no_deadline_rather_than_overflow() {
        assert!(deadline_after(0).is_some());
        // Whatever the platform's Instant range, this must not panic.
        let _ = deadline_after(u64::MAX);
    }
}
