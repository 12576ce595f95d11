//! Lock-free ring-buffer queues: bounded SPSC, bounded MPMC, and unbounded
//! MPMC, with blocking operations that spin briefly, then park.
//!
//! | queue | type | when to use it |
//! |---|---|---|
//! | bounded SPSC | [`spsc::channel`] → [`spsc::Producer`], [`spsc::Consumer`] | exactly one thread pushes and one pops: the fastest |
//! | bounded MPMC | [`BoundedQueue`] | any number of threads, with back-pressure |
//! | unbounded MPMC | [`UnboundedQueue`] | any number of threads, pushes never wait |
//! | shared-memory MPMC (Linux) | `shm::ShmQueue` | byte messages between processes of one machine |
//!
//! Every queue has the same operations:
//!
//! - `try_push` / `try_pop` never wait for room or for an item: on a full
//!   or empty queue they return at once. A failed push hands the value back
//!   ([`TryPushError`]); a failed pop says whether the queue was empty or
//!   closed ([`TryPopError`]). They never park or take a lock, but see
//!   [progress](#progress): in the MPMC queues they may spin for a moment
//!   on another thread's unfinished push or pop.
//! - `push` / `pop` block; `push_timeout`, `pop_timeout`, `push_deadline`
//!   and `pop_deadline` block for a while at most.
//! - Batches: `try_push_slice`, `try_push_vec` and `push_iter` push many
//!   items, `try_pop_into`, `try_pop_many` and `pop_many` pop many, claiming
//!   many slots in one atomic step. An empty batch (no items, or room for
//!   none) is a no-op that returns `Ok(0)`, even on a closed queue.
//! - `close` stops pushes; pops drain what is left, then report closed, and
//!   every blocked thread wakes. Dropping one half of an SPSC queue closes it.
//!   A thread that learns of the close, from `is_closed` or from a pop or
//!   push that reports it, sees everything the closing thread did before
//!   `close`.
//! - `len`, `is_empty`, `is_full`, `capacity`.
//!
//! Capacities are exact: a queue created with capacity 3 holds 3 items.
//! Capacity 0, or one whose buffer cannot be allocated, is a
//! [`CapacityError`], never a panic or an abort.
//!
//! # Examples
//!
//! A worker pool: tasks go out on one queue, results come back on another,
//! and closing the task queue shuts the pool down.
//!
//! ```
//! use std::sync::Arc;
//! use std::thread;
//! use ringq::{BoundedQueue, UnboundedQueue};
//!
//! let tasks = Arc::new(BoundedQueue::new(64).unwrap());
//! let results = Arc::new(UnboundedQueue::new());
//!
//! let workers: Vec<_> = (0..4)
//!     .map(|_| {
//!         let (tasks, results) = (Arc::clone(&tasks), Arc::clone(&results));
//!         thread::spawn(move || {
//!             // `pop` blocks while the queue is empty and fails once it is
//!             // closed and drained: that ends the worker.
//!             while let Ok(n) = tasks.pop() {
//!                 results.push(n * n).unwrap();
//!             }
//!         })
//!     })
//!     .collect();
//!
//! for n in 0..1000u64 {
//!     tasks.push(n).unwrap(); // blocks while 64 tasks are waiting
//! }
//! tasks.close();
//! workers.into_iter().for_each(|w| w.join().unwrap());
//!
//! let mut sum = 0;
//! while let Ok(square) = results.try_pop() {
//!     sum += square;
//! }
//! assert_eq!(sum, (0..1000u64).map(|n| n * n).sum());
//! ```
//!
//! A single-producer single-consumer pipeline stage, moving items in batches:
//!
//! ```
//! let (tx, rx) = ringq::spsc::channel(256).unwrap();
//! let producer = std::thread::spawn(move || {
//!     let items: Vec<u32> = (0..10_000).collect();
//!     tx.push_iter(items).unwrap();
//! }); // dropping `tx` closes the queue
//!
//! let mut batch = Vec::with_capacity(64);
//! let mut next = 0;
//! while rx.pop_many(&mut batch, 64).is_ok() {
//!     for item in batch.drain(..) {
//!         assert_eq!(item, next);
//!         next += 1;
//!     }
//! }
//! assert_eq!(next, 10_000);
//! producer.join().unwrap();
//! ```
//!
//! The shared-memory queue ([`shm`], Linux only) carries byte messages
//! between processes rather than values between threads; its module docs
//! say what it is and is not, and how it survives processes killed in the
//! middle of an operation.
//!
//! # How the queues work
//!
//! **SPSC** ([`spsc`]) is the design of rigtorp's `SPSCQueue` and rtrb. The
//! producer alone writes `tail`, the consumer alone writes `head`, each on its
//! own cache line. Each side caches the other's index and rereads it only
//! when its cached copy says full (or empty), so an uncontended push or pop
//! touches no line the other side writes.
//!
//! **Bounded MPMC** ([`mpmc`]) is Dmitry Vyukov's queue in the variant of
//! crossbeam's `ArrayQueue`: every slot carries a stamp saying which position
//! it is ready for. Threads race for a position with one CAS on `head` or
//! `tail`; the winner alone touches the slot, then flips its stamp. The
//! closed flag is a bit of `tail`, so a push and a close are ordered by that
//! word and no pushed item is ever stranded.
//!
//! **Unbounded MPMC** ([`unbounded`]) links ring segments of 31 slots, like
//! crossbeam's `SegQueue`. The pusher that fills a segment installs the next
//! one (allocated before its CAS), and the last popper to leave a segment
//! frees it, so memory follows the number of items held.
//!
//! **Blocking** ([`wait`]) spins with exponential backoff, then parks on a
//! futex (a mutex and condition variable outside Linux), holding no lock. A
//! waiter registers, then rechecks the queue; the other side publishes its
//! change, then looks for waiters. A full barrier on each side makes it
//! impossible for both to miss each other, so no wake-up is lost. The
//! pusher's and popper's barrier is the cheap half of an asymmetric pair: on
//! Linux a compiler fence (an instruction-free one: it only stops the
//! compiler from reordering), while a waiter about to park pays for
//! `membarrier`, which fences every thread of the process. So when nobody
//! waits, the wake path of a push or pop is one atomic load: no fence
//! instruction, no system call. Where membarrier is missing, both halves are
//! SeqCst fences. The process registers for membarrier the first time a
//! thread parks, not when a queue is created, so short-lived programs that
//! never block never pay for it. A deadline that has already passed (a zero
//! timeout) tries once and returns. Callers that must return periodically
//! (to check for signals, say) wait in slices with the `*_deadline` methods.
//!
//! # Progress
//!
//! The SPSC halves' non-blocking operations are wait-free: each finishes
//! in a bounded number of its own steps, whatever the other half does.
//!
//! The MPMC queues, like crossbeam's `ArrayQueue` and `SegQueue` whose
//! designs they follow, are not lock-free in the strict sense. A push
//! claims its slot with a CAS and then writes it; a pop that reaches that
//! slot in between (or a push that reaches a slot a pop has claimed but not
//! yet read) cannot skip it, and spins, with backoff and then yielding,
//! until the other thread finishes its step. That step is a few
//! instructions, so the wait is normally nanoseconds, but if the other
//! thread is preempted right there, a `try_push` or `try_pop` on the same
//! slot waits until it runs again. The unbounded queue's poppers also wait
//! this way for the pusher that is linking in the next segment. A failed
//! CAS, by contrast, only means another thread made progress; the loser
//! retries at once.
//!
//! # Why each memory ordering is what it is
//!
//! - **Data moves with Release/Acquire pairs.** A push writes the slot, then
//!   publishes it with a Release store (SPSC: `tail`; MPMC: the slot stamp;
//!   unbounded: the slot's `WRITE` bit). The pop that Acquires that store
//!   sees the item. The mirror pair (SPSC `head`, the stamp written after a
//!   pop) keeps a pusher from overwriting a slot still being read.
//! - **CASes that only pick an owner are Relaxed.** In the bounded MPMC ring
//!   the stamps carry the data, so the CAS on `head`/`tail` only has to be
//!   atomic. The unbounded queue's CASes are SeqCst because there the index
//!   also tells a popper, through a SeqCst fence, whether a slot was claimed.
//! - **SeqCst fences where a thread must not miss another's write to a
//!   different location**: the wake-up protocol (queue state vs. sleeper
//!   count, with the asymmetric pair above standing in for two fences), and
//!   the "is it really empty / full?" checks, which read `tail` after a slot
//!   stamp (or `head` after a stamp). We use fences rather than SeqCst loads
//!   and stores because they say exactly which two accesses are ordered, and
//!   because loom checks fences faithfully (under loom the asymmetric pair
//!   is two SeqCst fences).
//!
//! Every atomic access in the source carries a comment with its reason.
//!
//! # Verification
//!
//! Every protocol is model-checked with [loom](https://docs.rs/loom): run
//! `make test-loom`, or
//! `RUSTFLAGS="--cfg loom" cargo test --release -p ringq --test 'loom_*'`.
//! Each queue is also checked against a `VecDeque` model over random
//! operation sequences (proptest), and stress tests in the `ringq-tests`
//! crate check exactly-once delivery and per-producer order under load.
#![warn(missing_docs)]

mod barrier;
mod blocking;
mod buffer;
mod futex;
mod loom;

// The feature needs lapin's minimum Rust, not the crate's.
#[cfg(feature = "amqp")]
#[clippy::msrv = "1.88"]
pub mod amqp;
pub mod error;
pub mod mpmc;
#[cfg(target_os = "linux")]
pub mod shm;
pub mod spsc;
pub mod unbounded;
pub mod wait;

pub use error::{
    CapacityError, Closed, PopTimeoutError, PushError, PushTimeoutError, TryPopError, TryPushError,
};
pub use mpmc::BoundedQueue;
pub use unbounded::UnboundedQueue;

/// The examples in the crate's README, compiled and run as doctests. The
/// README is part of the published package, so this works there too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
