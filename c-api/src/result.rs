//! The error codes every function returns, and their text.

use std::ffi::c_char;

use ringq_core::{
    CapacityError, Closed, PopTimeoutError, PushError, PushTimeoutError, TryPopError, TryPushError,
};

/// What a ringq function did: `RINGQ_OK` (zero) or why it failed.
///
/// Returned by value. The type is a fixed 32-bit unsigned integer in C, and
/// new codes may be added at the end in later versions, so a `switch` over it
/// should have a `default` branch. `ringq_strerror` describes any value.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ringq_result {
    /// Success.
    RINGQ_OK = 0,
    /// A non-blocking push found the queue full; the item was not pushed.
    RINGQ_ERR_FULL = 1,
    /// A non-blocking pop found the queue empty (and not closed).
    RINGQ_ERR_EMPTY = 2,
    /// The queue is closed: pushes are refused, and pops report this once
    /// every item pushed before the close has been popped.
    RINGQ_ERR_CLOSED = 3,
    /// A push or pop with a timeout gave up before it could complete.
    RINGQ_ERR_TIMED_OUT = 4,
    /// A NULL handle, a NULL out pointer, a NULL array with a non-zero length
    /// or a capacity of zero. Nothing was done.
    RINGQ_ERR_INVALID_ARGUMENT = 5,
    /// The queue's buffer could not be allocated, or the capacity is too
    /// large to allocate.
    RINGQ_ERR_OUT_OF_MEMORY = 6,
    /// A bug inside ringq caused a panic, which was caught at the boundary.
    /// The handle involved should be considered unusable (free it).
    RINGQ_ERR_PANIC = 7,
    /// A message is longer than the shared-memory queue's maximum message
    /// size. Nothing was pushed.
    RINGQ_ERR_TOO_LARGE = 8,
    /// The shared memory of a queue holds something no correct process
    /// writes (a bug, or a hostile process with access to it). The call did
    /// nothing else; a damaged message was dropped.
    RINGQ_ERR_CORRUPT = 9,
    /// The file is not a shared-memory queue this library can use: not a
    /// ringq segment, another layout version, truncated, a damaged header,
    /// pages not all allocated (a sparse file, which could fault), an
    /// anonymous segment not sealed against resizing, or made in another PID
    /// or time namespace (or this process cannot tell which PID namespace it
    /// is in, having no usable `/proc`).
    RINGQ_ERR_INCOMPATIBLE = 10,
    /// No shared-memory queue has that name.
    RINGQ_ERR_NOT_FOUND = 11,
    /// A shared-memory queue of that name exists already.
    RINGQ_ERR_EXISTS = 12,
    /// The system refused access to the shared-memory queue's file.
    RINGQ_ERR_PERMISSION = 13,
    /// Every participant entry of the shared-memory queue belongs to a live
    /// process: no more handles can attach.
    RINGQ_ERR_PARTICIPANTS = 14,
    /// Another system call failed (creating, mapping or opening a segment).
    RINGQ_ERR_SYSTEM = 15,
    /// The shared-memory queue's file belongs to another user, or its group
    /// or every user can write it, beyond what the opener trusts (see
    /// `ringq_shm_open_trusting`). Nothing was read from it.
    RINGQ_ERR_UNTRUSTED = 16,
}

use ringq_result::*;

impl ringq_result {
    /// The code with this number, if there is one.
    fn from_u32(value: u32) -> Option<Self> {
        Some(match value {
            0 => RINGQ_OK,
            1 => RINGQ_ERR_FULL,
            2 => RINGQ_ERR_EMPTY,
            3 => RINGQ_ERR_CLOSED,
            4 => RINGQ_ERR_TIMED_OUT,
            5 => RINGQ_ERR_INVALID_ARGUMENT,
            6 => RINGQ_ERR_OUT_OF_MEMORY,
            7 => RINGQ_ERR_PANIC,
            8 => RINGQ_ERR_TOO_LARGE,
            9 => RINGQ_ERR_CORRUPT,
            10 => RINGQ_ERR_INCOMPATIBLE,
            11 => RINGQ_ERR_NOT_FOUND,
            12 => RINGQ_ERR_EXISTS,
            13 => RINGQ_ERR_PERMISSION,
            14 => RINGQ_ERR_PARTICIPANTS,
            15 => RINGQ_ERR_SYSTEM,
            16 => RINGQ_ERR_UNTRUSTED,
            _ => return None,
        })
    }

    /// The static, NUL-terminated description of this code.
    fn text(self) -> &'static str {
        match self {
            RINGQ_OK => "success\0",
            RINGQ_ERR_FULL => "queue is full\0",
            RINGQ_ERR_EMPTY => "queue is empty\0",
            RINGQ_ERR_CLOSED => "queue is closed\0",
            RINGQ_ERR_TIMED_OUT => "timed out\0",
            RINGQ_ERR_INVALID_ARGUMENT => "invalid argument\0",
            RINGQ_ERR_OUT_OF_MEMORY => "out of memory\0",
            RINGQ_ERR_PANIC => "internal error (caught panic)\0",
            RINGQ_ERR_TOO_LARGE => "message too large\0",
            RINGQ_ERR_CORRUPT => "shared memory corrupt\0",
            RINGQ_ERR_INCOMPATIBLE => "not a compatible ringq segment\0",
            RINGQ_ERR_NOT_FOUND => "no such queue\0",
            RINGQ_ERR_EXISTS => "queue exists\0",
            RINGQ_ERR_PERMISSION => "permission denied\0",
            RINGQ_ERR_PARTICIPANTS => "too many participants\0",
            RINGQ_ERR_SYSTEM => "system error\0",
            RINGQ_ERR_UNTRUSTED => "queue file owned or writable by an untrusted user\0",
        }
    }
}

/// Describes a result code in English, without a trailing newline.
///
/// Takes the code as a plain 32-bit integer (the C type of `ringq_result`), so
/// any value is accepted: unknown codes give "unknown ringq error".
///
/// Ownership: the string is static; do not free or modify it.
/// Threads: any thread, at any time.
#[no_mangle]
pub extern "C" fn ringq_strerror(result: u32) -> *const c_char {
    let text = ringq_result::from_u32(result).map_or("unknown ringq error\0", ringq_result::text);
    text.as_ptr().cast()
}

impl From<CapacityError> for ringq_result {
    fn from(e: CapacityError) -> Self {
        match e {
            CapacityError::TooLarge { .. } | CapacityError::AllocFailed { .. } => {
                RINGQ_ERR_OUT_OF_MEMORY
            }
            _ => RINGQ_ERR_INVALID_ARGUMENT,
        }
    }
}

impl From<Closed> for ringq_result {
    fn from(_: Closed) -> Self {
        RINGQ_ERR_CLOSED
    }
}

impl<T> From<PushError<T>> for ringq_result {
    fn from(_: PushError<T>) -> Self {
        RINGQ_ERR_CLOSED
    }
}

impl<T> From<TryPushError<T>> for ringq_result {
    fn from(e: TryPushError<T>) -> Self {
        match e {
            TryPushError::Full(_) => RINGQ_ERR_FULL,
            TryPushError::Closed(_) => RINGQ_ERR_CLOSED,
        }
    }
}

impl<T> From<PushTimeoutError<T>> for ringq_result {
    fn from(e: PushTimeoutError<T>) -> Self {
        match e {
            PushTimeoutError::Timeout(_) => RINGQ_ERR_TIMED_OUT,
            PushTimeoutError::Closed(_) => RINGQ_ERR_CLOSED,
        }
    }
}

impl From<TryPopError> for ringq_result {
    fn from(e: TryPopError) -> Self {
        match e {
            TryPopError::Empty => RINGQ_ERR_EMPTY,
            TryPopError::Closed => RINGQ_ERR_CLOSED,
        }
    }
}

impl From<PopTimeoutError> for ringq_result {
    fn from(e: PopTimeoutError) -> Self {
        match e {
            PopTimeoutError::Timeout => RINGQ_ERR_TIMED_OUT,
            PopTimeoutError::Closed => RINGQ_ERR_CLOSED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn codes_are_dense_and_every_code_has_text() {
        for i in 0..=RINGQ_ERR_UNTRUSTED as u32 {
            let code = ringq_result::from_u32(i).expect("codes are dense");
            assert_eq!(code as u32, i);
            // SAFETY: ringq_strerror returns a static NUL-terminated string.
            let s = unsafe { CStr::from_ptr(ringq_strerror(i)) };
            assert!(!s.to_bytes().is_empty());
        }
        assert_eq!(ringq_result::from_u32(RINGQ_ERR_UNTRUSTED as u32 + 1), None);
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(ringq_strerror(u32::MAX)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown ringq error");
    }
}
