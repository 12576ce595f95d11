//! `ringq_shm`: a queue of byte messages in shared memory, between
//! processes of one machine (Linux).
//!
//! The handle wraps the core's `ringq::shm::ShmQueue`; its documentation
//! (the module `shm` of the Rust crate) describes the segment, the protocol,
//! what a killed process can lose, and how untrusted shared memory is
//! handled. The doc comments here become the header's.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::Arc;
use std::time::Instant;

use ringq_core::shm::{OpenError, ShmError, ShmOptions, ShmQueue, Trust, DEFAULT_MAX_PARTICIPANTS};

use crate::errno::preserving_errno;
use crate::ffi::{arg_out, arg_ref, deadline_after, ffi_guard};
use crate::ops;

/// `ffi_guard!` for the calls that may make a system call that fails (a
/// timed sleep ending in `ETIMEDOUT`, a liveness check reading `/proc` for
/// a process that is gone, an `unlink` of a missing name): they keep
/// `errno` as the caller left it. Unlike the in-process queues, even the
/// `try_*` calls can, when they meet a slot held by another process.
macro_rules! guarded {
    ($body:block) => {
        ffi_guard!({ preserving_errno(|| -> Result<(), ringq_result> { $body }) })
    };
}
use crate::result::ringq_result::{self, *};

/// A queue of byte messages in shared memory, shared by processes (and by
/// the threads within them): any number of producers and consumers.
///
/// Opaque: create it with `ringq_shm_create`, `ringq_shm_create_ex` or
/// `ringq_shm_create_anonymous`, or attach to an existing one with
/// `ringq_shm_open` or `ringq_shm_open_fd`; release it with
/// `ringq_shm_free`. Each handle is one participant of the queue (the
/// segment holds a table of them, 256 by default): open one handle per
/// process and share it between that process's threads. A process that is
/// killed in the middle of a push or pop does not wedge the queue: the
/// others reclaim what it held, losing at most the messages of the call it
/// was in.
pub struct ringq_shm {
    /// Shared with the handle's watches (`ringq_shm_watch`), whose threads
    /// wait on the queue and keep it alive until they are freed.
    pub(crate) queue: Arc<ShmQueue>,
}

impl ringq_shm {
    fn new(queue: ShmQueue) -> Self {
        Self {
            queue: Arc::new(queue),
        }
    }
}

fn open_result(e: OpenError) -> ringq_result {
    match e {
        OpenError::InvalidName(_) | OpenError::InvalidOptions(_) => RINGQ_ERR_INVALID_ARGUMENT,
        OpenError::Io(e) => match e.kind() {
            std::io::ErrorKind::NotFound => RINGQ_ERR_NOT_FOUND,
            std::io::ErrorKind::AlreadyExists => RINGQ_ERR_EXISTS,
            std::io::ErrorKind::PermissionDenied => RINGQ_ERR_PERMISSION,
            _ => io_result(&e),
        },
        OpenError::TooManyParticipants => RINGQ_ERR_PARTICIPANTS,
        OpenError::Untrusted { .. } => RINGQ_ERR_UNTRUSTED,
        // NotRingq, Version, Truncated, BadHeader, NotAllocated, Unsealed,
        // ForeignNamespace, UnknownNamespace, and whatever later versions add.
        _ => RINGQ_ERR_INCOMPATIBLE,
    }
}

/// An operating-system failure with no more specific code: memory or
/// space that ran out, or `RINGQ_ERR_SYSTEM`.
pub(crate) fn io_result(e: &std::io::Error) -> ringq_result {
    match e.raw_os_error() {
        Some(libc::ENOMEM | libc::ENOSPC | libc::EFBIG) => RINGQ_ERR_OUT_OF_MEMORY,
        _ => RINGQ_ERR_SYSTEM,
    }
}

fn op_result(e: ShmError) -> ringq_result {
    match e {
        ShmError::Full => RINGQ_ERR_FULL,
        ShmError::Empty => RINGQ_ERR_EMPTY,
        ShmError::Closed => RINGQ_ERR_CLOSED,
        ShmError::TimedOut => RINGQ_ERR_TIMED_OUT,
        ShmError::TooLarge { .. } => RINGQ_ERR_TOO_LARGE,
        ShmError::TooManyParticipants => RINGQ_ERR_PARTICIPANTS,
        ShmError::TaskDoneTooOften => RINGQ_ERR_INVALID_ARGUMENT,
        ShmError::ForeignNamespace => RINGQ_ERR_INCOMPATIBLE,
        // Corrupt, and whatever later versions add.
        _ => RINGQ_ERR_CORRUPT,
    }
}

/// The name as UTF-8 (any non-UTF-8 name is invalid anyway).
///
/// # Safety
///
/// `name` must be NULL or a NUL-terminated string.
unsafe fn arg_name<'a>(name: *const c_char) -> Result<&'a str, ringq_result> {
    if name.is_null() {
        return Err(RINGQ_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: the caller guarantees a NUL-terminated string.
    let name = unsafe { CStr::from_ptr(name) };
    name.to_str().map_err(|_| RINGQ_ERR_INVALID_ARGUMENT)
}

/// A message of `len` bytes at `data`; NULL is allowed when `len` is 0.
///
/// # Safety
///
/// Unless `len` is 0, `data` must be NULL or point to `len` readable bytes.
unsafe fn arg_bytes<'a>(data: *const c_void, len: usize) -> Result<&'a [u8], ringq_result> {
    if len == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(RINGQ_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: the caller guarantees `len` readable bytes at the non-NULL `data`.
    Ok(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) })
}

/// An output buffer of `len` bytes; NULL is allowed when `len` is 0.
///
/// # Safety
///
/// Unless `len` is 0, `buf` must be NULL or valid for writing `len` bytes,
/// and not accessed by anything else during the call.
unsafe fn arg_buffer<'a>(
    buf: *mut c_void,
    len: usize,
) -> Result<&'a mut [MaybeUninit<u8>], ringq_result> {
    if len == 0 {
        return Ok(&mut []);
    }
    if buf.is_null() {
        return Err(RINGQ_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: the caller guarantees `len` writable bytes at the non-NULL
    // `buf`; `MaybeUninit<u8>` has the layout of `u8` and may be anything.
    Ok(unsafe { std::slice::from_raw_parts_mut(buf.cast::<MaybeUninit<u8>>(), len) })
}

/// Creates a queue under `name` (the file `/dev/shm/<name>`, as
/// `shm_open("/<name>")` names it) for `capacity` messages of at most
/// `max_message_size` bytes each, readable and writable by this user only
/// (mode 0600), for up to 256 handles at a time. Stores the new handle in
/// `*out` (NULL on failure).
///
/// `name` is 1 to 200 characters of `A-Z a-z 0-9 . _ -`, after an optional
/// leading `/`, not starting with a dot. The segment appears under its name
/// only once complete, and its memory (about `capacity * max_message_size`
/// bytes) is allocated now. It stays until `ringq_shm_unlink` or a reboot.
///
/// Returns `RINGQ_OK`; `RINGQ_ERR_EXISTS` if the name is taken;
/// `RINGQ_ERR_INVALID_ARGUMENT` for a NULL `name` or `out`, an invalid
/// name, a zero size, a capacity above 2^24 or a message size above 2^30;
/// `RINGQ_ERR_OUT_OF_MEMORY` when `/dev/shm` has no room;
/// `RINGQ_ERR_PERMISSION` or `RINGQ_ERR_SYSTEM` when the system refuses.
///
/// Ownership: the caller owns the handle and releases it with
/// `ringq_shm_free`; the name stays until `ringq_shm_unlink`.
///
/// Threads: any thread.
///
/// # Safety
///
/// `name` must be NULL or a NUL-terminated string; `out` NULL or valid for
/// writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_create(
    name: *const c_char,
    capacity: usize,
    max_message_size: usize,
    out: *mut *mut ringq_shm,
) -> ringq_result {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        ringq_shm_create_ex(
            name,
            capacity,
            max_message_size,
            DEFAULT_MAX_PARTICIPANTS,
            0o600,
            out,
        )
    }
}

/// `ringq_shm_create` with the size of the participant table (1 to 1023:
/// how many handles, in all processes, may be open at once) and the file's
/// permission bits (`mode`, applied exactly, whatever the umask).
///
/// Returns as `ringq_shm_create`; a `max_participants` of 0 or above 1023
/// gives `RINGQ_ERR_INVALID_ARGUMENT`.
///
/// Ownership and threads: as `ringq_shm_create`.
///
/// # Safety
///
/// As `ringq_shm_create`.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_create_ex(
    name: *const c_char,
    capacity: usize,
    max_message_size: usize,
    max_participants: usize,
    mode: u32,
    out: *mut *mut ringq_shm,
) -> ringq_result {
    let make = || {
        // SAFETY: forwarded from this function's contract.
        let name = unsafe { arg_name(name) }?;
        let options = ShmOptions::new(capacity, max_message_size)
            .max_participants(max_participants)
            .mode(mode);
        let queue = ShmQueue::create(name, &options).map_err(open_result)?;
        Ok(ringq_shm::new(queue))
    };
    // SAFETY: forwarded from this function's contract.
    unsafe { ops::new(out, make) }
}

/// Creates an anonymous queue (a sealed memfd) for `capacity` messages of at
/// most `max_message_size` bytes, reachable by processes that inherit or are
/// sent its descriptor (`ringq_shm_fd`, `ringq_shm_open_fd`). Stores the
/// handle in `*out` (NULL on failure).
///
/// Returns `RINGQ_OK`, `RINGQ_ERR_INVALID_ARGUMENT` (NULL `out`, bad
/// sizes), `RINGQ_ERR_OUT_OF_MEMORY` or `RINGQ_ERR_SYSTEM`.
///
/// Ownership: the caller owns the handle; the memory goes when the last
/// handle and descriptor are gone.
///
/// Threads: any thread.
///
/// # Safety
///
/// `out` must be NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_create_anonymous(
    capacity: usize,
    max_message_size: usize,
    out: *mut *mut ringq_shm,
) -> ringq_result {
    let make = || {
        let options = ShmOptions::new(capacity, max_message_size);
        let queue = ShmQueue::create_anonymous(&options).map_err(open_result)?;
        Ok(ringq_shm::new(queue))
    };
    // SAFETY: forwarded from this function's contract.
    unsafe { ops::new(out, make) }
}

/// Opens the queue created under `name` and stores a new handle in `*out`
/// (NULL on failure).
///
/// Any local user can create a file in `/dev/shm` under the name a program
/// means to open, so the file is checked first, on the descriptor opened:
/// it must be owned by this process's effective uid, and neither its group
/// nor other users may write it (`ringq_shm_open_trusting` widens that). It
/// must also be fully allocated, so that none of its pages can fault when
/// `/dev/shm` is full.
///
/// Returns `RINGQ_OK`; `RINGQ_ERR_NOT_FOUND`; `RINGQ_ERR_PERMISSION`;
/// `RINGQ_ERR_UNTRUSTED` for a file of another owner or a wider mode;
/// `RINGQ_ERR_INCOMPATIBLE` for a file that is not a ringq segment this
/// library can use (another layout version, truncated, damaged header, not
/// fully allocated, or made in another PID or time namespace);
/// `RINGQ_ERR_PARTICIPANTS` when every participant entry belongs to a live
/// process; `RINGQ_ERR_INVALID_ARGUMENT` for a NULL `name` or `out` or an
/// invalid name; `RINGQ_ERR_SYSTEM`.
///
/// Ownership: the caller owns the handle.
///
/// Threads: any thread.
///
/// # Safety
///
/// `name` must be NULL or a NUL-terminated string; `out` NULL or valid for
/// writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_open(
    name: *const c_char,
    out: *mut *mut ringq_shm,
) -> ringq_result {
    // SAFETY: forwarded from this function's contract; NULL trust is the
    // default.
    unsafe { ringq_shm_open_trusting(name, std::ptr::null(), out) }
}

/// `ringq_shm_trust.flags`: files owned by `owner_uid` are trusted too.
pub const RINGQ_SHM_TRUST_OWNER: u32 = 1;
/// `ringq_shm_trust.flags`: files whose group is `group_gid` may be
/// writable by that group (every member is trusted with the messages).
pub const RINGQ_SHM_TRUST_GROUP_WRITABLE: u32 = 2;
/// `ringq_shm_trust.flags`: any owner and any mode. Every local user who
/// could create the name first, or write the file, is then trusted.
pub const RINGQ_SHM_TRUST_ANYONE: u32 = 4;

/// Whose files `ringq_shm_open_trusting` accepts, beyond the default (files
/// of this process's effective uid that only it can write). Zero it, then
/// set the flags and the ids they name.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ringq_shm_trust {
    /// `RINGQ_SHM_TRUST_*` values, or-ed together; other bits must be 0.
    pub flags: u32,
    /// With `RINGQ_SHM_TRUST_OWNER`: another owner to accept.
    pub owner_uid: u32,
    /// With `RINGQ_SHM_TRUST_GROUP_WRITABLE`: the group that may write.
    pub group_gid: u32,
}

impl ringq_shm_trust {
    fn to_trust(self) -> Result<Trust, ringq_result> {
        let known = RINGQ_SHM_TRUST_OWNER | RINGQ_SHM_TRUST_GROUP_WRITABLE | RINGQ_SHM_TRUST_ANYONE;
        if self.flags & !known != 0 {
            return Err(RINGQ_ERR_INVALID_ARGUMENT);
        }
        if self.flags & RINGQ_SHM_TRUST_ANYONE != 0 {
            return Ok(Trust::anyone());
        }
        let mut trust = Trust::new();
        if self.flags & RINGQ_SHM_TRUST_OWNER != 0 {
            trust = trust.owner(self.owner_uid);
        }
        if self.flags & RINGQ_SHM_TRUST_GROUP_WRITABLE != 0 {
            trust = trust.group_writable(self.group_gid);
        }
        Ok(trust)
    }
}

/// `ringq_shm_open`, accepting also the owners and modes `*trust` names
/// (NULL: the default, as `ringq_shm_open`). For example, to open a queue
/// a group shares (created with mode 0660):
///
/// ```c
/// ringq_shm_trust trust = { RINGQ_SHM_TRUST_GROUP_WRITABLE, 0, getegid() };
/// ringq_shm *q;
/// ringq_result r = ringq_shm_open_trusting("jobs", &trust, &q);
/// ```
///
/// Returns as `ringq_shm_open`, and `RINGQ_ERR_INVALID_ARGUMENT` for unknown
/// flags.
///
/// Ownership: the caller owns the handle; `*trust` is only read during the
/// call.
///
/// Threads: any thread.
///
/// # Safety
///
/// `name` must be NULL or a NUL-terminated string; `trust` NULL or valid for
/// reading one `ringq_shm_trust`; `out` NULL or valid for writing one
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_open_trusting(
    name: *const c_char,
    trust: *const ringq_shm_trust,
    out: *mut *mut ringq_shm,
) -> ringq_result {
    let make = || {
        // SAFETY: forwarded from this function's contract.
        let name = unsafe { arg_name(name) }?;
        // SAFETY: `trust` is NULL or valid for reading, per the contract.
        let trust = match unsafe { trust.as_ref() } {
            Some(t) => t.to_trust()?,
            None => Trust::new(),
        };
        let queue = ShmQueue::open_trusting(name, &trust).map_err(open_result)?;
        Ok(ringq_shm::new(queue))
    };
    // SAFETY: forwarded from this function's contract.
    unsafe { ops::new(out, make) }
}

/// Opens the queue whose segment the descriptor `fd` refers to (from
/// `ringq_shm_fd` in this or another process, inherited or received over a
/// Unix socket) and stores a new handle in `*out` (NULL on failure). The
/// handle uses its own duplicate of `fd`: the caller keeps `fd` and closes
/// it when it likes.
///
/// Whoever passed the descriptor chose the file, so its owner and mode are
/// not checked; an anonymous segment (a memfd) must be sealed against
/// resizing (`F_SEAL_SHRINK`, `F_SEAL_GROW`, `F_SEAL_SEAL`), as
/// `ringq_shm_create_anonymous` seals it, or its sender could shrink it
/// under this process.
///
/// Returns as `ringq_shm_open`, with `RINGQ_ERR_INVALID_ARGUMENT` for a
/// negative `fd`, `RINGQ_ERR_INCOMPATIBLE` for an unsealed memfd, and
/// `RINGQ_ERR_SYSTEM` for a descriptor that cannot be duplicated.
///
/// Ownership: the caller owns the handle, and still owns `fd`.
///
/// Threads: any thread.
///
/// # Safety
///
/// `fd` must be a negative number or a descriptor open in this process for
/// the duration of the call; `out` must be NULL or valid for writing one
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_open_fd(fd: c_int, out: *mut *mut ringq_shm) -> ringq_result {
    let make = || {
        if fd < 0 {
            return Err(RINGQ_ERR_INVALID_ARGUMENT);
        }
        // SAFETY: the caller guarantees `fd` is open for the call; we only
        // duplicate it.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let owned = borrowed
            .try_clone_to_owned()
            .map_err(|_| RINGQ_ERR_SYSTEM)?;
        let queue = ShmQueue::from_fd(owned).map_err(open_result)?;
        Ok(ringq_shm::new(queue))
    };
    // SAFETY: forwarded from this function's contract.
    unsafe { ops::new(out, make) }
}

/// Stores in `*out` the descriptor of the queue's segment, to pass to a
/// child process (it is close-on-exec: `dup` it to keep it across `exec`)
/// or over a Unix socket. The descriptor stays the handle's: do not close it.
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` for a NULL argument.
///
/// Threads: any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_fd(queue: *const ringq_shm, out: *mut c_int) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, out) = unsafe { (arg_ref(queue)?, arg_out(out)?) };
        out.write(q.queue.fd().as_raw_fd());
        Ok(())
    })
}

/// Removes the name of a queue so that no new process can open it. Open
/// handles keep working; the memory goes with the last one.
///
/// Returns `RINGQ_OK`, `RINGQ_ERR_NOT_FOUND`, `RINGQ_ERR_PERMISSION`,
/// `RINGQ_ERR_INVALID_ARGUMENT` for a NULL or invalid name, or
/// `RINGQ_ERR_SYSTEM`.
///
/// Threads: any thread.
///
/// # Safety
///
/// `name` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_unlink(name: *const c_char) -> ringq_result {
    guarded!({
        // SAFETY: forwarded from this function's contract.
        let name = unsafe { arg_name(name) }?;
        ShmQueue::unlink(name).map_err(open_result)
    })
}

/// Releases a handle: this process leaves the queue (the queue and its
/// messages stay for the other handles). NULL is ignored.
///
/// Ownership: takes back the handle; it must not be used again.
///
/// Threads: any one thread, once no other thread uses the handle or is
/// blocked in it.
///
/// # Safety
///
/// `queue` must be NULL or a handle from one of the create or open
/// functions that has not been freed, and no other thread may use it during
/// or after the call.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_free(queue: *mut ringq_shm) {
    // SAFETY: forwarded from this function's contract.
    unsafe { ops::free(queue) }
}

/// Copies the message `data[0..len]` into the queue if there is room,
/// without waiting.
///
/// Returns `RINGQ_OK`, `RINGQ_ERR_FULL`, `RINGQ_ERR_CLOSED`,
/// `RINGQ_ERR_TOO_LARGE` when `len` is above the maximum message size,
/// `RINGQ_ERR_CORRUPT` when the shared memory was damaged,
/// `RINGQ_ERR_PARTICIPANTS` (a forked child that found no free entry), or
/// `RINGQ_ERR_INVALID_ARGUMENT` for a NULL `queue`, or NULL `data` with a
/// non-zero `len`. Nothing is pushed on failure.
///
/// Ownership: the bytes are copied; `data` stays the caller's.
///
/// Threads: any thread, concurrently with any other call on the handle
/// except `ringq_shm_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle; `data` NULL or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_try_push(
    queue: *mut ringq_shm,
    data: *const c_void,
    len: usize,
) -> ringq_result {
    guarded!({
        // SAFETY: forwarded from this function's contract.
        let (q, msg) = unsafe { (arg_ref(queue)?, arg_bytes(data, len)?) };
        q.queue.try_push(msg).map_err(op_result)
    })
}

/// Copies the message `data[0..len]` into the queue, waiting (spinning
/// briefly, then sleeping) while it is full.
///
/// Returns as `ringq_shm_try_push`, except that a full queue is waited on;
/// `RINGQ_ERR_CLOSED` also when the queue is closed while waiting.
///
/// Ownership and threads: as `ringq_shm_try_push`.
///
/// # Safety
///
/// As `ringq_shm_try_push`.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_push(
    queue: *mut ringq_shm,
    data: *const c_void,
    len: usize,
) -> ringq_result {
    guarded!({
        // SAFETY: forwarded from this function's contract.
        let (q, msg) = unsafe { (arg_ref(queue)?, arg_bytes(data, len)?) };
        q.queue.push(msg).map_err(op_result)
    })
}

/// Copies the message `data[0..len]` into the queue, waiting at most
/// `timeout_ns` nanoseconds for room (0: try once; a timeout too large to
/// represent waits without a limit).
///
/// Returns as `ringq_shm_push`, plus `RINGQ_ERR_TIMED_OUT`.
///
/// Ownership and threads: as `ringq_shm_try_push`.
///
/// # Safety
///
/// As `ringq_shm_try_push`.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_push_timeout(
    queue: *mut ringq_shm,
    data: *const c_void,
    len: usize,
    timeout_ns: u64,
) -> ringq_result {
    guarded!({
        // SAFETY: forwarded from this function's contract.
        let (q, msg) = unsafe { (arg_ref(queue)?, arg_bytes(data, len)?) };
        q.queue
            .push_deadline(msg, deadline_after(timeout_ns))
            .map_err(op_result)
    })
}

/// The messages `datas[i][0..lens[i]]` for `i` in `0..count`, as slices.
///
/// # Safety
///
/// Unless `count` is 0, `datas` and `lens` must be NULL or point to `count`
/// readable elements, and each `datas[i]` to `lens[i]` readable bytes (or
/// be anything when `lens[i]` is 0).
unsafe fn arg_messages<'a>(
    datas: *const *const c_void,
    lens: *const usize,
    count: usize,
) -> Result<Vec<&'a [u8]>, ringq_result> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if datas.is_null() || lens.is_null() {
        return Err(RINGQ_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: the caller guarantees `count` readable elements in each array.
    let (datas, lens) = unsafe {
        (
            std::slice::from_raw_parts(datas, count),
            std::slice::from_raw_parts(lens, count),
        )
    };
    datas
        .iter()
        .zip(lens)
        // SAFETY: the caller guarantees each message's bytes.
        .map(|(&d, &l)| unsafe { arg_bytes(d, l) })
        .collect()
}

/// Pushes the longest prefix of the `count` messages `datas[i][0..lens[i]]`
/// that fits, claiming their slots in one atomic step, without waiting, and
/// stores how many went in in `*pushed` (0 on any error).
///
/// Returns `RINGQ_OK` when at least one went in (or `count` is 0),
/// `RINGQ_ERR_FULL` when none fit, `RINGQ_ERR_TOO_LARGE` if any message is
/// longer than the maximum (then none is pushed), `RINGQ_ERR_CLOSED`,
/// `RINGQ_ERR_CORRUPT`, `RINGQ_ERR_PARTICIPANTS`, or
/// `RINGQ_ERR_INVALID_ARGUMENT` for NULL arguments (arrays may be NULL when
/// `count` is 0).
///
/// Ownership: the bytes are copied.
///
/// Threads: as `ringq_shm_try_push`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle; `datas` and `lens` NULL or `count`
/// readable elements each, `datas[i]` NULL or `lens[i]` readable bytes;
/// `pushed` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_try_push_many(
    queue: *mut ringq_shm,
    datas: *const *const c_void,
    lens: *const usize,
    count: usize,
    pushed: *mut usize,
) -> ringq_result {
    guarded!({
        // SAFETY: forwarded from this function's contract.
        let (q, pushed) = unsafe { (arg_ref(queue)?, arg_out(pushed)?) };
        pushed.write(0);
        // SAFETY: forwarded from this function's contract.
        let msgs = unsafe { arg_messages(datas, lens, count) }?;
        let n = q.queue.try_push_many(&msgs).map_err(op_result)?;
        pushed.write(n);
        if n == 0 && count > 0 {
            return Err(RINGQ_ERR_FULL);
        }
        Ok(())
    })
}

/// Like `ringq_shm_try_push_many`, but waits until at least one message
/// fits. Stores in `*pushed` how many went in (at least 1 on `RINGQ_OK`
/// unless `count` is 0); call again with the rest.
///
/// Returns as `ringq_shm_try_push_many`, without `RINGQ_ERR_FULL`.
///
/// Ownership and threads: as `ringq_shm_try_push_many`.
///
/// # Safety
///
/// As `ringq_shm_try_push_many`.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_push_many(
    queue: *mut ringq_shm,
    datas: *const *const c_void,
    lens: *const usize,
    count: usize,
    pushed: *mut usize,
) -> ringq_result {
    guarded!({
        // SAFETY: forwarded from this function's contract.
        let (q, pushed) = unsafe { (arg_ref(queue)?, arg_out(pushed)?) };
        pushed.write(0);
        // SAFETY: forwarded from this function's contract.
        let msgs = unsafe { arg_messages(datas, lens, count) }?;
        pushed.write(q.queue.push_many_deadline(&msgs, None).map_err(op_result)?);
        Ok(())
    })
}

/// Checks that a pop buffer can hold any message.
fn check_buffer(q: &ringq_shm, buf_len: usize) -> Result<(), ringq_result> {
    if buf_len < q.queue.max_message_size() {
        return Err(RINGQ_ERR_INVALID_ARGUMENT);
    }
    Ok(())
}

/// Removes the oldest message, without waiting, copying it into
/// `buf[0..*len]` and storing its length in `*len`.
///
/// `buf_len` must be at least the queue's maximum message size
/// (`ringq_shm_max_message_size`), so that no message can be too long for
/// it: a smaller buffer is refused before anything is taken.
///
/// Returns `RINGQ_OK`; `RINGQ_ERR_EMPTY`; `RINGQ_ERR_CLOSED` once the queue
/// is closed and drained; `RINGQ_ERR_CORRUPT` when the message was damaged
/// in shared memory (it is dropped); `RINGQ_ERR_PARTICIPANTS`;
/// `RINGQ_ERR_INVALID_ARGUMENT` for a NULL `queue`, `buf` or `len`, or a
/// `buf_len` below the maximum message size. `*len` is written only on
/// `RINGQ_OK`.
///
/// Ownership: `buf` stays the caller's.
///
/// Threads: any thread, concurrently with any other call on the handle
/// except `ringq_shm_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle; `buf` NULL or valid for writing
/// `buf_len` bytes; `len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_try_pop(
    queue: *mut ringq_shm,
    buf: *mut c_void,
    buf_len: usize,
    len: *mut usize,
) -> ringq_result {
    // SAFETY: forwarded from this function's contract.
    unsafe { pop(queue, buf, buf_len, len, Wait::No) }
}

/// Removes the oldest message into `buf` as `ringq_shm_try_pop` does,
/// waiting (spinning briefly, then sleeping) while the queue is empty.
///
/// Returns as `ringq_shm_try_pop`, except that an empty queue is waited on.
///
/// Ownership and threads: as `ringq_shm_try_pop`.
///
/// # Safety
///
/// As `ringq_shm_try_pop`.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_pop(
    queue: *mut ringq_shm,
    buf: *mut c_void,
    buf_len: usize,
    len: *mut usize,
) -> ringq_result {
    // SAFETY: forwarded from this function's contract.
    unsafe { pop(queue, buf, buf_len, len, Wait::Until(None)) }
}

/// Removes the oldest message into `buf` as `ringq_shm_try_pop` does,
/// waiting at most `timeout_ns` nanoseconds for one (0: try once; a timeout
/// too large to represent waits without a limit).
///
/// Returns as `ringq_shm_pop`, plus `RINGQ_ERR_TIMED_OUT`.
///
/// Ownership and threads: as `ringq_shm_try_pop`.
///
/// # Safety
///
/// As `ringq_shm_try_pop`.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_pop_timeout(
    queue: *mut ringq_shm,
    buf: *mut c_void,
    buf_len: usize,
    len: *mut usize,
    timeout_ns: u64,
) -> ringq_result {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        pop(
            queue,
            buf,
            buf_len,
            len,
            Wait::Until(deadline_after(timeout_ns)),
        )
    }
}

/// Whether a pop waits.
#[derive(Clone, Copy)]
enum Wait {
    /// The try form: an empty queue is `RINGQ_ERR_EMPTY`.
    No,
    /// Until the deadline (`None`: no limit); then `RINGQ_ERR_TIMED_OUT`.
    Until(Option<Instant>),
}

/// The body of the single-message pops.
///
/// # Safety
///
/// As `ringq_shm_try_pop`.
unsafe fn pop(
    queue: *mut ringq_shm,
    buf: *mut c_void,
    buf_len: usize,
    len: *mut usize,
    wait: Wait,
) -> ringq_result {
    guarded!({
        // SAFETY: forwarded from this function's contract.
        let (q, len) = unsafe { (arg_ref(queue)?, arg_out(len)?) };
        check_buffer(q, buf_len)?;
        // SAFETY: forwarded from this function's contract.
        let buf = unsafe { arg_buffer(buf, buf_len) }?;
        let copy = |m: ringq_core::shm::Message<'_>| m.copy_to_uninit(buf).len();
        let n = match wait {
            Wait::No => q.queue.try_pop_with(copy),
            Wait::Until(deadline) => q.queue.pop_with_deadline(deadline, copy),
        }
        .map_err(op_result)?;
        len.write(n);
        Ok(())
    })
}

/// Removes up to `max` of the oldest messages, claimed in one atomic step,
/// without waiting. They are copied back to back into `buf`, the `i`th's
/// length stored in `lens[i]`, and their number in `*popped` (0 on any
/// error).
///
/// At most `buf_len / max_message_size` messages are taken, so that any
/// messages fit: `buf_len` must be at least the maximum message size, and a
/// buffer of `max * max_message_size` bytes never limits the batch.
///
/// Returns `RINGQ_OK` when at least one message was popped (or `max` is 0),
/// `RINGQ_ERR_EMPTY`, `RINGQ_ERR_CLOSED` (closed and drained),
/// `RINGQ_ERR_CORRUPT` (a damaged message was dropped; the others were
/// still popped and counted), `RINGQ_ERR_PARTICIPANTS`, or
/// `RINGQ_ERR_INVALID_ARGUMENT` for NULL arguments or a `buf_len` below the
/// maximum message size (`buf` and `lens` may be NULL when `max` is 0).
///
/// Ownership: the buffers stay the caller's.
///
/// Threads: as `ringq_shm_try_pop`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle; `buf` NULL or valid for writing
/// `buf_len` bytes; `lens` NULL or valid for writing `max` sizes; `popped`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_try_pop_many(
    queue: *mut ringq_shm,
    buf: *mut c_void,
    buf_len: usize,
    lens: *mut usize,
    max: usize,
    popped: *mut usize,
) -> ringq_result {
    // SAFETY: forwarded from this function's contract.
    unsafe { pop_many(queue, buf, buf_len, lens, max, popped, Wait::No) }
}

/// Like `ringq_shm_try_pop_many`, but waits (spinning briefly, then
/// sleeping) until at least one message is there.
///
/// Returns as `ringq_shm_try_pop_many`, without `RINGQ_ERR_EMPTY`.
///
/// Ownership and threads: as `ringq_shm_try_pop_many`.
///
/// # Safety
///
/// As `ringq_shm_try_pop_many`.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_pop_many(
    queue: *mut ringq_shm,
    buf: *mut c_void,
    buf_len: usize,
    lens: *mut usize,
    max: usize,
    popped: *mut usize,
) -> ringq_result {
    // SAFETY: forwarded from this function's contract.
    unsafe { pop_many(queue, buf, buf_len, lens, max, popped, Wait::Until(None)) }
}

/// The body of the batch pops.
///
/// # Safety
///
/// As `ringq_shm_try_pop_many`.
unsafe fn pop_many(
    queue: *mut ringq_shm,
    buf: *mut c_void,
    buf_len: usize,
    lens: *mut usize,
    max: usize,
    popped: *mut usize,
    wait: Wait,
) -> ringq_result {
    guarded!({
        // SAFETY: forwarded from this function's contract.
        let (q, popped) = unsafe { (arg_ref(queue)?, arg_out(popped)?) };
        popped.write(0);
        if max == 0 {
            return Ok(());
        }
        check_buffer(q, buf_len)?;
        if lens.is_null() {
            return Err(RINGQ_ERR_INVALID_ARGUMENT);
        }
        // SAFETY: forwarded from this function's contract.
        let buf = unsafe { arg_buffer(buf, buf_len) }?;
        // SAFETY: the caller guarantees `max` writable sizes at the non-NULL
        // `lens`.
        let lens =
            unsafe { std::slice::from_raw_parts_mut(lens.cast::<MaybeUninit<usize>>(), max) };
        let max = max.min(buf_len / q.queue.max_message_size().max(1));
        let mut at = 0;
        let mut n = 0;
        let mut deliver = |m: ringq_core::shm::Message<'_>| {
            let len = m.copy_to_uninit(&mut buf[at..]).len();
            lens[n].write(len);
            at += len;
            n += 1;
        };
        let result = match wait {
            Wait::No => q.queue.try_pop_many_with(max, &mut deliver),
            Wait::Until(deadline) => q.queue.pop_many_with_deadline(max, deadline, &mut deliver),
        };
        popped.write(n);
        match result {
            Ok(0) if max > 0 => Err(RINGQ_ERR_EMPTY),
            Ok(_) => Ok(()),
            Err(e) => Err(op_result(e)),
        }
    })
}

/// Closes the queue for every process: pushes fail with `RINGQ_ERR_CLOSED`
/// from now on, pops return what is left and then `RINGQ_ERR_CLOSED`, and
/// every thread blocked in a push or pop, in any process, wakes up. Closing
/// a closed queue does nothing.
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` when `queue` is NULL.
///
/// Threads: any thread, concurrently with any other call on the handle
/// except `ringq_shm_free`.
///
/// # Safety
///
/// `queue` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_close(queue: *mut ringq_shm) -> ringq_result {
    guarded!({
        // SAFETY: forwarded from this function's contract.
        let q = unsafe { arg_ref(queue) }?;
        q.queue.close();
        Ok(())
    })
}

/// Stores in `*out` whether the queue has been closed.
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` for a NULL argument.
///
/// Threads: any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_is_closed(
    queue: *const ringq_shm,
    out: *mut bool,
) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, out) = unsafe { (arg_ref(queue)?, arg_out(out)?) };
        out.write(q.queue.is_closed());
        Ok(())
    })
}

/// Stores in `*out` the number of messages in the queue (a snapshot that
/// other processes may change at once).
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` for a NULL argument.
///
/// Threads: any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_len(queue: *const ringq_shm, out: *mut usize) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, out) = unsafe { (arg_ref(queue)?, arg_out(out)?) };
        out.write(q.queue.len());
        Ok(())
    })
}

/// Lists the processes (this one included) that hold a slot they claimed
/// and have not finished with: a push not yet published, or a pop not yet
/// released. Writes up to `capacity` PIDs, sorted, to `pids` and stores in
/// `*count` how many there are in all (more than `capacity` means the list
/// was cut short). A snapshot, one pass over the slots.
///
/// A process killed holding a claim is recovered by the others; one that
/// is alive but stopped (`SIGSTOP`, a debugger, a hung thread) keeps it, and
/// the queue's blocking calls then time out: consumers at its unpublished
/// message, producers once they come round to its unreleased slot. A PID
/// that stays in this list while the queue makes no progress names the
/// peer to look at.
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` for a NULL `queue` or
/// `count`, or a NULL `pids` with a non-zero `capacity`.
///
/// Threads: any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle; `pids` NULL or valid for writing
/// `capacity` values; `count` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_claim_holders(
    queue: *const ringq_shm,
    pids: *mut u32,
    capacity: usize,
    count: *mut usize,
) -> ringq_result {
    guarded!({
        // SAFETY: forwarded from this function's contract.
        let (q, count) = unsafe { (arg_ref(queue)?, arg_out(count)?) };
        if pids.is_null() && capacity > 0 {
            return Err(RINGQ_ERR_INVALID_ARGUMENT);
        }
        let holders = q.queue.claim_holders();
        for (i, &pid) in holders.iter().take(capacity).enumerate() {
            // SAFETY: `i < capacity`, and the caller made `pids` (non-NULL
            // here) writable for `capacity` values.
            unsafe { pids.add(i).write(pid) };
        }
        count.write(holders.len());
        Ok(())
    })
}

/// Stores in `*out` the queue's capacity, in messages.
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` for a NULL argument.
///
/// Threads: any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_capacity(
    queue: *const ringq_shm,
    out: *mut usize,
) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, out) = unsafe { (arg_ref(queue)?, arg_out(out)?) };
        out.write(q.queue.capacity());
        Ok(())
    })
}

/// Stores in `*out` the longest message the queue takes, in bytes: the
/// smallest buffer the pop functions accept.
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` for a NULL argument.
///
/// Threads: any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_max_message_size(
    queue: *const ringq_shm,
    out: *mut usize,
) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, out) = unsafe { (arg_ref(queue)?, arg_out(out)?) };
        out.write(q.queue.max_message_size());
        Ok(())
    })
}

/// Counts `n` more unfinished tasks in the queue's segment, for every
/// process: call it before pushing the messages that carry them, so that a
/// consumer can never report one done before it is counted.
///
/// Returns `RINGQ_OK`, `RINGQ_ERR_CORRUPT` if the count would overflow
/// (only a damaged count can), or `RINGQ_ERR_INVALID_ARGUMENT` for a NULL
/// `queue`.
///
/// Threads: any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_add_tasks(queue: *mut ringq_shm, n: u64) -> ringq_result {
    guarded!({
        // SAFETY: forwarded from this function's contract.
        let q = unsafe { arg_ref(queue) }?;
        q.queue.add_tasks(n).map_err(op_result)
    })
}

/// Reports one task done; when none is left, every `ringq_shm_join_timeout`
/// in every process returns.
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` for a NULL `queue` or
/// when no task is unfinished (the count is unchanged then).
///
/// Threads: any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_task_done(queue: *mut ringq_shm) -> ringq_result {
    guarded!({
        // SAFETY: forwarded from this function's contract.
        let q = unsafe { arg_ref(queue) }?;
        q.queue.task_done().map_err(op_result)
    })
}

/// Stores in `*out` the number of unfinished tasks (a snapshot).
///
/// Returns `RINGQ_OK`, or `RINGQ_ERR_INVALID_ARGUMENT` for a NULL argument.
///
/// Threads: any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_unfinished_tasks(
    queue: *const ringq_shm,
    out: *mut u64,
) -> ringq_result {
    ffi_guard!({
        // SAFETY: forwarded from this function's contract.
        let (q, out) = unsafe { (arg_ref(queue)?, arg_out(out)?) };
        out.write(q.queue.unfinished_tasks());
        Ok(())
    })
}

/// Waits until no task is unfinished, for `timeout_ns` nanoseconds at most
/// (a timeout too large to represent, such as `UINT64_MAX`, waits without a
/// limit).
///
/// A process killed while it held tasks leaves them counted: the join then
/// times out. The queue cannot know which tasks a dead process held.
///
/// Returns `RINGQ_OK`, `RINGQ_ERR_TIMED_OUT`, `RINGQ_ERR_PARTICIPANTS`, or
/// `RINGQ_ERR_INVALID_ARGUMENT` for a NULL `queue`.
///
/// Threads: any thread.
///
/// # Safety
///
/// `queue` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn ringq_shm_join_timeout(
    queue: *mut ringq_shm,
    timeout_ns: u64,
) -> ringq_result {
    guarded!({
        // SAFETY: forwarded from this function's contract.
        let q = unsafe { arg_ref(queue) }?;
        q.queue
            .join_deadline(deadline_after(timeout_ns))
            .map_err(op_result)
    })
}
