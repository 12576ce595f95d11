//! A queue of byte messages in shared memory, between processes of one
//! machine: lock-free, multi-producer multi-consumer, and safe against
//! processes that are killed in the middle of an operation.
//!
//! # What it is, and what it is not
//!
//! - **One machine.** The queue lives in a shared-memory segment (a file in
//!   `/dev/shm`, or an anonymous `memfd`) that processes map. There is no
//!   network, no broker and no server process: pushes and pops are a few
//!   atomic operations on the shared memory, and blocking waits sleep on a
//!   futex in it.
//! - **Not durable.** Messages live in memory. A named segment outlives the
//!   processes that use it until it is [unlinked](ShmQueue::unlink) or the
//!   machine reboots; an anonymous one, until its last descriptor closes.
//! - **Bounded, byte messages.** A queue holds up to `capacity` messages of
//!   up to `max_message_size` bytes each, both chosen at creation. A longer
//!   message is an error ([`ShmError::TooLarge`]); it is not split.
//! - **MPMC, across processes and threads.** Any number of processes push
//!   and pop, each from any number of threads; every message is delivered
//!   once, and each producer thread's messages arrive in the order it pushed
//!   them.
//! - **Linux only** (it relies on futexes, `memfd_create`, `O_TMPFILE` and
//!   `/proc`). Every process must be in the same PID and time namespaces
//!   (one container, or the host): opening a segment from others is refused.
//!
//! # Using it
//!
//! ```
//! use ringq::shm::{ShmOptions, ShmQueue};
//!
//! let name = format!("ringq-doc-tour-{}", std::process::id());
//! let jobs = ShmQueue::create(&name, &ShmOptions::new(1024, 256)).unwrap();
//!
//! // Any process of this user can now do the same:
//! let worker = ShmQueue::open(&name).unwrap();
//!
//! jobs.push(b"resize photo.jpg").unwrap();
//! jobs.try_push_many(&[b"job 2", b"job 3"]).unwrap();
//! jobs.close(); // no more jobs: workers drain, then see Closed
//!
//! let mut job = Vec::new();
//! let mut done = 0;
//! while worker.pop(&mut job).is_ok() {
//!     done += 1;
//! }
//! assert_eq!(done, 3);
//! ShmQueue::unlink(&name).unwrap();
//! ```
//!
//! Every operation has the forms of the in-process queues: `try_*` never
//! waits; the plain form waits; `*_deadline` waits until an
//! `Option<Instant>` (`None`: forever), which lets a caller wait in slices
//! and check for signals in between; batches (`try_push_many`,
//! `try_pop_many_with`, ...) claim many slots in one atomic step. Pops can
//! hand a message to a closure ([`ShmQueue::try_pop_with`]) that copies it
//! exactly once, straight from the shared memory into a buffer of its
//! choosing, and [`ShmQueue::wait_for_message_deadline`] waits for a message
//! without taking it, for callers that must not run that closure while they
//! wait (a Python binding, without the GIL). A task counter in the segment ([`ShmQueue::add_tasks`],
//! [`ShmQueue::task_done`], [`ShmQueue::join_deadline`]) supports
//! `JoinableQueue`-style joins across processes. [`ShmQueue::watch`] gives
//! a [`Watch`]: a descriptor that turns readable when a message (or room,
//! or the end of every task) may be there, for `poll`, `epoll` and event
//! loops.
//!
//! Processes meet by **name** ([`ShmQueue::create`], [`ShmQueue::open`]), or
//! through an inherited or passed **descriptor** ([`ShmQueue::create_anonymous`],
//! [`ShmQueue::fd`], [`ShmQueue::from_fd`]). A handle copied into a child by
//! `fork` works in the child too.
//!
//! # The segment
//!
//! A versioned header page (magic `RINGQSHM`, layout version
//! [`LAYOUT_VERSION`], sizes, offsets), a participant table and the slots,
//! at offsets computed from the sizes: there are no pointers in shared
//! memory. See `layout.rs` for the byte layout. Named segments are created
//! with mode `0o600` unless [`ShmOptions::mode`] says otherwise, appear
//! under their name only once fully written, and have their memory
//! allocated up front.
//!
//! # The protocol
//!
//! The ring is Dmitry Vyukov's bounded MPMC queue
//! (<https://www.1024cores.net/home/lock-free-algorithms/queues/bounded-mpmc-queue>)
//! in the variant of crossbeam's `ArrayQueue`, as [`crate::BoundedQueue`]:
//! per-slot stamps, one CAS on `head` or `tail` to claim, a Release store to
//! publish, the closed flag a bit of `tail`. What it adds is *ownership*:
//! each claim names the participant that made it, in the `tail`/`head` word
//! its CAS writes, and whoever moves that word next first copies the name
//! into the claimed slots that are still unpublished. So at any time, every
//! claimed-but-unfinished slot can be attributed to a participant, at the
//! cost of one extra load on the fast path. `ring.rs` states the invariant
//! and argues it.
//!
//! # When a process dies
//!
//! A participant is a handle: an entry in the segment's table holding its
//! process's PID *and start time* (so a reused PID is not mistaken for the
//! old process). When an operation finds a slot held by another
//! participant for longer than a short spin, it checks whether that
//! process is alive. If it is, the operation reports full or empty (or
//! sleeps for at most 10 ms before looking again). If it is not, the
//! operation recovers the dead participant (`recovery.rs`): it reclaims
//! every slot the dead one held, then carries on.
//!
//! **What may be lost:** a process killed during a push loses the messages
//! of that call which it had not published (it never returned `Ok` for
//! them, and nobody ever sees part of one). A process killed during a pop
//! loses the messages that call had claimed and not released: one for a
//! single pop, at most one batch for a batch pop. That is per thread that
//! was inside a call. Nothing else is lost, nothing is delivered twice, and
//! the queue keeps working for everyone else. A killed process's share of
//! the task counter, if it held tasks, is not given back.
//!
//! # A stopped peer
//!
//! Recovery needs the holder to be *dead*. A process that is alive but not
//! running (stopped by `SIGSTOP` or a debugger, a thread hung between its
//! claim and its publish, a machine swapping it out for good) keeps its
//! claim, and the ring is in order: consumers wait at its unpublished
//! message (messages pushed after it stay behind it), and producers wait at
//! its unreleased slot once they come round to it. A thread that calls
//! `execve` while a sibling is in the middle of a push keeps that claim
//! "alive" until the new program exits. Nothing is lost, and the queue
//! moves again when the process resumes or dies; meanwhile blocking calls
//! wait until their deadline. Use deadlines (`*_deadline`, `pop_timeout`)
//! where a stuck peer must be noticed, and [`ShmQueue::claim_holders`] to
//! name the processes holding unfinished claims.
//!
//! # Who can do what
//!
//! A named segment is a file in `/dev/shm`, a directory every local user
//! can create files in (its sticky bit lets only a file's owner remove it).
//!
//! - **Create:** anyone can create a name first. [`ShmQueue::create`] then
//!   fails with `AlreadyExists`: a squatter can deny service (choose names
//!   others cannot guess, or use anonymous segments), but not get its file
//!   used.
//! - **Open:** [`ShmQueue::open`] checks the file it opened (`fstat` on the
//!   descriptor, not the path again): a regular file, owned by the
//!   effective uid, that neither group nor others can write, and fully
//!   allocated. [`Trust`] widens the first two rules explicitly (another
//!   owner, a group that may write, anyone); a refusal is
//!   [`OpenError::Untrusted`] naming the owner and mode found. Reading is
//!   not checked: read access does not let anyone change the queue.
//! - **Write:** whoever can write the file (its owner, a trusted group) can
//!   put any bytes in it: forged messages, or damage that makes calls fail
//!   (see below). That is the trust [`Trust`] expresses. An anonymous
//!   segment can be written by whoever holds its descriptor.
//! - **Delete:** the owner (and root) can unlink the name; handles already
//!   open keep working.
//!
//! # Untrusted shared memory
//!
//! Any process that can open the segment can write anything into it. Every
//! value read from it is checked before use: positions against the
//! capacity, lengths against the maximum message size, owners against the
//! participant table, the header against the layout recomputed from its
//! sizes (and the file's length) when opening. A check that fails gives
//! [`ShmError::Corrupt`] (or an [`OpenError`]) on that call; a damaged
//! message is dropped. Nothing read from the segment can make this process
//! touch memory outside it. Shared bytes are only ever accessed through
//! atomics, so a racing peer cannot cause undefined behaviour here either
//! (see `segment.rs`). Recovery costs one pass over the slots however many
//! participant entries are dead or forged. What a writer can still do is
//! deny service: fill the queue, or corrupt it so that every call fails.
//!
//! What the file's shape could do is checked too. Opening refuses a file
//! whose memory is not all allocated ([`OpenError::NotAllocated`]: its holes
//! would fault with `SIGBUS` once `/dev/shm` is full), and a descriptor of
//! an anonymous segment that is not sealed against shrinking and growing
//! ([`OpenError::Unsealed`]). What remains is beyond any user-space check,
//! as with any shared mapping: a peer that can write the file can shrink a
//! *named* segment, or punch a hole into any segment (`fallocate`), after
//! others mapped it. A shrink makes their next access to the lost pages
//! fault (`SIGBUS`, which kills a process that does not handle it; in C and
//! Python alike). A hole reads as zeros, which the checks see as an empty
//! or damaged ring, and writing into it faults once `/dev/shm` is full.
//! Only a peer with write access can do either, which is why the file mode
//! and [`Trust`] matter.
//!
//! # Namespaces
//!
//! Liveness is judged by PID and start time, which read differently in
//! another PID or time namespace. A process opens a segment only when
//! `/proc/self/ns/pid` tells which PID namespace it is in and it is the
//! segment's ([`OpenError::ForeignNamespace`], [`OpenError::UnknownNamespace`]);
//! a handle that `fork` carries into another namespace takes no entry
//! there ([`ShmError::ForeignNamespace`]). So no process ever reclaims an
//! entry whose holder it cannot prove dead.

mod error;
mod layout;
mod liveness;
#[cfg(not(loom))]
mod map;
mod message;
mod options;
mod participants;
mod queue;
mod recovery;
mod ring;
mod segment;
mod tasks;
#[cfg(not(loom))]
mod trust;
mod wait;
#[cfg(not(loom))]
mod watch;
mod words;

pub use error::{OpenError, ShmError};
pub use layout::{LAYOUT_VERSION, MAX_CAPACITY, MAX_MESSAGE_SIZE, MAX_PARTICIPANTS};
pub use message::Message;
pub use options::{ShmOptions, DEFAULT_MAX_PARTICIPANTS};
pub use queue::ShmQueue;
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub use queue::{recovery_passes, PausePoint};
#[cfg(not(loom))]
pub use trust::Trust;
#[cfg(not(loom))]
pub use watch::{Event, Watch};
