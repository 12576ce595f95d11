//! `a < b` as Python answers it, natively where that runs no Python code.
//!
//! `heapq` compares with `PyObject_RichCompareBool(a, b, Py_LT)`. For the
//! priorities queues hold most often (exact `int`s and `float`s, and
//! tuples that start with one), the answer is known without calling into
//! the interpreter: these types' `<` and `==` are fixed and run no Python
//! code, and the objects are immutable. So each item's [`Key`] is read once,
//! when it is put, and two keys of one kind answer `<` by arithmetic,
//! exactly as asking the interpreter would.

use pyo3::ffi;
use pyo3::prelude::*;

/// What an item's order can be told from without Python code.
#[derive(Clone, Copy)]
pub(crate) enum Key {
    /// An exact `int` (fitting a C long) or `float`.
    Plain(Plain),
    /// An exact tuple whose first item is one.
    First(Plain),
    /// Anything else: ask the interpreter.
    Opaque,
}

/// Reads `obj`'s [`Key`].
pub(crate) fn key_of(obj: &Bound<'_, PyAny>) -> Key {
    let ptr = obj.as_ptr();
    // SAFETY: `ptr` comes from a live `Bound` on an attached thread. The
    // tuple accessors are called on an exact tuple, at index 0 only after
    // checking its size, and return an item the tuple keeps alive.
    unsafe {
        if let Some(plain) = plain(ptr) {
            Key::Plain(plain)
        } else if ffi::PyTuple_CheckExact(ptr) != 0 && ffi::PyTuple_GET_SIZE(ptr) >= 1 {
            plain(ffi::PyTuple_GET_ITEM(ptr, 0)).map_or(Key::Opaque, Key::First)
        } else {
            Key::Opaque
        }
    }
}

/// A comparison raised: the exception is set in the interpreter, for
/// [`Raised::fetch`] to take once the caller has let go of what it holds.
/// (Carrying it as a `PyErr` through every step of a sift would copy a
/// large value at each one.)
#[derive(Debug)]
pub(crate) struct Raised;

impl Raised {
    /// Takes the exception that made the comparison fail.
    pub(crate) fn fetch(self, py: Python<'_>) -> PyErr {
        PyErr::fetch(py)
    }
}

/// Whether `a < b`, exactly as `PyObject_RichCompareBool(a, b, Py_LT)`
/// answers (and so as `heapq` sees it), given each object's [`Key`].
///
/// # Errors
///
/// [`Raised`] if the comparison raised (`TypeError` for unorderable types,
/// or any exception from a `__lt__`); fetch it before running any other
/// Python code.
#[inline]
pub(crate) fn less(
    py: Python<'_>,
    (a, key_a): (&Py<PyAny>, Key),
    (b, key_b): (&Py<PyAny>, Key),
) -> Result<bool, Raised> {
    match known_less(key_a, key_b) {
        Some(known) => Ok(known),
        None => ask(a.bind(py), b.bind(py)),
    }
}

/// `a < b` from the interpreter.
#[cold]
#[inline(never)]
fn ask(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> Result<bool, Raised> {
    // SAFETY: both pointers come from live `Bound`s, so they are valid
    // objects for the duration of the call, and the thread is attached.
    match unsafe { ffi::PyObject_RichCompareBool(a.as_ptr(), b.as_ptr(), ffi::Py_LT) } {
        -1 => Err(Raised),
        result => Ok(result == 1),
    }
}

/// The answer to `a < b` where the keys give it: two plain numbers of one
/// kind, or two tuples whose first items are such numbers and differ
/// (tuple comparison then decides on those first items alone).
#[inline]
fn known_less(a: Key, b: Key) -> Option<bool> {
    match (a, b) {
        (Key::Plain(x), Key::Plain(y)) => plain_less(x, y),
        (Key::First(x), Key::First(y)) if plain_differ(x, y)? => plain_less(x, y),
        _ => None,
    }
}

/// A number whose `<` and `==` are plain arithmetic.
#[derive(Clone, Copy)]
pub(crate) enum Plain {
    Int(std::ffi::c_long),
    Float(f64),
}

/// The object at `ptr` as a [`Plain`] number: an exact `int` that fits a
/// C long, or an exact `float`.
///
/// # Safety
///
/// `ptr` must point to a live object, and the thread must be attached.
unsafe fn plain(ptr: *mut ffi::PyObject) -> Option<Plain> {
    // SAFETY: the caller vouches for `ptr`; the exact-type checks read only
    // its type, and each accessor is called on the type it requires.
    // PyLong_AsLongAndOverflow on an exact int raises nothing: it reports a
    // value out of range through `overflow`.
    unsafe {
        if ffi::PyLong_CheckExact(ptr) != 0 {
            let mut overflow = 0;
            let value = ffi::PyLong_AsLongAndOverflow(ptr, &mut overflow);
            (overflow == 0).then_some(Plain::Int(value))
        } else if ffi::PyFloat_CheckExact(ptr) != 0 {
            Some(Plain::Float(ffi::PyFloat_AS_DOUBLE(ptr)))
        } else {
            None
        }
    }
}

/// `a < b` for two numbers of the same kind; `None` for mixed kinds.
#[inline]
fn plain_less(a: Plain, b: Plain) -> Option<bool> {
    match (a, b) {
        (Plain::Int(x), Plain::Int(y)) => Some(x < y),
        // IEEE `<`, as float's own: false whenever a NaN is involved.
        (Plain::Float(x), Plain::Float(y)) => Some(x < y),
        _ => None,
    }
}

/// Whether two numbers of the same kind differ, as tuple comparison's
/// `==` on them would say. `None` where identity could decide instead of
/// value (a NaN equals itself only by identity).
#[inline]
fn plain_differ(a: Plain, b: Plain) -> Option<bool> {
    match (a, b) {
        (Plain::Int(x), Plain::Int(y)) => Some(x != y),
        (Plain::Float(x), Plain::Float(y)) if !x.is_nan() && !y.is_nan() => Some(x != y),
        _ => None,
    }
}
