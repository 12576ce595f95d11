//! Checks shared by the loom models of the different queues.
#![allow(dead_code)] // each model file uses a different part

use std::time::Duration;

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use ringq::{BoundedQueue, Closed, PopTimeoutError, TryPopError, TryPushError, UnboundedQueue};

/// Inside a loom model: a close publishes what its thread did before it.
/// One thread writes a cell and then calls `close`; this thread looks with
/// `sees_closed` (`is_closed`, or a pop that reports Closed) until that
/// says the queue is closed, and reads the cell, which loom checks is
/// ordered after the write.
pub fn close_publishes_what_preceded_it(
    close: impl FnOnce() + Send + 'static,
    sees_closed: impl Fn() -> bool,
) {
    let note = Arc::new(UnsafeCell::new(0));
    let closer = {
        let note = note.clone();
        thread::spawn(move || {
            // SAFETY: this thread reads the cell only after it has seen the
            // close, which loom checks is ordered after this write.
            note.with_mut(|p| unsafe { *p = 7 });
            close();
        })
    };
    while !sees_closed() {
        thread::yield_now();
    }
    // SAFETY: as above.
    assert_eq!(note.with(|p| unsafe { *p }), 7);
    closer.join().unwrap();
}

/// How a thread learns that a queue is closed: from `is_closed`, or from
/// one of the calls that report Closed.
#[derive(Clone, Copy, Debug)]
pub enum Sees {
    IsClosed,
    TryPop,
    /// The blocking pop.
    Pop,
    /// The timed pop (under loom its wait times out at the first sleep).
    PopTimeout,
    TryPopMany,
    /// The blocking batch pop.
    PopMany,
    /// A push, which reports Closed once the queue is closed.
    TryPush,
}

impl Sees {
    /// The pops, which report Closed once the queue is closed and drained.
    pub const POPS: [Self; 5] = [
        Self::TryPop,
        Self::Pop,
        Self::PopTimeout,
        Self::TryPopMany,
        Self::PopMany,
    ];
}

/// A queue of `u32` (or the half of one) that [`close_publishes_what_preceded_it`]
/// can watch for the close.
pub trait SeesClosed {
    /// Looks once, by way of `how`, at a queue that nothing was pushed to
    /// before: whether that reported the queue closed. A blocking pop
    /// returns only once it is.
    fn sees_closed(&self, how: Sees) -> bool;
}

/// The pops, written once for every queue that has them.
macro_rules! pops_see_closed {
    ($q:expr, $how:expr) => {
        match $how {
            Sees::TryPop => match $q.try_pop() {
                Err(TryPopError::Closed) => true,
                Err(TryPopError::Empty) => false,
                Ok(v) => panic!("popped {v}, which nobody pushed"),
            },
            Sees::Pop => {
                let Err(Closed) = $q.pop() else {
                    panic!("popped an item nobody pushed")
                };
                true
            }
            Sees::PopTimeout => match $q.pop_timeout(Duration::from_millis(1)) {
                Err(PopTimeoutError::Closed) => true,
                Err(PopTimeoutError::Timeout) => false,
                Ok(v) => panic!("popped {v}, which nobody pushed"),
            },
            Sees::TryPopMany => match $q.try_pop_many(&mut Vec::new(), 2) {
                Err(Closed) => true,
                Ok(0) => false,
                Ok(n) => panic!("popped {n} items nobody pushed"),
            },
            Sees::PopMany => {
                let Err(Closed) = $q.pop_many(&mut Vec::new(), 2) else {
                    panic!("popped items nobody pushed")
                };
                true
            }
            Sees::IsClosed => $q.is_closed(),
            Sees::TryPush => unreachable!("handled by the caller"),
        }
    };
}

/// The MPMC queues: every way to see the close. A push that lands leaves
/// its item in the queue, where no pop in the same look can take it.
macro_rules! mpmc_sees_closed {
    ($q:ty) => {
        impl SeesClosed for $q {
            fn sees_closed(&self, how: Sees) -> bool {
                match how {
                    Sees::TryPush => matches!(self.try_push(1), Err(TryPushError::Closed(_))),
                    _ => pops_see_closed!(self, how),
                }
            }
        }
    };
}

mpmc_sees_closed!(BoundedQueue<u32>);
mpmc_sees_closed!(UnboundedQueue<u32>);

/// The consumer half of an SPSC queue: `is_closed` and the pops.
impl SeesClosed for ringq::spsc::Consumer<u32> {
    fn sees_closed(&self, how: Sees) -> bool {
        match how {
            Sees::TryPush => panic!("a consumer does not push"),
            _ => pops_see_closed!(self, how),
        }
    }
}
