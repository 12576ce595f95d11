//! Lock-free ring-buffer queues. (Crate tour: written with the queues.)
#![warn(missing_docs)]

mod blocking;
mod buffer;
mod loom;

pub mod error;
pub mod mpmc;
pub mod spsc;
pub mod unbounded;
pub mod wait;

pub use error::{
    CapacityError, Closed, PopTimeoutError, PushError, PushTimeoutError, TryPopError,
    TryPushError,
};
pub use mpmc::BoundedQueue;
pub use unbounded::UnboundedQueue;
