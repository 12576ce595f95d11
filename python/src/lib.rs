//! Python bindings for ringq: `ringq.Queue`, `ringq.SimpleQueue` and
//! `ringq.SPSCQueue`, drop-in replacements for the standard library's
//! `queue` classes built on the crate's lock-free queues.
//!
//! Layout:
//! - [`queue`], [`simple`], [`spsc`]: one file per Python class.
//! - [`ops`]: `get`/`put` and their batch forms, shared by the classes.
//! - [`blocking`]: waits that release the GIL in slices and check signals.
//! - [`backing`]: the bounded-or-unbounded core queue behind `Queue`.
//! - [`errors`]: the exceptions (the standard library's own).
//! - [`lifo`], [`priority`]: `LifoQueue` and `PriorityQueue`, on
//!   [`ordered`] (their shared `queue.Queue` semantics, with
//!   [`ordered_methods`] their Python methods), [`exclusive`] (the vector
//!   one thread owns at a time), [`heap`], [`compare`] and [`tasks`].
//! - [`subclass`]: subclassing, and the standard library's `_put`/`_get`
//!   hooks, for every class.
//!
//! Every class is `frozen` and keeps its state in atomics or in the core's
//! lock-free queues, so the module declares it does not need the GIL and
//! is built to be correct on free-threaded CPython (not yet tested there).
//! No Rust lock is held while Python code runs or a Python object is
//! released. (`LifoQueue` and `PriorityQueue` keep their items in a vector
//! that one thread owns at a time, across the comparisons too; a thread
//! that waits for it waits detached, see [`exclusive`].)
// Nothing here is public Rust API: these docs are for the people working
// on the extension, and link its private modules on purpose.
#![allow(rustdoc::private_intra_doc_links)]

mod backing;
mod blocking;
mod compare;
mod errors;
mod exclusive;
mod heap;
mod lifo;
mod ops;
mod ordered;
mod ordered_methods;
mod priority;
mod queue;
mod simple;
mod spsc;
mod subclass;
mod tasks;

use pyo3::prelude::*;

/// Lock-free queues for Python threads (the compiled part of `ringq`).
#[pymodule(gil_used = false)]
fn _ringq(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<queue::Queue>()?;
    m.add_class::<simple::SimpleQueue>()?;
    m.add_class::<spsc::SpscQueue>()?;
    m.add_class::<lifo::LifoQueue>()?;
    m.add_class::<priority::PriorityQueue>()?;
    exclusive::register_fork_handler(m)?;
    m.add("Empty", py.get_type::<errors::Empty>())?;
    m.add("Full", py.get_type::<errors::Full>())?;
    m.add("ShutDown", errors::shutdown_type(py)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
