//! `ringq.amqp`: RabbitMQ behind the queue API, on the core's `ringq::amqp`
//! bridge (its I/O thread does all the network work, without the GIL).
//!
//! - [`consumer`]: the consumer as `ringq.amqp._Consumer`, whose `get`
//!   waits detached, in slices that let Ctrl-C through.
//! - [`publisher`]: the publisher as `ringq.amqp._Publisher`.
//! - [`message`]: `ringq.amqp.Message`, a delivered message.
//! - [`errors`]: the bridge's errors as the exceptions of `ringq.amqp`.
//!
//! `python/ringq/amqp.py` wraps the first two in `Consumer` and
//! `Publisher`: per-thread `task_done()`, context managers, pickling.

mod consumer;
mod errors;
mod message;
mod publisher;
mod wait;

use pyo3::prelude::*;

/// The content type of a body that `Publisher.put(obj)` pickled.
pub(crate) const PICKLE_CONTENT_TYPE: &str = "application/x-python-pickle";

/// Adds the classes to the extension module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<consumer::Consumer>()?;
    m.add_class::<publisher::Publisher>()?;
    m.add_class::<message::Message>()?;
    m.add("AMQP_PICKLE_CONTENT_TYPE", PICKLE_CONTENT_TYPE)?;
    Ok(())
}
