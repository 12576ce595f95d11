//! The two places where the queue reads or writes Python memory directly:
//! a new `bytes` filled straight from shared memory, and the bytes of a
//! buffer-protocol object.

use std::mem::MaybeUninit;

use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use ringq::shm::Message;

/// A new `bytes` holding `message`, copied once, from the shared memory
/// into the object (no zeroing first, no intermediate buffer).
///
/// # Errors
///
/// `MemoryError` if the object cannot be allocated (the message is then
/// lost: its slot is released when the caller's closure returns).
pub(crate) fn bytes_from_message<'py>(
    py: Python<'py>,
    message: &Message<'_>,
) -> PyResult<Bound<'py, PyBytes>> {
    let len = message.len();
    // Messages are at most `ringq::shm::MAX_MESSAGE_SIZE` (1 GiB) long.
    let py_len = ffi::Py_ssize_t::try_from(len).expect("a message length fits Py_ssize_t");
    // SAFETY: a NULL source asks CPython for an uninitialised bytes object
    // of `py_len` bytes; the thread is attached (we hold `py`).
    let ptr = unsafe { ffi::PyBytes_FromStringAndSize(std::ptr::null(), py_len) };
    // SAFETY: `ptr` is a new (owned) reference, or NULL with an exception set.
    let bytes = unsafe { Bound::from_owned_ptr_or_err(py, ptr)? };
    // SAFETY: `ptr` is a bytes object, whose buffer `PyBytes_AS_STRING`
    // returns; CPython allocated `len` bytes there (plus a trailing NUL
    // it already wrote), and no other code has a reference to it yet.
    let out = unsafe {
        let data = ffi::PyBytes_AsString(ptr).cast::<MaybeUninit<u8>>();
        std::slice::from_raw_parts_mut(data, len)
    };
    message.copy_to_uninit(out);
    // SAFETY: `PyBytes_FromStringAndSize` returns a bytes object.
    Ok(unsafe { bytes.cast_into_unchecked() })
}

/// Calls `f` with the bytes of `obj`: a `bytes` object directly, anything
/// else with the buffer protocol (bytearray, memoryview, array, ...) as
/// long as its buffer is C-contiguous.
///
/// `f` runs attached. The view must not outlive the call: for a mutable
/// buffer, other threads may change its contents once the call returns.
///
/// # Errors
///
/// `TypeError` for an object without the buffer protocol, `BufferError`
/// for a buffer that is not contiguous, or what `f` returns.
pub(crate) fn with_bytes<R>(
    obj: &Bound<'_, PyAny>,
    f: impl FnOnce(&[u8]) -> PyResult<R>,
) -> PyResult<R> {
    if let Ok(bytes) = obj.cast_exact::<PyBytes>() {
        return f(bytes.as_bytes());
    }
    let buffer = PyUntypedBuffer::get(obj)?;
    if !buffer.is_c_contiguous() {
        return Err(PyBufferError::new_err(
            "put_bytes() needs a C-contiguous buffer",
        ));
    }
    let len = buffer.len_bytes();
    if len == 0 {
        // An empty buffer's pointer may be NULL, which no slice may hold.
        return f(&[]);
    }
    // SAFETY: the buffer stays exported (and so its memory valid, and a
    // bytearray unresizable) until `buffer` drops after `f` returns; a
    // C-contiguous buffer of `len` > 0 bytes starts at `buf_ptr()`.
    let view = unsafe { std::slice::from_raw_parts(buffer.buf_ptr().cast::<u8>(), len) };
    f(view)
}
