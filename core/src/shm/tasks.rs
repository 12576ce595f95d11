//! The segment's task counter: how many messages were pushed as tasks and
//! not yet reported done, for `task_done`/`join` across processes.
//!
//! The count is one word in the header. Adding and finishing tasks are CAS
//! loops, so the count never goes below zero or wraps; finishing the last
//! one wakes every joiner (`wait.rs`, the `Join` side).
//!
//! A process that dies between adding a task and pushing its message, or
//! between popping a task and reporting it done, leaves the count too high,
//! and `join` then waits until its deadline: the counter cannot know which
//! tasks a dead process held. `multiprocessing.JoinableQueue` has the same
//! limit.

use super::error::ShmError;
use super::segment::{Segment, Side};
use super::wait;
use crate::loom::Ordering;

/// Adds `n` unfinished tasks.
///
/// # Errors
///
/// [`ShmError::Corrupt`] if the count would overflow, which only a damaged
/// count can make it do.
pub(crate) fn add(seg: &Segment, n: u64) -> Result<(), ShmError> {
    // Relaxed: a count; `done` and `join` order the work it stands for.
    seg.unfinished()
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_add(n))
        .map(drop)
        .map_err(|_| ShmError::Corrupt("the task count overflowed"))
}

/// Marks `n` tasks done, waking joiners when none is left.
///
/// # Errors
///
/// [`ShmError::TaskDoneTooOften`] if fewer than `n` are unfinished; the
/// count is unchanged then.
pub(crate) fn done(seg: &Segment, n: u64) -> Result<(), ShmError> {
    // AcqRel: Release so that a joiner that sees the count reach zero sees
    // the work done before; Acquire to chain with earlier finishers.
    let before = seg
        .unfinished()
        .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |v| v.checked_sub(n))
        .map_err(|_| ShmError::TaskDoneTooOften)?;
    if before == n {
        wait::notify(seg, Side::Join, true);
    }
    Ok(())
}

/// The number of unfinished tasks (a snapshot).
pub(crate) fn unfinished(seg: &Segment) -> u64 {
    // Acquire: pairs with `done`'s Release, so a caller that sees zero sees
    // the work that finished the tasks.
    seg.unfinished().load(Ordering::Acquire)
}
