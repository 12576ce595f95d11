//! Fallible allocation of a queue's slot buffer, built in place on the heap.
//!
//! Slots are never built on the stack and moved: an item type of hundreds
//! of kilobytes would overflow it. And a slot that needs no initialisation
//! (an SPSC cell) costs nothing per slot, so a queue of zero-sized items can
//! have any capacity and is still created in constant time.

use std::alloc::Layout;
use std::mem::MaybeUninit;

use crate::error::CapacityError;

/// Allocates room for `capacity` slots, left uninitialised.
///
/// Reports a capacity of 0, one whose buffer would not fit in the address
/// space, and one the allocator refuses as errors, never as a panic or abort.
pub(crate) fn uninit<S>(capacity: usize) -> Result<Box<[MaybeUninit<S>]>, CapacityError> {
    if capacity == 0 {
        return Err(CapacityError::Zero);
    }
    if Layout::array::<S>(capacity).is_err() {
        return Err(CapacityError::TooLarge {
            requested: capacity,
        });
    }
    let mut slots: Vec<MaybeUninit<S>> = Vec::new();
    slots
        .try_reserve_exact(capacity)
        .map_err(|_| CapacityError::AllocFailed {
            requested: capacity,
        })?;
    // SAFETY: the capacity is reserved above, and `MaybeUninit` needs no
    // initialisation. For zero-sized slots nothing is allocated and this is
    // all it takes, whatever the capacity.
    unsafe { slots.set_len(capacity) };
    Ok(slots.into_boxed_slice())
}

/// Allocates `capacity` slots, each written in place by `init` from its
/// index and a pointer to it.
///
/// # Errors
///
/// As [`uninit`].
///
/// # Safety
///
/// `init` must leave a valid `S` behind the pointer it is given: write
/// every field, except those of a type valid whatever its bytes.
pub(crate) unsafe fn slots<S>(
    capacity: usize,
    mut init: impl FnMut(usize, *mut S),
) -> Result<Box<[S]>, CapacityError> {
    let mut slots = uninit::<S>(capacity)?;
    for (i, slot) in slots.iter_mut().enumerate() {
        init(i, slot.as_mut_ptr());
    }
    // SAFETY: `init` made every slot valid, as our caller promised.
    Ok(unsafe { assume_init(slots) })
}

/// Treats a buffer of uninitialised slots as initialised.
///
/// # Safety
///
/// Every slot must hold a valid `S`: written, or of a type that is valid
/// whatever its bytes (`MaybeUninit`, or a cell of one).
pub(crate) unsafe fn assume_init<S>(slots: Box<[MaybeUninit<S>]>) -> Box<[S]> {
    let raw = Box::into_raw(slots);
    // SAFETY: `MaybeUninit<S>` has the layout of `S`, so the slice pointer
    // keeps its length and allocation; the caller vouches for the contents.
    unsafe { Box::from_raw(raw as *mut [S]) }
}
