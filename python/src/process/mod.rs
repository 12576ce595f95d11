//! `ringq.ProcessQueue` and `ringq.JoinableProcessQueue`: queues between
//! processes, on the core's shared-memory queue (`ringq::shm`).
//!
//! Layout:
//! - [`class`]: the two Python classes.
//! - [`transfer`]: pushing and popping messages, waiting when needed.
//! - [`codec`]: objects to messages and back (pickle, protocol 5).
//! - [`timeout`]: `block`/`timeout` as `multiprocessing` reads them, and
//!   waits in slices that let Ctrl-C through.
//! - [`raw`]: the two places that touch Python memory directly.
//! - [`segments`]: who removes a named queue's name, and when.
//! - [`errors`]: the exceptions.
//! - [`watches`]: the readiness descriptors (`fileno()`); [`ready`]: them
//!   and the async methods as Python sees them; [`awaitable`]: what the
//!   async methods return.
//!
//! # GC, threads and fork
//!
//! The queue holds bytes in shared memory, never Python objects, so the
//! classes hold no references the garbage collector would need to see and
//! need no GC support. A thread that waits is detached from the
//! interpreter and only copies bytes. Every class is `frozen`: the state is
//! the core handle (`Sync`) and atomics. A child forked while other threads
//! of the parent are blocked in the queue starts with a handle that takes
//! its own participant entry at its first use; the parent's blocked
//! threads do not exist in the child and hold nothing it needs.

mod awaitable;
mod class;
pub(crate) mod codec;
mod errors;
mod raw;
mod ready;
mod segments;
mod timeout;
mod transfer;
mod watches;

use pyo3::prelude::*;

// Within the object's alignment, as the other classes are (see lib.rs).
const _: () = {
    assert!(std::mem::align_of::<class::ProcessQueue>() <= crate::OBJECT_ALIGN);
    assert!(std::mem::align_of::<class::JoinableProcessQueue>() <= crate::OBJECT_ALIGN);
};

/// Adds the classes to the extension module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<class::ProcessQueue>()?;
    m.add_class::<class::JoinableProcessQueue>()?;
    m.add_class::<awaitable::ProcessOp>()?;
    let py = m.py();
    crate::fastcall::install_stepper::<awaitable::ProcessOp>(
        &py.get_type::<awaitable::ProcessOp>(),
    )?;
    Ok(())
}
