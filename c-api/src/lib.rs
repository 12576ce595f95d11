//! The ringq C library: `libringq.so`, `libringq.a` and `include/ringq.h`.
//!
//! Every exported function is `ringq_<object>_<verb>`, returns a
//! [`ringq_result`](result::ringq_result) by value (except `*_free`,
//! `ringq_strerror`, `ringq_version` and `ringq_shm_watch_fd`), catches every
//! panic and checks every pointer argument for NULL. The header is generated from this crate by
//! cbindgen, so the doc comments here are the C documentation.
//!
//! Modules, one job each:
//! - [`result`]: the error codes and `ringq_strerror`.
//! - `ffi`: boundary helpers (panic guard, NULL checks, items, timeouts).
//! - `errno`: keeps `errno` as the caller left it.
//! - `ops`: the checked body of every queue operation, shared by the queues.
//! - [`spsc`], [`bounded`], [`unbounded`]: one handle type per queue kind.
//! - `shm`: the queue of byte messages between processes (Linux), and
//!   `shm_watch`: its readiness descriptors.
#![allow(non_camel_case_types)]

mod errno;
mod ffi;
mod ops;

pub mod bounded;
pub mod result;
#[cfg(target_os = "linux")]
pub mod shm;
#[cfg(target_os = "linux")]
pub mod shm_watch;
pub mod spsc;
pub mod unbounded;

use std::ffi::c_char;

/// Major version of the ringq C library this header belongs to.
pub const RINGQ_VERSION_MAJOR: u32 = 0;
/// Minor version of the ringq C library this header belongs to.
pub const RINGQ_VERSION_MINOR: u32 = 1;
/// Patch version of the ringq C library this header belongs to.
pub const RINGQ_VERSION_PATCH: u32 = 0;
// The header's version macros are literals (cbindgen copies constants, it
// does not evaluate them), so check at compile time that they match Cargo.
// The header builds RINGQ_VERSION, the string, from these three.
const _: () = {
    assert!(RINGQ_VERSION_MAJOR == parse_u32(env!("CARGO_PKG_VERSION_MAJOR")));
    assert!(RINGQ_VERSION_MINOR == parse_u32(env!("CARGO_PKG_VERSION_MINOR")));
    assert!(RINGQ_VERSION_PATCH == parse_u32(env!("CARGO_PKG_VERSION_PATCH")));
};

// Used only by the anonymous const above, which older compilers (the
// declared minimum among them) do not count as a use.
#[allow(dead_code)]
const fn parse_u32(s: &str) -> u32 {
    let bytes = s.as_bytes();
    let mut value = 0;
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit());
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

/// The library's version as "MAJOR.MINOR.PATCH", equal to `RINGQ_VERSION`
/// when the header and the library match.
///
/// Ownership: the string is static; do not free it.
/// Threads: any thread, at any time.
#[no_mangle]
pub extern "C" fn ringq_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn version_string_matches_the_macros() {
        // SAFETY: ringq_version returns a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(ringq_version()) };
        assert_eq!(
            v.to_str().unwrap(),
            format!("{RINGQ_VERSION_MAJOR}.{RINGQ_VERSION_MINOR}.{RINGQ_VERSION_PATCH}")
        );
    }
}
