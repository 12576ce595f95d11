//! Python bindings for ringq: `ringq.Queue`, `ringq.SimpleQueue` and
//! `ringq.SPSCQueue`, drop-in replacements for the standard library's
//! `queue` classes built on the crate's lock-free queues.
//!
//! Layout:
//! - [`aio`]: the async face, `await q.async_get()` and friends on every
//!   thread queue, from any event loop.
//! - [`queue`], [`simple`], [`spsc`]: one file per Python class.
//! - [`fastcall`]: the per-item methods (`put`, `get`, ...), written
//!   against the C API; every raw C-API function lives there.
//! - [`blocking`]: waits that release the GIL in slices and check signals,
//!   and the rule for where items may move.
//! - [`backing`]: the core queues behind `Queue` and `SimpleQueue`, and
//!   what `maxsize` and `shutdown()` do to them.
//! - [`tasks`]: the unfinished-task count behind `task_done()`/`join()`.
//! - [`ops`]: the batch helpers the classes share.
//! - [`errors`]: the exceptions (the standard library's own).
//! - [`lifo`], [`priority`]: `LifoQueue` and `PriorityQueue`, on
//!   [`ordered`] (their shared `queue.Queue` semantics, with
//!   [`ordered_methods`] their Python methods), [`exclusive`] (the vector
//!   one thread owns at a time), [`heap`], [`compare`] and [`tasks`].
//! - [`process`]: `ProcessQueue` and `JoinableProcessQueue`, between
//!   processes, on the core's shared-memory queue (Linux only).
//! - [`subclass`]: subclassing, and the standard library's `_put`/`_get`
//!   hooks, for every class.
//!
//! Every class is `frozen` and keeps its state in atomics or in the core's
//! lock-free queues, so the module declares it does not need the GIL and is
//! written to be correct on free-threaded CPython, where it has not been
//! tested yet. No Rust lock is held while Python code runs or a Python
//! object is released. (`LifoQueue` and `PriorityQueue` keep their items in
//! a vector that one thread owns at a time, across the comparisons too; a
//! thread that waits for it waits detached, see [`exclusive`].)
// Nothing here is public Rust API: these docs are for the people working
// on the extension, and link its private modules on purpose.
#![allow(rustdoc::private_intra_doc_links)]

mod aio;
#[cfg(all(target_os = "linux", feature = "amqp"))]
mod amqp;
mod backing;
mod blocking;
mod compare;
mod errors;
mod exclusive;
mod fastcall;
mod heap;
mod lifo;
mod ops;
mod ordered;
mod ordered_methods;
mod priority;
#[cfg(target_os = "linux")]
mod process;
mod queue;
mod simple;
mod spsc;
mod subclass;
mod tasks;

use pyo3::prelude::*;

/// What CPython's allocator aligns objects to. PyO3 places a class's
/// fields inside the object, so a field that needs more (a cache-padded
/// counter, say) would be misaligned, which is undefined behaviour. Such
/// fields are boxed; the checks below keep it so.
// Used only by anonymous consts, which older compilers (the declared
// minimum among them) do not count as a use.
#[allow(dead_code)]
const OBJECT_ALIGN: usize = 16;

const _: () = {
    assert!(std::mem::align_of::<queue::Queue>() <= OBJECT_ALIGN);
    assert!(std::mem::align_of::<simple::SimpleQueue>() <= OBJECT_ALIGN);
    assert!(std::mem::align_of::<spsc::SpscQueue>() <= OBJECT_ALIGN);
    assert!(std::mem::align_of::<lifo::LifoQueue>() <= OBJECT_ALIGN);
    assert!(std::mem::align_of::<priority::PriorityQueue>() <= OBJECT_ALIGN);
};

/// Lock-free queues for Python threads (the compiled part of `ringq`).
#[pymodule(gil_used = false)]
fn _ringq(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<queue::Queue>()?;
    m.add_class::<simple::SimpleQueue>()?;
    m.add_class::<spsc::SpscQueue>()?;
    m.add_class::<lifo::LifoQueue>()?;
    m.add_class::<priority::PriorityQueue>()?;
    m.add_class::<aio::op::AsyncOp>()?;
    fastcall::install_awaitable(&py.get_type::<aio::op::AsyncOp>())?;
    exclusive::register_fork_handler(m)?;
    fastcall::install::<queue::Queue>(&py.get_type::<queue::Queue>(), &queue::METHOD_DOCS)?;
    fastcall::install_task_done::<queue::Queue>(
        &py.get_type::<queue::Queue>(),
        &queue::TASK_DONE_DOC,
    )?;
    fastcall::install::<simple::SimpleQueue>(
        &py.get_type::<simple::SimpleQueue>(),
        &simple::METHOD_DOCS,
    )?;
    fastcall::install::<spsc::SpscQueue>(&py.get_type::<spsc::SpscQueue>(), &spsc::METHOD_DOCS)?;
    #[cfg(target_os = "linux")]
    process::register(m)?;
    #[cfg(all(target_os = "linux", feature = "amqp"))]
    amqp::register(m)?;
    m.add("Empty", py.get_type::<errors::Empty>())?;
    m.add("Full", py.get_type::<errors::Full>())?;
    m.add("ShutDown", errors::shutdown_type(py)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
