//! Fallible allocation of a queue's slot buffer.

use std::alloc::Layout;

use crate::error::CapacityError;

/// Allocates `capacity` slots, built by `init` from their index.
///
/// Reports a capacity of 0, one whose buffer would not fit in the address
/// space, and one the allocator refuses as errors, never as a panic or abort.
pub(crate) fn slots<S>(
    capacity: usize,
    init: impl FnMut(usize) -> S,
) -> Result<Box<[S]>, CapacityError> {
    if capacity == 0 {
        return Err(CapacityError::Zero);
    }
    if Layout::array::<S>(capacity).is_err() {
        return Err(CapacityError::TooLarge {
            requested: capacity,
        });
    }
    let mut slots = Vec::new();
    slots
        .try_reserve_exact(capacity)
        .map_err(|_| CapacityError::AllocFailed {
            requested: capacity,
        })?;
    slots.extend((0..capacity).map(init));
    Ok(slots.into_boxed_slice())
}
