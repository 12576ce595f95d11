//! `ringq_shm_watch`: a readiness descriptor for a `ringq_shm` queue, so
//! that `poll`, `epoll`, `select` and event loops can wait on the queue
//! together with sockets, pipes and timers.
//!
//! The handle wraps the core's `ringq::shm::Watch`; its documentation (the
//! module `shm::watch` of the Rust crate) describes the thread behind the
//! descriptor and why no message is missed. The doc comments here become
//! the header's.

use std::ffi::c_int;

use ringq_core::shm::{Event, Watch};

use crate::errno::preserving_errno;
use crate::ffi::{arg_ref, ffi_guard};
use crate::ops;
use crate::result::ringq_result::{self, *};
use crate::shm::{io_result, ringq_shm};

/// What a `ringq_shm_watch` waits for.
///
/// `ringq_shm_watch_new` takes it as a plain 32-bit integer (the C type of
/// `ringq_shm_event`), so that any value can be passed and checked: values
/// other than these are refused with `RINGQ_ERR_INVALID_ARGUMENT`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ringq_shm_event {
    /// A message may be waiting to be popped, or the queue was closed (a
    /// pop then says so).
    RINGQ_SHM_EVENT_MESSAGE = 0,
    /// A slot may be free for a push, or the queue was closed.
    RINGQ_SHM_EVENT_ROOM = 1,
    /// No task may be unfinished: `ringq_shm_join_timeout` would return.
    RINGQ_SHM_EVENT_TASKS_DONE = 2,
}

impl ringq_shm_event {
    /// The event with this number, or `RINGQ_ERR_INVALID_ARGUMENT`.
    fn from_u32(value: u32) -> Result<Event, ringq_result> {
        use ringq_shm_event::*;
        Ok(match value {
            v if v == RINGQ_SHM_EVENT_MESSAGE as u32 => Event::Message,
            v if v == RINGQ_SHM_EVENT_ROOM as u32 => Event::Room,
            v if v == RINGQ_SHM_EVENT_TASKS_DONE as u32 => Event::TasksDone,
            _ => return Err(RINGQ_ERR_INVALID_ARGUMENT),
        })
    }
}

/// A readiness descriptor for one event of a `ringq_shm` queue: a file
/// descriptor (`ringq_shm_watch_fd`) that turns readable when the event may
/// have happened, for `poll`, `epoll`, `select` and event loops.
///
/// Behind it are an `eventfd` and one thread of the watch, which sleeps on
/// the queue as a blocked pop (or push, or join) would, woken by any
/// process, and makes the descriptor readable when it wakes. The
/// descriptor then stays readable until the caller, having found nothing,
/// calls `ringq_shm_watch_rearm`. For `RINGQ_SHM_EVENT_MESSAGE` the loop
/// is: wait until the descriptor is readable; pop with `ringq_shm_try_pop`
/// (or `ringq_shm_try_pop_many`) until it returns `RINGQ_ERR_EMPTY`; call
/// `ringq_shm_watch_rearm`; wait again. (For `RINGQ_SHM_EVENT_ROOM`, push
/// with `ringq_shm_try_push` until `RINGQ_ERR_FULL`.) A message that
/// arrives between the empty pop and the rearm is not missed: the rearm
/// makes the thread check again, and the descriptor turns readable at
/// once. Readable means "may": another process may have taken the message
/// first, which is why the loop pops with the `try` calls, never the
/// blocking ones. A closed queue keeps the descriptor readable (a rearm
/// makes it readable again at once): pop until `RINGQ_ERR_CLOSED` and
/// stop watching.
///
/// While it waits for the event the thread counts as a sleeper of the
/// queue, so producers pay one wake call per burst for it, as for a
/// blocked pop; it passes a wake-up it took on to any blocked call, so it
/// never steals one.
///
/// Opaque: create it with `ringq_shm_watch_new`, release it with
/// `ringq_shm_watch_free`. The watch holds its own reference to the queue,
/// so the two may be freed in either order: after `ringq_shm_free` the
/// watch goes on working, and this process leaves the queue when both are
/// freed.
///
/// `fork`: a watch copied into a child has no thread in the child. Its
/// descriptor is the parent's (one `eventfd`, shared), so it turns
/// readable only when the parent's does, and `ringq_shm_watch_rearm` does
/// nothing in the child, so as not to take the parent's readiness. A child
/// that wants to watch the queue makes a watch of its own with
/// `ringq_shm_watch_new`, and may free the copy, which only closes the
/// child's descriptor.
pub struct ringq_shm_watch {
    watch: Watch,
}

/// Starts a watch of `queue` for `event` (a `ringq_shm_event`), and stores
/// it in `*out` (NULL on failure). Its descriptor is readable at once if the
/// event has already happened (a message is waiting, say).
///
/// Returns `RINGQ_OK`; `RINGQ_ERR_INVALID_ARGUMENT` for a NULL `queue` or
/// `out`, or an `event` that is not a `ringq_shm_event`;
/// `RINGQ_ERR_OUT_OF_MEMORY`; `RINGQ_ERR_SYSTEM` when the system refuses an
/// `eventfd` or a thread (the process's descriptor or thread limits).
///
/// Ownership: the caller owns the watch and releases it with
/// `ringq_shm_watch_free`, before or after `ringq_shm_free(queue)`: the
/// watch keeps the queue's memory and this process's place in it until it
/// is freed. `queue` stays the caller's.
///
/// Threads: any thread, concurrently with any other call on `queue` except
/// `ringq_shm_free`. Each watch starts one thread, which runs until the
/// watch is freed.
///
/// # Safety
///
/// `queue` must be NULL or a live handle; `out` NULL or valid for writing
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_watch_new(
    queue: *const ringq_shm,
    event: u32,
    out: *mut *mut ringq_shm_watch,
) -> ringq_result {
    let make = || {
        // SAFETY: forwarded from this function's contract.
        let q = unsafe { arg_ref(queue) }?;
        let event = ringq_shm_event::from_u32(event)?;
        let watch = q.queue.watch(event).map_err(|e| io_result(&e))?;
        Ok(ringq_shm_watch { watch })
    };
    // SAFETY: forwarded from this function's contract.
    unsafe { ops::new(out, make) }
}

/// The watch's descriptor, for `poll`, `epoll` or `select` (readable: the
/// event may have happened), or -1 when `watch` is NULL.
///
/// It is non-blocking and close-on-exec, and it stays the watch's: do not
/// read, write or close it (`ringq_shm_watch_rearm` reads it,
/// `ringq_shm_watch_free` closes it). It is the same number for the life of
/// the watch.
///
/// Threads: any thread.
///
/// # Safety
///
/// `watch` must be NULL or a live watch.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_watch_fd(watch: *const ringq_shm_watch) -> c_int {
    // SAFETY: forwarded from this function's contract.
    match unsafe { watch.as_ref() } {
        Some(w) => w.watch.raw_fd(),
        None => -1,
    }
}

/// Says that the caller found the event had not happened (a try pop
/// returned `RINGQ_ERR_EMPTY`, a try push `RINGQ_ERR_FULL`, the task count
/// was not 0): the descriptor stops being readable until the event may
/// have happened again. Rearming while it has happened is harmless: the
/// descriptor turns readable again at once.
///
/// In a child that `fork` copied the watch into, it does nothing (see
/// `ringq_shm_watch`).
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` for a NULL `watch`.
///
/// Threads: any thread, concurrently with any other call on the watch
/// except `ringq_shm_watch_free`.
///
/// # Safety
///
/// `watch` must be NULL or a live watch.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_watch_rearm(watch: *const ringq_shm_watch) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let w = unsafe { arg_ref(watch) }?;
        // The drain reads the descriptor, which fails with EAGAIN when it
        // was not readable.
        preserving_errno(|| w.watch.rearm());
        Ok(())
    })
}

/// Releases a watch: stops its thread (waking it, and waiting for it to
/// end, which is prompt) and closes its descriptor. NULL is ignored. If
/// `ringq_shm_free` was called on the queue first and this was its last
/// watch, this process leaves the queue now.
///
/// Remove the descriptor from any `epoll` set and stop polling it first:
/// once closed, its number may be reused by the next descriptor opened.
///
/// Ownership: takes back the watch; it must not be used again.
///
/// Threads: any one thread, once no other thread uses the watch.
///
/// # Safety
///
/// `watch` must be NULL or a watch from `ringq_shm_watch_new` that has not
/// been freed, and no other thread may use it during or after the call.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_watch_free(watch: *mut ringq_shm_watch) {
    // SAFETY: forwarded from this function's contract.
    unsafe { ops::free(watch) }
}
