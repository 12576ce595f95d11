//! The per-item methods, written straight against the CPython C API.
//!
//! `put`, `get`, `put_nowait`, `get_nowait`, `qsize`, `empty` and `full`
//! run once per item, so their call overhead is the queue's cost. Through
//! PyO3's `#[pymethods]` each call pays for a trampoline and a general
//! argument parser, more than the whole of `queue.SimpleQueue.put`. Here
//! each is a `METH_FASTCALL` function that the interpreter calls with the
//! arguments in a C array:
//!
//! - The common call (`put(item)`, `get()`) takes a fast path that reads
//!   its arguments by position and calls the class's non-blocking
//!   operation ([`Hot::put_fast`], [`Hot::get_fast`]).
//! - Anything else (keywords, `block`/`timeout`, no item or no room, an
//!   error) goes to a `#[cold]` slow path that parses the arguments in full
//!   and runs the class's ordinary Rust method, which may wait.
//!
//! No panic unwinds into the interpreter. The slow paths run inside
//! [`attached`], which turns a panic into `PanicException`. The fast paths
//! skip that guard, whose closure call would cost as much as a tenth of a
//! `put`: they are panic-free by construction. They call only the core's
//! non-blocking `try_push`/`try_pop`/`len` (whose item slots are claimed
//! before they are touched, so their "one item per slot" invariants cannot
//! fail), atomic loads and stores, and wrapping arithmetic; every fallible
//! step returns to the slow path instead. Should one ever panic all the
//! same, Rust aborts the process with a message rather than unwind into C.
//!
//! The awaitable that the async methods return is stepped once per `await`
//! too, so its interpreter slots (`am_await`, `tp_iternext`, `am_send`)
//! are functions of this module as well ([`install_awaitable`]). Their
//! fast path is [`AsyncOp::at_once`], a get or put that completes through
//! the class's [`Hot`] fast operation, as panic-free as the others here;
//! the full step that [`crate::aio::op`] defines runs inside [`guarded`].
//! The process queues' awaitable gets the same slots ([`install_stepper`]),
//! each a whole step inside [`guarded`].
//!
//! Everything that is not per item stays in ordinary PyO3.
//!
//! The functions are added to the classes that PyO3 built, as method
//! descriptors, by [`install`] when the module is initialised. A method
//! descriptor checks that `self` is an instance of the class (or of a
//! subclass) before it calls us, as for any C method.

use std::ffi::{c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::{PySystemError, PyTypeError};
use pyo3::ffi;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::pyclass::boolean_struct::True;
use pyo3::types::{PyString, PyTuple, PyType};
use pyo3::PyClass;

use crate::aio::op::{AsyncOp, Step};
use crate::backing::Item;
use crate::tasks::Tasks;

/// A class whose per-item methods are the functions of this module.
///
/// The fast operations run attached, never wait and never run Python code;
/// the slow ones have the full `queue.Queue` semantics.
pub(crate) trait Hot: PyClass<Frozen = True> + Sync {
    /// Whether the class has `full()`.
    const HAS_FULL: bool = true;

    /// `put(item)` when it needs no waiting: hands the item back when the
    /// slow path must take over (no room, shut down, another condition).
    fn put_fast(&self, item: Item) -> Result<(), Item>;

    /// `put(item, block, timeout)`, in full.
    fn put(
        &self,
        py: Python<'_>,
        item: Item,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()>;

    /// `get()` when an item is there; `None` when the slow path must take
    /// over.
    fn get_fast(&self) -> Option<Item>;

    /// `get(block, timeout)`, in full.
    fn get(
        &self,
        py: Python<'_>,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Item>;

    fn qsize(&self) -> usize;

    fn empty(&self) -> bool;

    /// `full()`; only called when [`HAS_FULL`](Self::HAS_FULL).
    fn full(&self) -> bool;
}

/// A class with `task_done()`, which consumers call once per item.
pub(crate) trait Tasked: Hot {
    fn tasks(&self) -> &Tasks;
}

/// A C method's docstring, with the signature `inspect` reads from it.
pub(crate) struct Doc(pub(crate) &'static CStr);

/// Adds the per-item methods to `T`'s type, with their docstrings.
///
/// # Errors
///
/// Whatever creating or setting an attribute raises (only a `MemoryError`
/// in practice).
pub(crate) fn install<T: Hot>(ty: &Bound<'_, PyType>, docs: &MethodDocs) -> PyResult<()> {
    let with_keywords = ffi::METH_FASTCALL | ffi::METH_KEYWORDS;
    let methods: [(&CStr, ffi::PyMethodDefPointer, c_int, &Doc); 4] = [
        (
            c"put",
            ffi::PyMethodDefPointer {
                PyCFunctionFastWithKeywords: put::<T>,
            },
            with_keywords,
            &docs.put,
        ),
        (
            c"put_nowait",
            ffi::PyMethodDefPointer {
                PyCFunctionFastWithKeywords: put_nowait::<T>,
            },
            with_keywords,
            &docs.put_nowait,
        ),
        (
            c"get",
            ffi::PyMethodDefPointer {
                PyCFunctionFastWithKeywords: get::<T>,
            },
            with_keywords,
            &docs.get,
        ),
        (
            c"get_nowait",
            ffi::PyMethodDefPointer {
                PyCFunctionFast: get_nowait::<T>,
            },
            ffi::METH_FASTCALL,
            &docs.get_nowait,
        ),
    ];
    let queries: [(&CStr, ffi::PyCFunctionFast, &Doc); 3] = [
        (c"qsize", qsize::<T>, &docs.qsize),
        (c"empty", empty::<T>, &docs.empty),
        (c"full", full::<T>, &docs.full),
    ];
    let queries = queries
        .into_iter()
        .filter(|(name, _, _)| T::HAS_FULL || *name != c"full")
        .map(|(name, f, doc)| {
            (
                name,
                ffi::PyMethodDefPointer { PyCFunctionFast: f },
                ffi::METH_FASTCALL,
                doc,
            )
        });
    for (name, meth, flags, doc) in methods.into_iter().chain(queries) {
        add_method(ty, name, meth, flags, doc)?;
    }
    Ok(())
}

/// Adds `task_done` to `T`'s type.
///
/// # Errors
///
/// As [`install`].
pub(crate) fn install_task_done<T: Tasked>(ty: &Bound<'_, PyType>, doc: &Doc) -> PyResult<()> {
    add_method(
        ty,
        c"task_done",
        ffi::PyMethodDefPointer {
            PyCFunctionFastWithKeywords: task_done::<T>,
        },
        ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
        doc,
    )
}

/// Adds one method to a type, as a method descriptor.
fn add_method(
    ty: &Bound<'_, PyType>,
    name: &'static CStr,
    meth: ffi::PyMethodDefPointer,
    flags: c_int,
    doc: &Doc,
) -> PyResult<()> {
    // The interpreter keeps a pointer to the definition for as long as the
    // method exists, which is for the life of the process: leaked once per
    // method, when the module is initialised.
    let def = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: name.as_ptr(),
        ml_meth: meth,
        ml_flags: flags,
        ml_doc: doc.0.as_ptr(),
    }));
    // SAFETY: `ty` is a live type object and `def` a valid method
    // definition that outlives it; the call returns a new reference or
    // NULL with an exception set, which `from_owned_ptr_or_err` takes.
    let descr = unsafe {
        Bound::from_owned_ptr_or_err(
            ty.py(),
            ffi::PyDescr_NewMethod(ty.as_ptr().cast::<ffi::PyTypeObject>(), def),
        )?
    };
    ty.setattr(name.to_str().expect("method names are ASCII"), descr)
}

/// The docstrings of a class's per-item methods.
pub(crate) struct MethodDocs {
    pub(crate) put: Doc,
    pub(crate) put_nowait: Doc,
    pub(crate) get: Doc,
    pub(crate) get_nowait: Doc,
    pub(crate) qsize: Doc,
    pub(crate) empty: Doc,
    pub(crate) full: Doc,
}

/// The instance a method was called on.
///
/// # Safety
///
/// `slf` must point to a live instance of `T` (or of a subclass), which
/// stays alive for `'a`, and the thread must be attached.
#[inline(always)]
unsafe fn this<'a, 'py: 'a, T: Hot>(py: Python<'py>, slf: &'a *mut ffi::PyObject) -> &'a T {
    // SAFETY: `slf` is a live instance of `T` (the caller's contract), so it
    // is laid out as PyO3 lays out `T`'s objects, and `T` is frozen and
    // `Sync`, so a shared reference to its contents is all `get` needs.
    unsafe { Bound::ref_from_ptr(py, slf).cast_unchecked::<T>().get() }
}

/// Runs `body` the way PyO3 runs a method, for everything but the fast
/// paths: with PyO3's own record that the thread is attached (without it,
/// PyO3 would defer every release of a Python object to a pool instead of
/// releasing it at once), and with panics turned into `PanicException`, so
/// that none unwinds into the interpreter. Returns NULL with the exception
/// set on failure, as a C method must.
///
/// The fast paths skip this: they release no Python object and raise no
/// exception, so they need neither.
#[cold]
#[inline(never)]
fn attached(body: impl FnOnce(Python<'_>) -> PyResult<*mut ffi::PyObject>) -> *mut ffi::PyObject {
    guarded(body).unwrap_or(std::ptr::null_mut())
}

/// [`attached`] for a hot caller, and for any result: `None` when `body`
/// failed, with the exception set.
#[inline(always)]
fn guarded<R>(body: impl FnOnce(Python<'_>) -> PyResult<R>) -> Option<R> {
    // The thread is attached already: `attach` only records it for PyO3.
    Python::attach(|py| match catch_unwind(AssertUnwindSafe(|| body(py))) {
        Ok(Ok(result)) => Some(result),
        Ok(Err(err)) => {
            err.restore(py);
            None
        }
        Err(payload) => {
            panicked(py, payload.as_ref());
            None
        }
    })
}

/// Raises the `PanicException` for a caught panic.
#[cold]
#[inline(never)]
fn panicked(py: Python<'_>, payload: &(dyn std::any::Any + Send)) {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a ringq method panicked".to_owned());
    PanicException::new_err(message).restore(py);
}

/// A new reference to `None`.
#[inline(always)]
fn none() -> *mut ffi::PyObject {
    // SAFETY: `Py_None` is the interpreter's static `None`, always valid;
    // `Py_NewRef` takes the reference the caller returns.
    unsafe { ffi::compat::Py_NewRef(ffi::Py_None()) }
}

/// `put(item, block=True, timeout=None)`.
///
/// # Safety
///
/// Called by the interpreter as a `METH_FASTCALL | METH_KEYWORDS` method
/// of `T`'s type: the thread is attached, `slf` is an instance of `T`,
/// `args` holds `nargs` positional arguments followed by one value per
/// name in `kwnames` (a tuple of strings, or NULL), all borrowed.
unsafe extern "C" fn put<T: Hot>(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    if nargs == 1 && kwnames.is_null() {
        // SAFETY: forwarded from our caller.
        unsafe { put_positional::<T>(slf, *args, true) }
    } else {
        // SAFETY: forwarded from our caller.
        unsafe { put_slow::<T>(slf, args, nargs, kwnames, c"put", true) }
    }
}

/// `put_nowait(item)`, which is `put(item, block=False)`.
///
/// # Safety
///
/// As [`put`].
unsafe extern "C" fn put_nowait<T: Hot>(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    if nargs == 1 && kwnames.is_null() {
        // SAFETY: forwarded from our caller.
        unsafe { put_positional::<T>(slf, *args, false) }
    } else {
        // SAFETY: forwarded from our caller.
        unsafe { put_slow::<T>(slf, args, nargs, kwnames, c"put_nowait", false) }
    }
}

/// `put(item)` or `put_nowait(item)`: the fast path, and the full
/// operation with `block` if that finds no room.
///
/// # Safety
///
/// The thread is attached, `slf` is a live instance of `T`, and `item` a
/// live object, both borrowed for the call.
#[inline(always)]
unsafe fn put_positional<T: Hot>(
    slf: *mut ffi::PyObject,
    item: *mut ffi::PyObject,
    block: bool,
) -> *mut ffi::PyObject {
    // SAFETY: the thread is attached (the contract).
    let py = unsafe { Python::assume_attached() };
    // SAFETY: `slf` is an instance of `T`, alive for the call.
    let queue = unsafe { this::<T>(py, &slf) };
    // SAFETY: `item` is a live object (the contract); this takes a new
    // reference to it, which the queue keeps, or which comes back to us.
    let Some(item) = (unsafe { Bound::from_borrowed_ptr_or_opt(py, item) }) else {
        return put_waiting_null();
    };
    match queue.put_fast(item.unbind()) {
        Ok(()) => none(),
        Err(item) => put_waiting(queue, item, block),
    }
}

/// A NULL argument, which the interpreter never passes.
#[cold]
#[inline(never)]
fn put_waiting_null() -> *mut ffi::PyObject {
    attached(|_| Err(PySystemError::new_err("put() was passed NULL")))
}

/// The rest of a positional `put` whose fast path found no room (or the
/// queue shut down): the full operation, with the default timeout.
#[cold]
#[inline(never)]
fn put_waiting<T: Hot>(queue: &T, item: Item, block: bool) -> *mut ffi::PyObject {
    attached(|py| queue.put(py, item, block, None).map(|()| none()))
}

/// `put` or `put_nowait` called with keywords or an unusual number of
/// arguments.
///
/// # Safety
///
/// As [`put`].
#[cold]
#[inline(never)]
unsafe fn put_slow<T: Hot>(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
    name: &'static CStr,
    block_default: bool,
) -> *mut ffi::PyObject {
    attached(|py| {
        // SAFETY: forwarded from our caller.
        let queue = unsafe { this::<T>(py, &slf) };
        let (item, block, timeout) = if block_default {
            // SAFETY: forwarded from our caller.
            let [item, block, timeout] = unsafe {
                parse(
                    py,
                    name,
                    &[c"item", c"block", c"timeout"],
                    1,
                    args,
                    nargs,
                    kwnames,
                )?
            };
            let block = match block {
                Some(block) => block.is_truthy()?,
                None => true,
            };
            (item, block, timeout)
        } else {
            // SAFETY: forwarded from our caller.
            let [item] = unsafe { parse(py, name, &[c"item"], 1, args, nargs, kwnames)? };
            (item, false, None)
        };
        let item = item
            .expect("a required argument is present")
            .to_owned()
            .unbind();
        // `timeout=None` is the same as no timeout.
        let timeout = timeout.filter(|t| !t.is_none());
        queue
            .put(py, item, block, timeout.as_deref())
            .map(|()| none())
    })
}

/// `get(block=True, timeout=None)`.
///
/// # Safety
///
/// As [`put`].
unsafe extern "C" fn get<T: Hot>(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    if nargs == 0 && kwnames.is_null() {
        // SAFETY: forwarded from our caller.
        unsafe { get_positional::<T>(slf, true) }
    } else {
        // SAFETY: forwarded from our caller.
        unsafe { get_slow::<T>(slf, args, nargs, kwnames) }
    }
}

/// `get_nowait()`, which is `get(block=False)`.
///
/// # Safety
///
/// Called by the interpreter as a `METH_FASTCALL` method of `T`'s type:
/// the thread is attached and `slf` is an instance of `T`.
unsafe extern "C" fn get_nowait<T: Hot>(
    slf: *mut ffi::PyObject,
    _args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    if nargs == 0 {
        // SAFETY: forwarded from our caller.
        unsafe { get_positional::<T>(slf, false) }
    } else {
        no_arguments(c"get_nowait", nargs)
    }
}

/// `get()` or `get_nowait()`: the fast path, and the full operation with
/// `block` if that finds no item.
///
/// # Safety
///
/// The thread is attached and `slf` is a live instance of `T`, borrowed
/// for the call.
#[inline(always)]
unsafe fn get_positional<T: Hot>(slf: *mut ffi::PyObject, block: bool) -> *mut ffi::PyObject {
    // SAFETY: the thread is attached (the contract).
    let py = unsafe { Python::assume_attached() };
    // SAFETY: `slf` is an instance of `T`, alive for the call.
    let queue = unsafe { this::<T>(py, &slf) };
    match queue.get_fast() {
        Some(item) => item.into_ptr(),
        None => get_waiting(queue, block),
    }
}

/// The rest of a positional `get` whose fast path found no item.
#[cold]
#[inline(never)]
fn get_waiting<T: Hot>(queue: &T, block: bool) -> *mut ffi::PyObject {
    attached(|py| queue.get(py, block, None).map(Py::into_ptr))
}

/// `get` called with arguments.
///
/// # Safety
///
/// As [`put`].
#[cold]
#[inline(never)]
unsafe fn get_slow<T: Hot>(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    attached(|py| {
        // SAFETY: forwarded from our caller.
        let queue = unsafe { this::<T>(py, &slf) };
        // SAFETY: forwarded from our caller.
        let [block, timeout] =
            unsafe { parse(py, c"get", &[c"block", c"timeout"], 0, args, nargs, kwnames)? };
        let block = match block {
            Some(block) => block.is_truthy()?,
            None => true,
        };
        // `timeout=None` is the same as no timeout.
        let timeout = timeout.filter(|t| !t.is_none());
        queue.get(py, block, timeout.as_deref()).map(Py::into_ptr)
    })
}

/// `task_done(count=1)`.
///
/// # Safety
///
/// As [`put`].
unsafe extern "C" fn task_done<T: Tasked>(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: the thread is attached (the contract).
    let py = unsafe { Python::assume_attached() };
    // SAFETY: `slf` is an instance of `T`, alive for the call.
    let queue = unsafe { this::<T>(py, &slf) };
    if nargs == 0 && kwnames.is_null() && queue.tasks().done_one() {
        return none();
    }
    // SAFETY: forwarded from our caller.
    unsafe { task_done_slow(queue, args, nargs, kwnames) }
}

/// `task_done` with a count, or with no task left to mark done.
///
/// # Safety
///
/// As [`put`], for the arguments.
#[cold]
#[inline(never)]
unsafe fn task_done_slow<T: Tasked>(
    queue: &T,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    attached(|py| {
        // SAFETY: forwarded from our caller.
        let [count] = unsafe { parse(py, c"task_done", &[c"count"], 0, args, nargs, kwnames)? };
        let count = match count {
            Some(count) => count.extract::<isize>()?,
            None => 1,
        };
        queue.tasks().done(count).map(|()| none())
    })
}

/// `qsize()`.
///
/// # Safety
///
/// As [`get_nowait`].
unsafe extern "C" fn qsize<T: Hot>(
    slf: *mut ffi::PyObject,
    _args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    if nargs != 0 {
        return no_arguments(c"qsize", nargs);
    }
    // SAFETY: the thread is attached (the contract).
    let py = unsafe { Python::assume_attached() };
    // SAFETY: `slf` is an instance of `T`, alive for the call.
    let size = unsafe { this::<T>(py, &slf) }.qsize();
    // SAFETY: returns a new reference, or NULL with MemoryError set, which
    // is what we return either way.
    unsafe { ffi::PyLong_FromSize_t(size) }
}

/// `empty()`.
///
/// # Safety
///
/// As [`get_nowait`].
unsafe extern "C" fn empty<T: Hot>(
    slf: *mut ffi::PyObject,
    _args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    if nargs != 0 {
        return no_arguments(c"empty", nargs);
    }
    // SAFETY: the thread is attached (the contract).
    let py = unsafe { Python::assume_attached() };
    // SAFETY: `slf` is an instance of `T`, alive for the call.
    boolean(unsafe { this::<T>(py, &slf) }.empty())
}

/// `full()`.
///
/// # Safety
///
/// As [`get_nowait`].
unsafe extern "C" fn full<T: Hot>(
    slf: *mut ffi::PyObject,
    _args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    if nargs != 0 {
        return no_arguments(c"full", nargs);
    }
    // SAFETY: the thread is attached (the contract).
    let py = unsafe { Python::assume_attached() };
    // SAFETY: `slf` is an instance of `T`, alive for the call.
    boolean(unsafe { this::<T>(py, &slf) }.full())
}

/// A new reference to `True` or `False`.
fn boolean(value: bool) -> *mut ffi::PyObject {
    // SAFETY: `Py_True`/`Py_False` are the interpreter's static booleans;
    // `Py_NewRef` takes the reference the caller returns.
    unsafe {
        ffi::compat::Py_NewRef(if value {
            ffi::Py_True()
        } else {
            ffi::Py_False()
        })
    }
}

/// Raises the TypeError of a method that takes no arguments, worded as
/// CPython's, and returns NULL.
#[cold]
#[inline(never)]
fn no_arguments(name: &'static CStr, given: ffi::Py_ssize_t) -> *mut ffi::PyObject {
    attached(|_| {
        Err(PyTypeError::new_err(format!(
            "{}() takes no arguments ({given} given)",
            name.to_string_lossy()
        )))
    })
}

/// Reads a call's arguments against `params`, the parameter names in
/// order, of which the first `required` must be given; errors are worded
/// as CPython's own for C functions.
///
/// # Safety
///
/// The thread is attached, and `args` holds `nargs` borrowed positional
/// arguments followed by one borrowed value per name in `kwnames` (a tuple
/// of strings, or NULL), all alive for `'a`.
unsafe fn parse<'a, 'py, const N: usize>(
    py: Python<'py>,
    name: &CStr,
    params: &[&CStr; N],
    required: usize,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<[Option<Borrowed<'a, 'py, PyAny>>; N]> {
    let name = name.to_string_lossy();
    let nargs =
        usize::try_from(nargs).map_err(|_| PySystemError::new_err("negative argument count"))?;
    let kwnames = if kwnames.is_null() {
        None
    } else {
        // SAFETY: a non-NULL `kwnames` is a live tuple (the contract).
        Some(unsafe { Borrowed::from_ptr(py, kwnames).cast_unchecked::<PyTuple>() })
    };
    let nkw = kwnames.map_or(0, |names| names.len());
    let values: &[*mut ffi::PyObject] = if nargs + nkw == 0 {
        &[]
    } else {
        // SAFETY: `args` holds `nargs + nkw` pointers (the contract).
        unsafe { std::slice::from_raw_parts(args, nargs + nkw) }
    };
    // SAFETY: every pointer in `values` is a live object (the contract).
    let value = |i: usize| unsafe { Borrowed::from_ptr(py, values[i]) };
    if nargs > N {
        return Err(PyTypeError::new_err(format!(
            "{name}() takes at most {N} argument{} ({nargs} given)",
            if N == 1 { "" } else { "s" }
        )));
    }
    let mut out: [Option<Borrowed<'a, 'py, PyAny>>; N] = [None; N];
    for (i, slot) in out.iter_mut().enumerate().take(nargs) {
        *slot = Some(value(i));
    }
    if let Some(names) = kwnames {
        for (k, key) in names.iter().enumerate() {
            let key = key
                .cast_into::<PyString>()
                .map_err(|_| PyTypeError::new_err("keywords must be strings"))?;
            let key = key.to_cow()?;
            let Some(i) = params.iter().position(|p| p.to_bytes() == key.as_bytes()) else {
                return Err(PyTypeError::new_err(format!(
                    "{name}() got an unexpected keyword argument '{key}'"
                )));
            };
            if out[i].is_some() {
                return Err(PyTypeError::new_err(format!(
                    "argument for {name}() given by name ('{key}') and position ({})",
                    i + 1
                )));
            }
            out[i] = Some(value(nargs + k));
        }
    }
    if let Some(i) = out.iter().take(required).position(Option::is_none) {
        return Err(PyTypeError::new_err(format!(
            "{name}() missing required argument '{}' (pos {})",
            params[i].to_string_lossy(),
            i + 1
        )));
    }
    Ok(out)
}

/// Points the interpreter's own slots of the awaitable's type (what
/// `await`, `next()` and a task's step call, once per step) at the
/// functions below, in place of PyO3's trampolines:
///
/// - `am_await` returns the operation itself, as `__await__` does.
/// - `tp_iternext` runs a step; a completed operation raises
///   `StopIteration` with its result, built as a generator's `return`
///   builds it.
/// - `am_send` (Python 3.10 and later) runs a step and hands a result back
///   with no exception at all, which Python 3.10 and 3.11 use for every
///   `await`, and every version for a task's steps.
///
/// The Python-level `__await__`, `__next__` and `send` stay PyO3's: the
/// type's descriptors keep the functions they were made with, and do the
/// same.
///
/// # Errors
///
/// `SystemError` if the type has no async slots (PyO3 gives every class
/// with `__await__` one).
pub(crate) fn install_awaitable(ty: &Bound<'_, PyType>) -> PyResult<()> {
    let raw = ty.as_type_ptr();
    // SAFETY: `ty` is a live heap type that no instance or other thread has
    // seen yet (the module is being initialised); its slots are plain
    // fields, and `PyType_Modified` drops what the interpreter cached of
    // them. A heap type's `tp_as_async` points into the type object.
    unsafe {
        let methods = (*raw).tp_as_async;
        if methods.is_null() {
            return Err(PySystemError::new_err("AsyncOperation has no async slots"));
        }
        (*methods).am_await = Some(op_await);
        #[cfg(Py_3_10)]
        {
            (*methods).am_send = Some(op_send);
        }
        (*raw).tp_iternext = Some(op_next);
        ffi::PyType_Modified(raw);
    }
    Ok(())
}

/// An awaitable whose every step is one call, for [`install_stepper`]: the
/// slots call [`step`](Self::step) with the value sent (`None` for
/// `__next__`).
pub(crate) trait Stepper: pyo3::PyClass {
    /// One step: the result, a future to yield, or an error.
    fn step(op: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<Step>;
}

/// Points the slots of `T`'s type at [`stepper_next`] and [`stepper_send`],
/// as [`install_awaitable`] does for the thread queues' awaitable, so that
/// a step that completes at once returns its result without PyO3's
/// trampoline and, where `am_send` is used, without an exception.
///
/// # Errors
///
/// `SystemError` if the type has no async slots.
pub(crate) fn install_stepper<T: Stepper>(ty: &Bound<'_, PyType>) -> PyResult<()> {
    let raw = ty.as_type_ptr();
    // SAFETY: as in `install_awaitable`: a live heap type no instance has
    // seen yet, whose slots are plain fields.
    unsafe {
        let methods = (*raw).tp_as_async;
        if methods.is_null() {
            return Err(PySystemError::new_err("the awaitable has no async slots"));
        }
        (*methods).am_await = Some(op_await);
        #[cfg(Py_3_10)]
        {
            (*methods).am_send = Some(stepper_send::<T>);
        }
        (*raw).tp_iternext = Some(stepper_next::<T>);
        ffi::PyType_Modified(raw);
    }
    Ok(())
}

/// `__next__` of a [`Stepper`].
///
/// # Safety
///
/// Called by the interpreter as the `tp_iternext` slot of `T`'s type
/// (which has no subclasses): the thread is attached and `slf` is a live
/// `T`.
unsafe extern "C" fn stepper_next<T: Stepper>(slf: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: the thread is attached (the contract).
    let py = unsafe { Python::assume_attached() };
    // SAFETY: `slf` is a live `T` (the contract).
    let op = unsafe { Bound::ref_from_ptr(py, &slf).cast_unchecked::<T>() };
    match guarded(|py| T::step(op, &py.None().into_bound(py))) {
        Some(Step::Yield(future)) => future.into_ptr(),
        Some(Step::Done(result)) => stop_iteration(result),
        None => std::ptr::null_mut(),
    }
}

/// `send(value)` of a [`Stepper`]: a completed step returns its result as
/// `PYGEN_RETURN`.
///
/// # Safety
///
/// Called by the interpreter as the `am_send` slot of `T`'s type: the
/// thread is attached, `slf` is a live `T`, `value` a live object, and
/// `result` points to writable storage for one reference.
#[cfg(Py_3_10)]
unsafe extern "C" fn stepper_send<T: Stepper>(
    slf: *mut ffi::PyObject,
    value: *mut ffi::PyObject,
    result: *mut *mut ffi::PyObject,
) -> ffi::PySendResult {
    // SAFETY: the thread is attached (the contract).
    let py = unsafe { Python::assume_attached() };
    // SAFETY: `slf` is a live `T` and `value` a live object (the contract).
    let (op, value) = unsafe {
        (
            Bound::ref_from_ptr(py, &slf).cast_unchecked::<T>(),
            Bound::ref_from_ptr(py, &value),
        )
    };
    let (status, out) = match guarded(|_| T::step(op, value)) {
        Some(Step::Yield(future)) => (ffi::PySendResult::PYGEN_NEXT, future.into_ptr()),
        Some(Step::Done(value)) => (ffi::PySendResult::PYGEN_RETURN, value.into_ptr()),
        None => (ffi::PySendResult::PYGEN_ERROR, std::ptr::null_mut()),
    };
    // SAFETY: `result` is writable (the contract); it takes the reference.
    unsafe { *result = out };
    status
}

/// `__await__`: the operation is its own iterator.
///
/// # Safety
///
/// Called by the interpreter as the `am_await` slot of the awaitable's
/// type: the thread is attached and `slf` is a live object.
unsafe extern "C" fn op_await(slf: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: `slf` is a live object (the contract); the new reference is
    // what the caller takes.
    unsafe { ffi::compat::Py_NewRef(slf) }
}

/// The operation a slot was called on.
///
/// # Safety
///
/// `slf` must point to a live `AsyncOp`, which stays alive for `'a`, and
/// the thread must be attached.
#[inline(always)]
unsafe fn operation<'a, 'py: 'a>(
    py: Python<'py>,
    slf: &'a *mut ffi::PyObject,
) -> &'a Bound<'py, AsyncOp> {
    // SAFETY: forwarded from our caller; the type is final, so `slf` is an
    // `AsyncOp` and nothing else.
    unsafe { Bound::ref_from_ptr(py, slf).cast_unchecked::<AsyncOp>() }
}

/// `__next__`: one step; a completed operation raises `StopIteration`
/// with its result.
///
/// # Safety
///
/// Called by the interpreter as the `tp_iternext` slot of the awaitable's
/// type: the thread is attached and `slf` is a live `AsyncOp`.
unsafe extern "C" fn op_next(slf: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: the thread is attached (the contract).
    let py = unsafe { Python::assume_attached() };
    // SAFETY: forwarded from our caller.
    let op = unsafe { operation(py, &slf) };
    // The fast path: panic-free, and it releases no Python object.
    let step = match AsyncOp::at_once(op) {
        Some(result) => Some(Step::Done(result)),
        None => step_slow(op),
    };
    match step {
        Some(Step::Yield(future)) => future.into_ptr(),
        Some(Step::Done(result)) => stop_iteration(result),
        None => std::ptr::null_mut(),
    }
}

/// The full step of an operation that did not complete at once: `None`
/// with the exception set when it raised.
#[cold]
#[inline(never)]
fn step_slow(op: &Bound<'_, AsyncOp>) -> Option<Step> {
    guarded(|_| AsyncOp::step_of(op))
}

/// Raises `StopIteration` carrying `value` as CPython's generators do for
/// `return value`, and returns NULL. The exception object is built only
/// where the value could be mistaken for the arguments (a tuple) or for
/// the exception itself; otherwise the interpreter may take the value
/// straight back without building it.
fn stop_iteration(value: Py<PyAny>) -> *mut ffi::PyObject {
    let raw = value.into_ptr();
    // SAFETY: `raw` is a live object whose reference we own; `StopIteration`
    // is a static exception type. `PyErr_SetObject` takes its own
    // references, and ours is released last. Every function here is called
    // attached, with no exception set (the step succeeded).
    unsafe {
        let stop = ffi::PyExc_StopIteration;
        if ffi::PyTuple_Check(raw) == 0 && ffi::PyExceptionInstance_Check(raw) == 0 {
            ffi::PyErr_SetObject(stop, raw);
        } else {
            let exception = ffi::PyObject_CallOneArg(stop, raw);
            if !exception.is_null() {
                ffi::PyErr_SetObject(stop, exception);
                ffi::Py_DECREF(exception);
            }
        }
        ffi::Py_DECREF(raw);
    }
    std::ptr::null_mut()
}

/// `send(value)`: one step; the value sent is ignored, as `send` ignores
/// it. A completed operation returns its result as `PYGEN_RETURN`.
///
/// # Safety
///
/// Called by the interpreter as the `am_send` slot of the awaitable's
/// type: the thread is attached, `slf` is a live `AsyncOp`, `value` a live
/// object, and `result` points to writable storage for one reference.
#[cfg(Py_3_10)]
unsafe extern "C" fn op_send(
    slf: *mut ffi::PyObject,
    _value: *mut ffi::PyObject,
    result: *mut *mut ffi::PyObject,
) -> ffi::PySendResult {
    // SAFETY: the thread is attached (the contract).
    let py = unsafe { Python::assume_attached() };
    // SAFETY: forwarded from our caller.
    let op = unsafe { operation(py, &slf) };
    // The fast path: panic-free, and it releases no Python object.
    let step = match AsyncOp::at_once(op) {
        Some(result) => Some(Step::Done(result)),
        None => step_slow(op),
    };
    let (status, out) = match step {
        Some(Step::Yield(future)) => (ffi::PySendResult::PYGEN_NEXT, future.into_ptr()),
        Some(Step::Done(value)) => (ffi::PySendResult::PYGEN_RETURN, value.into_ptr()),
        None => (ffi::PySendResult::PYGEN_ERROR, std::ptr::null_mut()),
    };
    // SAFETY: `result` is writable (the contract); it takes the reference.
    unsafe { *result = out };
    status
}
