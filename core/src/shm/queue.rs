//! [`ShmQueue`]: the handle a process holds on a shared-memory queue.

use std::fmt;
use std::mem::MaybeUninit;
use std::time::{Duration, Instant};

#[cfg(not(loom))]
use super::error::OpenError;
use super::error::ShmError;
use super::liveness::{self, ProcessId};
use super::participants::{self, Holder};
use super::recovery;
use super::ring::{Attempt, Ring, Stall};
use super::segment::{EntryIndex, Segment, Side};
use super::tasks;
use super::wait::{self, Poll};
use super::words::{Owner, SlotIndex};

/// The default [`ShmOptions::max_participants`].
pub const DEFAULT_MAX_PARTICIPANTS: usize = 256;

/// The sizes and permissions of a new segment.
///
/// # Examples
///
/// ```
/// use ringq::shm::ShmOptions;
///
/// let options = ShmOptions::new(1024, 4096).max_participants(16).mode(0o640);
/// assert_eq!(options.capacity(), 1024);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShmOptions {
    capacity: usize,
    max_message_size: usize,
    max_participants: usize,
    mode: u32,
}

impl ShmOptions {
    /// A queue of `capacity` messages of at most `max_message_size` bytes
    /// each, for up to [`DEFAULT_MAX_PARTICIPANTS`] handles at a time,
    /// created with mode `0o600`.
    ///
    /// Every slot reserves `max_message_size` bytes (plus 16, rounded up to
    /// 64), so the segment takes about `capacity * max_message_size` bytes
    /// of memory, allocated at creation.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = ringq::shm::ShmOptions::new(64, 256);
    /// assert_eq!(options.max_message_size(), 256);
    /// ```
    pub fn new(capacity: usize, max_message_size: usize) -> Self {
        Self {
            capacity,
            max_message_size,
            max_participants: DEFAULT_MAX_PARTICIPANTS,
            mode: 0o600,
        }
    }

    /// How many handles (one per `open`, and one per forked child that uses
    /// an inherited handle) may be attached at once, 1 to 1023.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = ringq::shm::ShmOptions::new(64, 256).max_participants(4);
    /// assert_eq!(options.participants(), 4);
    /// ```
    pub fn max_participants(mut self, n: usize) -> Self {
        self.max_participants = n;
        self
    }

    /// The permission bits of a named segment's file, applied exactly (the
    /// umask does not narrow them). Default `0o600`: only this user.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = ringq::shm::ShmOptions::new(64, 256).mode(0o660);
    /// assert_eq!(options.file_mode(), 0o660);
    /// ```
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode & 0o777;
        self
    }

    /// The capacity, in messages.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(ringq::shm::ShmOptions::new(3, 8).capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The largest message, in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(ringq::shm::ShmOptions::new(3, 8).max_message_size(), 8);
    /// ```
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The size of the participant table.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringq::shm::{ShmOptions, DEFAULT_MAX_PARTICIPANTS};
    /// assert_eq!(ShmOptions::new(3, 8).participants(), DEFAULT_MAX_PARTICIPANTS);
    /// ```
    pub fn participants(&self) -> usize {
        self.max_participants
    }

    /// The file mode.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(ringq::shm::ShmOptions::new(3, 8).file_mode(), 0o600);
    /// ```
    pub fn file_mode(&self) -> u32 {
        self.mode
    }
}

/// A message claimed by a pop, not yet released: read it with
/// [`copy_to`](Self::copy_to) and friends.
///
/// It lives only as long as the closure given to
/// [`try_pop_with`](ShmQueue::try_pop_with) and its relatives; the slot is
/// released when that closure returns (or panics). There is no `&[u8]` view
/// of the bytes: they are in shared memory, where another process could
/// change them, so they are copied out with atomic loads (see the module
/// docs).
pub struct Message<'a> {
    seg: &'a Segment,
    index: SlotIndex,
    len: usize,
}

impl Message<'_> {
    /// The message's length in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.try_push(b"hello").unwrap();
    /// assert_eq!(q.try_pop_with(|m| m.len()), Ok(5));
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the message has no bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.try_push(b"").unwrap();
    /// assert_eq!(q.try_pop_with(|m| m.is_empty()), Ok(true));
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies the message into the first [`len`](Self::len) bytes of `out`
    /// and returns them.
    ///
    /// # Panics
    ///
    /// If `out` is shorter than the message. The slot is released all the
    /// same (the message is then lost).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.try_push(b"abc").unwrap();
    /// let mut buf = [MaybeUninit::uninit(); 16];
    /// let got = q.try_pop_with(|m| m.copy_to_uninit(&mut buf).to_vec()).unwrap();
    /// assert_eq!(got, b"abc");
    /// ```
    pub fn copy_to_uninit<'b>(&self, out: &'b mut [MaybeUninit<u8>]) -> &'b mut [u8] {
        let out = &mut out[..self.len];
        // SAFETY: this message's slot is claimed by the pop that made it and
        // is released only after the closure holding `self` returns, and
        // `len` was checked against the maximum message size.
        unsafe { self.seg.read_message(self.index, out) };
        // SAFETY: `read_message` initialised every byte of `out`, and
        // `MaybeUninit<u8>` has the layout of `u8`.
        unsafe { &mut *(out as *mut [MaybeUninit<u8>] as *mut [u8]) }
    }

    /// Copies the message into the first [`len`](Self::len) bytes of `out`.
    ///
    /// # Panics
    ///
    /// If `out` is shorter than the message, as for
    /// [`copy_to_uninit`](Self::copy_to_uninit).
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.try_push(b"abc").unwrap();
    /// let mut buf = [0u8; 8];
    /// let n = q.try_pop_with(|m| { m.copy_to(&mut buf); m.len() }).unwrap();
    /// assert_eq!(&buf[..n], b"abc");
    /// ```
    pub fn copy_to(&self, out: &mut [u8]) {
        let out = &mut out[..self.len];
        // SAFETY: `[u8]` and `[MaybeUninit<u8>]` have the same layout, and
        // `copy_to_uninit` only writes initialised bytes through it.
        let out = unsafe { &mut *(out as *mut [u8] as *mut [MaybeUninit<u8>]) };
        self.copy_to_uninit(out);
    }

    /// The message as a new vector.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.try_push(b"abc").unwrap();
    /// assert_eq!(q.try_pop_with(|m| m.to_vec()), Ok(b"abc".to_vec()));
    /// ```
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.append_to(&mut v);
        v
    }

    /// Appends the message to `out`.
    fn append_to(&self, out: &mut Vec<u8>) {
        out.reserve(self.len);
        let start = out.len();
        self.copy_to_uninit(&mut out.spare_capacity_mut()[..self.len]);
        // SAFETY: `copy_to_uninit` initialised the `len` bytes after `start`.
        unsafe { out.set_len(start + self.len) };
    }
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message").field("len", &self.len).finish()
    }
}

/// How a step of a push or pop ended without an error.
enum Step<R> {
    Done(R),
    /// Full (push) or empty (pop); `stalled` when that is because another
    /// participant holds the slot.
    Unavailable {
        stalled: bool,
    },
}

/// Which participant this handle is, in this process.
#[derive(Clone, Copy, Debug)]
struct Participant {
    owner: Owner,
    entry: EntryIndex,
}

/// A handle on a shared-memory queue of byte messages. See the
/// [module docs](super) for what it is and how it works.
///
/// Every method takes `&self`: share one handle between the threads of a
/// process (in an `Arc`, or by reference), and give each process its own
/// (by name with [`open`](Self::open), or by descriptor with
/// [`from_fd`](Self::from_fd)). A handle copied into a child by `fork`
/// keeps working there: it takes a participant entry of the child's own at
/// its first use.
///
/// # Examples
///
/// ```
/// use ringq::shm::{ShmOptions, ShmQueue};
///
/// let q = ShmQueue::create_anonymous(&ShmOptions::new(8, 64)).unwrap();
/// q.push(b"job 1").unwrap();
/// let mut buf = Vec::new();
/// q.pop(&mut buf).unwrap();
/// assert_eq!(buf, b"job 1");
/// ```
pub struct ShmQueue {
    seg: Segment,
    #[cfg(not(loom))]
    fd: std::os::fd::OwnedFd,
    name: Option<String>,
    me: me::Me,
    /// Wake calls in a row that found sleepers counted but woke nobody: a
    /// hint that a dead process left its count behind (see `notify`).
    fruitless_wakes: std::sync::atomic::AtomicU32,
    /// The last holder of a stalled slot found alive; see `liveness.rs`.
    alive_cache: liveness::AliveCache,
    #[cfg(feature = "test-hooks")]
    pause: hooks::Pause,
}

/// After this many fruitless wake calls a handle sweeps the participant
/// table for dead processes.
const FRUITLESS_WAKES_BEFORE_SWEEP: u32 = 1024;

impl ShmQueue {
    fn ring(&self) -> Ring<'_> {
        Ring::new(&self.seg)
    }

    fn max_message(&self) -> usize {
        self.seg.layout().max_message
    }

    #[inline]
    fn participant(&self) -> Result<Participant, ShmError> {
        self.me.get(&self.seg)
    }

    /// This process, as recoveries name their recoverer.
    fn process(&self) -> ProcessId {
        self.me.process()
    }

    fn alive(&self, p: ProcessId) -> bool {
        self.alive_cache.is_alive(&self.seg, p)
    }

    /// Checks the holder of a stalled slot. Returns `true` when it is gone
    /// and what it held was reclaimed (try again), `false` while it lives.
    #[cold]
    fn resolve(&self, stall: &Stall) -> bool {
        let me = self.process();
        let (entry, seen) = match participants::holder(&self.seg, stall.owner) {
            Holder::Process(entry, p, raw) => {
                if self.alive(p) {
                    return false;
                }
                (entry, raw)
            }
            Holder::BeingRecovered(entry, p, raw) => {
                // Another recoverer: wait for it while it lives, take over
                // if it died.
                if p == me || self.alive(p) {
                    return false;
                }
                (entry, raw)
            }
            Holder::Garbage(entry, raw) => (entry, raw),
            Holder::Nobody => {
                self.ring().reclaim(stall);
                return true;
            }
        };
        if let Some(recovery) = recovery::Recovery::begin(&self.seg, entry, seen, me) {
            #[cfg(feature = "test-hooks")]
            self.pause.at(hooks::Point::Recovering);
            recovery.finish();
        }
        true
    }

    /// Recovers every participant entry whose process has died without
    /// detaching (killed, or exited without dropping its handles), and
    /// returns how many it recovered.
    ///
    /// Queues do this on their own whenever they wait on a dead process's
    /// slot or need a free entry; call it to tidy up eagerly, for example
    /// after a worker process was killed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// assert_eq!(q.recover_dead(), 0);
    /// ```
    pub fn recover_dead(&self) -> usize {
        recovery::recover_dead(&self.seg, self.process())
    }

    /// Wakes waiters of `side`, and sweeps for dead participants when wake
    /// calls keep finding sleepers counted that are not there.
    #[inline]
    fn notify(&self, side: Side, all: bool) {
        if let Some(woken) = wait::notify(&self.seg, side, all) {
            self.note_wake(woken);
        }
    }

    #[cold]
    fn note_wake(&self, woken: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        // Relaxed: a heuristic counter of this process.
        if woken > 0 {
            self.fruitless_wakes.store(0, Relaxed);
        } else if self.fruitless_wakes.fetch_add(1, Relaxed) + 1 >= FRUITLESS_WAKES_BEFORE_SWEEP {
            self.fruitless_wakes.store(0, Relaxed);
            self.recover_dead();
        }
    }

    /// How many stalls one push or pop step may clear before it concludes
    /// the segment is damaged: each clears a dead participant or one of
    /// the slots of one, and a correct ring holds at most a lap of slots
    /// and a table of participants.
    fn stall_budget(&self) -> usize {
        let layout = self.seg.layout();
        2 * (layout.capacity + layout.participants)
    }

    /// Checks that a message of `len` bytes fits.
    fn check_len(&self, len: usize) -> Result<(), ShmError> {
        let max = self.max_message();
        if len > max {
            return Err(ShmError::TooLarge { len, max });
        }
        Ok(())
    }

    // ---- pushing ------------------------------------------------------------

    /// One attempt to push up to `n` messages; `message(i)` gives the parts
    /// of the `i`th (already checked against the maximum size).
    #[inline(always)]
    fn push_step<'m>(
        &self,
        me: Participant,
        n: usize,
        message: impl Fn(usize) -> Parts<'m>,
    ) -> Result<Step<usize>, ShmError> {
        let ring = self.ring();
        let mut budget = self.stall_budget();
        loop {
            match ring.try_claim_push(me.owner, n)? {
                Attempt::Claimed(claim) => {
                    #[cfg(feature = "test-hooks")]
                    self.pause.at(hooks::Point::PushClaimed);
                    let mut taken = false;
                    for (i, (pos, index)) in ring.claimed(claim).enumerate() {
                        // SAFETY: the claim gave us this slot until we
                        // publish it, which the next line does.
                        unsafe { self.seg.write_message(index, message(i).as_slices()) };
                        taken |= !ring.publish(index, pos, me.owner);
                    }
                    self.notify(Side::Pop, claim.count > 1);
                    if taken {
                        return Err(ShmError::Corrupt(
                            "a claimed slot was taken over before its publish",
                        ));
                    }
                    return Ok(Step::Done(claim.count));
                }
                Attempt::Unavailable => return Ok(Step::Unavailable { stalled: false }),
                Attempt::Closed => return Err(ShmError::Closed),
                Attempt::Stalled(stall) => {
                    if !self.resolve(&stall) {
                        return Ok(Step::Unavailable { stalled: true });
                    }
                    budget -= 1;
                    if budget == 0 {
                        return Err(ShmError::Corrupt("stalls keep coming back"));
                    }
                }
            }
        }
    }

    /// Pushes up to `n` messages, waiting until `deadline` for room.
    fn push_until<'m>(
        &self,
        n: usize,
        message: impl Fn(usize) -> Parts<'m>,
        deadline: Option<Instant>,
    ) -> Result<usize, ShmError> {
        let me = self.participant()?;
        let mine = self.seg.entry(me.entry).sleepers[Side::Push as usize];
        wait::wait_until(&self.seg, Side::Push, mine, deadline, || {
            match self.push_step(me, n, &message) {
                Ok(Step::Done(k)) => Poll::Ready(Ok(k)),
                Ok(Step::Unavailable { stalled }) => Poll::Pending { stalled },
                Err(e) => Poll::Ready(Err(e)),
            }
        })
        .unwrap_or(Err(ShmError::TimedOut))
    }

    /// Pushes `msg` if there is room, without waiting.
    ///
    /// # Errors
    ///
    /// [`ShmError::Full`], [`ShmError::Closed`], [`ShmError::TooLarge`],
    /// [`ShmError::Corrupt`], [`ShmError::TooManyParticipants`] (a forked
    /// child that found no free entry). Nothing was pushed.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringq::shm::{ShmError, ShmOptions, ShmQueue};
    ///
    /// let q = ShmQueue::create_anonymous(&ShmOptions::new(1, 16)).unwrap();
    /// q.try_push(b"a").unwrap();
    /// assert_eq!(q.try_push(b"b"), Err(ShmError::Full));
    /// ```
    pub fn try_push(&self, msg: &[u8]) -> Result<(), ShmError> {
        self.try_push_parts(&[msg])
    }

    /// Pushes one message made of `parts` (concatenated in the slot, so a
    /// header and a payload need no joining first), without waiting.
    ///
    /// # Errors
    ///
    /// As [`try_push`](Self::try_push); the parts' total length is what must
    /// fit.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.try_push_parts(&[b"head:", b"body"]).unwrap();
    /// assert_eq!(q.try_pop_with(|m| m.to_vec()), Ok(b"head:body".to_vec()));
    /// ```
    pub fn try_push_parts(&self, parts: &[&[u8]]) -> Result<(), ShmError> {
        self.check_len(parts.iter().map(|p| p.len()).sum())?;
        let me = self.participant()?;
        match self.push_step(me, 1, |_| Parts::Many(parts))? {
            Step::Done(_) => Ok(()),
            Step::Unavailable { .. } => Err(ShmError::Full),
        }
    }

    /// Pushes `msg`, waiting (spinning briefly, then sleeping) while the
    /// queue is full.
    ///
    /// # Errors
    ///
    /// [`ShmError::Closed`] (also when the queue closes while waiting),
    /// [`ShmError::TooLarge`], [`ShmError::Corrupt`],
    /// [`ShmError::TooManyParticipants`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.push(b"hello").unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn push(&self, msg: &[u8]) -> Result<(), ShmError> {
        self.push_parts_deadline(&[msg], None)
    }

    /// Pushes `msg`, waiting until `deadline` at most (`None`: no limit).
    ///
    /// Waiting in slices (a deadline some milliseconds away, in a loop) lets
    /// a caller do other work between waits, such as checking for signals.
    ///
    /// # Errors
    ///
    /// [`ShmError::TimedOut`], and those of [`push`](Self::push).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use ringq::shm::{ShmError, ShmOptions, ShmQueue};
    ///
    /// let q = ShmQueue::create_anonymous(&ShmOptions::new(1, 16)).unwrap();
    /// q.push(b"a").unwrap();
    /// let soon = Instant::now() + Duration::from_millis(5);
    /// assert_eq!(q.push_deadline(b"b", Some(soon)), Err(ShmError::TimedOut));
    /// ```
    pub fn push_deadline(&self, msg: &[u8], deadline: Option<Instant>) -> Result<(), ShmError> {
        self.push_parts_deadline(&[msg], deadline)
    }

    /// Pushes `msg`, waiting for room for `timeout` at most.
    ///
    /// # Errors
    ///
    /// As [`push_deadline`](Self::push_deadline).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.push_timeout(b"a", Duration::from_millis(10)).unwrap();
    /// ```
    pub fn push_timeout(&self, msg: &[u8], timeout: Duration) -> Result<(), ShmError> {
        self.push_parts_deadline(&[msg], Instant::now().checked_add(timeout))
    }

    /// Pushes one message made of `parts`, waiting until `deadline` at most
    /// (`None`: no limit).
    ///
    /// # Errors
    ///
    /// As [`push_deadline`](Self::push_deadline).
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.push_parts_deadline(&[b"a", b"b"], None).unwrap();
    /// assert_eq!(q.try_pop_with(|m| m.to_vec()), Ok(b"ab".to_vec()));
    /// ```
    pub fn push_parts_deadline(
        &self,
        parts: &[&[u8]],
        deadline: Option<Instant>,
    ) -> Result<(), ShmError> {
        self.check_len(parts.iter().map(|p| p.len()).sum())?;
        self.push_until(1, |_| Parts::Many(parts), deadline)
            .map(drop)
    }

    /// Pushes the longest prefix of `msgs` that fits, claiming the slots in
    /// one atomic step, without waiting. Returns how many were pushed: 0
    /// when the queue is full (or `msgs` is empty).
    ///
    /// # Errors
    ///
    /// [`ShmError::TooLarge`] if any message is too long (then none is
    /// pushed), [`ShmError::Closed`], [`ShmError::Corrupt`],
    /// [`ShmError::TooManyParticipants`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// assert_eq!(q.try_push_many(&[b"a", b"b", b"c"]), Ok(2));
    /// assert_eq!(q.try_push_many(&[b"c"]), Ok(0));
    /// ```
    pub fn try_push_many<M: AsRef<[u8]>>(&self, msgs: &[M]) -> Result<usize, ShmError> {
        if msgs.is_empty() {
            return Ok(0);
        }
        for m in msgs {
            self.check_len(m.as_ref().len())?;
        }
        let me = self.participant()?;
        match self.push_step(me, msgs.len(), |i| Parts::One(msgs[i].as_ref()))? {
            Step::Done(n) => Ok(n),
            Step::Unavailable { .. } => Ok(0),
        }
    }

    /// Pushes the longest prefix of `msgs` that fits, waiting until
    /// `deadline` at most (`None`: no limit) for room for at least one.
    /// Returns how many were pushed (0 only for an empty `msgs`); call it
    /// again with the rest.
    ///
    /// # Errors
    ///
    /// [`ShmError::TimedOut`], and those of
    /// [`try_push_many`](Self::try_push_many).
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// let msgs = [b"a", b"b", b"c"];
    /// let mut sent = 0;
    /// while sent < msgs.len() {
    ///     sent += q.push_many_deadline(&msgs[sent..], None).unwrap();
    /// }
    /// assert_eq!(q.len(), 3);
    /// ```
    pub fn push_many_deadline<M: AsRef<[u8]>>(
        &self,
        msgs: &[M],
        deadline: Option<Instant>,
    ) -> Result<usize, ShmError> {
        if msgs.is_empty() {
            return Ok(0);
        }
        for m in msgs {
            self.check_len(m.as_ref().len())?;
        }
        self.push_until(msgs.len(), |i| Parts::One(msgs[i].as_ref()), deadline)
    }

    // ---- popping ------------------------------------------------------------

    /// One attempt to pop up to `max` messages into `deliver`.
    #[inline(always)]
    fn pop_step(
        &self,
        me: Participant,
        max: usize,
        deliver: &mut impl FnMut(Message<'_>),
    ) -> Result<Step<usize>, ShmError> {
        let ring = self.ring();
        let mut budget = self.stall_budget();
        loop {
            match ring.try_claim_pop(me.owner, max)? {
                Attempt::Claimed(claim) => {
                    #[cfg(feature = "test-hooks")]
                    self.pause.at(hooks::Point::PopClaimed);
                    let mut slots = ReleaseOnDrop {
                        ring: &ring,
                        me: me.owner,
                        claimed: ring.claimed(claim),
                        current: None,
                    };
                    let mut damage = None;
                    while let Some((pos, index)) = slots.claimed.next() {
                        // SAFETY: the claim gave us this slot until the
                        // release below (or the guard's, on a panic).
                        let len = unsafe { self.seg.message_len(index) } as usize;
                        if len <= self.max_message() {
                            // The guard releases this slot if `deliver` panics.
                            slots.holding(pos, index);
                            deliver(Message {
                                seg: &self.seg,
                                index,
                                len,
                            });
                            slots.held();
                        } else {
                            damage = Some("a message's length is past the maximum");
                        }
                        if !ring.release(index, pos, me.owner) {
                            damage = Some("a claimed slot was taken over while it was read");
                        }
                    }
                    self.notify(Side::Push, claim.count > 1);
                    return match damage {
                        Some(what) => Err(ShmError::Corrupt(what)),
                        None => Ok(Step::Done(claim.count)),
                    };
                }
                Attempt::Unavailable => return Ok(Step::Unavailable { stalled: false }),
                Attempt::Closed => return Err(ShmError::Closed),
                Attempt::Stalled(stall) => {
                    if !self.resolve(&stall) {
                        return Ok(Step::Unavailable { stalled: true });
                    }
                    budget -= 1;
                    if budget == 0 {
                        return Err(ShmError::Corrupt("stalls keep coming back"));
                    }
                }
            }
        }
    }

    /// Pops up to `max` messages into `deliver`, waiting until `deadline`.
    fn pop_until(
        &self,
        max: usize,
        deadline: Option<Instant>,
        deliver: &mut impl FnMut(Message<'_>),
    ) -> Result<usize, ShmError> {
        let me = self.participant()?;
        let mine = self.seg.entry(me.entry).sleepers[Side::Pop as usize];
        wait::wait_until(&self.seg, Side::Pop, mine, deadline, || {
            match self.pop_step(me, max, deliver) {
                Ok(Step::Done(k)) => Poll::Ready(Ok(k)),
                Ok(Step::Unavailable { stalled }) => Poll::Pending { stalled },
                Err(e) => Poll::Ready(Err(e)),
            }
        })
        .unwrap_or(Err(ShmError::TimedOut))
    }

    /// Pops the oldest message into `f`, without waiting, and returns what
    /// `f` returns. The message's slot is released when `f` returns.
    ///
    /// # Errors
    ///
    /// [`ShmError::Empty`], [`ShmError::Closed`] (closed and drained),
    /// [`ShmError::Corrupt`] (the message was damaged and is dropped; `f`
    /// was not called), [`ShmError::TooManyParticipants`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ringq::shm::{ShmError, ShmOptions, ShmQueue};
    ///
    /// let q = ShmQueue::create_anonymous(&ShmOptions::new(2, 16)).unwrap();
    /// assert_eq!(q.try_pop_with(|m| m.len()), Err(ShmError::Empty));
    /// q.try_push(b"four").unwrap();
    /// assert_eq!(q.try_pop_with(|m| m.len()), Ok(4));
    /// ```
    pub fn try_pop_with<R>(&self, f: impl FnOnce(Message<'_>) -> R) -> Result<R, ShmError> {
        let me = self.participant()?;
        let mut f = Some(f);
        let mut out = None;
        let mut deliver = |m: Message<'_>| {
            if let Some(f) = f.take() {
                out = Some(f(m));
            }
        };
        match self.pop_step(me, 1, &mut deliver)? {
            Step::Done(_) => out.ok_or(ShmError::Empty),
            Step::Unavailable { .. } => Err(ShmError::Empty),
        }
    }

    /// Pops the oldest message into `f`, waiting until `deadline` at most
    /// (`None`: no limit), and returns what `f` returns.
    ///
    /// # Errors
    ///
    /// [`ShmError::TimedOut`], [`ShmError::Closed`], [`ShmError::Corrupt`],
    /// [`ShmError::TooManyParticipants`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use ringq::shm::{ShmError, ShmOptions, ShmQueue};
    ///
    /// let q = ShmQueue::create_anonymous(&ShmOptions::new(2, 16)).unwrap();
    /// let soon = Some(Instant::now() + Duration::from_millis(5));
    /// assert_eq!(q.pop_with_deadline(soon, |m| m.len()), Err(ShmError::TimedOut));
    /// ```
    pub fn pop_with_deadline<R>(
        &self,
        deadline: Option<Instant>,
        f: impl FnOnce(Message<'_>) -> R,
    ) -> Result<R, ShmError> {
        let mut f = Some(f);
        let mut out = None;
        let mut deliver = |m: Message<'_>| {
            if let Some(f) = f.take() {
                out = Some(f(m));
            }
        };
        self.pop_until(1, deadline, &mut deliver)?;
        out.ok_or(ShmError::Corrupt("a pop delivered no message"))
    }

    /// Pops the oldest message into `out` (replacing its contents), without
    /// waiting, and returns its length.
    ///
    /// # Errors
    ///
    /// As [`try_pop_with`](Self::try_pop_with).
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.try_push(b"abc").unwrap();
    /// let mut buf = Vec::new();
    /// assert_eq!(q.try_pop(&mut buf), Ok(3));
    /// assert_eq!(buf, b"abc");
    /// ```
    pub fn try_pop(&self, out: &mut Vec<u8>) -> Result<usize, ShmError> {
        out.clear();
        self.try_pop_with(|m| {
            m.append_to(out);
            m.len()
        })
    }

    /// Pops the oldest message into `out` (replacing its contents), waiting
    /// while the queue is empty, and returns its length.
    ///
    /// # Errors
    ///
    /// [`ShmError::Closed`] once the queue is closed and drained,
    /// [`ShmError::Corrupt`], [`ShmError::TooManyParticipants`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.push(b"abc").unwrap();
    /// q.close();
    /// let mut buf = Vec::new();
    /// assert_eq!(q.pop(&mut buf), Ok(3));
    /// assert_eq!(q.pop(&mut buf), Err(ringq::shm::ShmError::Closed));
    /// ```
    pub fn pop(&self, out: &mut Vec<u8>) -> Result<usize, ShmError> {
        self.pop_deadline(out, None)
    }

    /// Pops the oldest message into `out`, waiting until `deadline` at most
    /// (`None`: no limit), and returns its length.
    ///
    /// # Errors
    ///
    /// [`ShmError::TimedOut`], and those of [`pop`](Self::pop).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// let mut buf = Vec::new();
    /// let soon = Some(Instant::now() + Duration::from_millis(5));
    /// assert!(q.pop_deadline(&mut buf, soon).is_err());
    /// ```
    pub fn pop_deadline(
        &self,
        out: &mut Vec<u8>,
        deadline: Option<Instant>,
    ) -> Result<usize, ShmError> {
        out.clear();
        self.pop_with_deadline(deadline, |m| {
            m.append_to(out);
            m.len()
        })
    }

    /// Pops the oldest message into `out`, waiting for `timeout` at most.
    ///
    /// # Errors
    ///
    /// As [`pop_deadline`](Self::pop_deadline).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.push(b"x").unwrap();
    /// let mut buf = Vec::new();
    /// assert_eq!(q.pop_timeout(&mut buf, Duration::from_millis(10)), Ok(1));
    /// ```
    pub fn pop_timeout(&self, out: &mut Vec<u8>, timeout: Duration) -> Result<usize, ShmError> {
        self.pop_deadline(out, Instant::now().checked_add(timeout))
    }

    /// Pops up to `max` of the oldest messages, claimed in one atomic step,
    /// into `f` one by one, without waiting. Returns how many: 0 when the
    /// queue is empty (or `max` is 0).
    ///
    /// Each message's slot is released when `f` returns for it. If `f`
    /// panics, the messages of this batch it has not seen yet are dropped.
    ///
    /// # Errors
    ///
    /// [`ShmError::Closed`] (closed and drained), [`ShmError::Corrupt`] (a
    /// damaged message was dropped; the rest of the batch still went to
    /// `f`), [`ShmError::TooManyParticipants`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// q.try_push_many(&[b"a", b"b", b"c"]).unwrap();
    /// let mut got = Vec::new();
    /// assert_eq!(q.try_pop_many_with(2, |m| got.push(m.to_vec())), Ok(2));
    /// assert_eq!(got, [b"a", b"b"]);
    /// ```
    pub fn try_pop_many_with(
        &self,
        max: usize,
        mut f: impl FnMut(Message<'_>),
    ) -> Result<usize, ShmError> {
        if max == 0 {
            return Ok(0);
        }
        let me = self.participant()?;
        match self.pop_step(me, max, &mut f)? {
            Step::Done(n) => Ok(n),
            Step::Unavailable { .. } => Ok(0),
        }
    }

    /// Pops up to `max` messages into `f` as
    /// [`try_pop_many_with`](Self::try_pop_many_with) does, waiting until
    /// `deadline` at most (`None`: no limit) for at least one. Returns how
    /// many (0 only when `max` is 0).
    ///
    /// # Errors
    ///
    /// [`ShmError::TimedOut`], and those of
    /// [`try_pop_many_with`](Self::try_pop_many_with).
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// q.push(b"a").unwrap();
    /// let mut n = 0;
    /// assert_eq!(q.pop_many_with_deadline(8, None, |_| n += 1), Ok(1));
    /// ```
    pub fn pop_many_with_deadline(
        &self,
        max: usize,
        deadline: Option<Instant>,
        mut f: impl FnMut(Message<'_>),
    ) -> Result<usize, ShmError> {
        if max == 0 {
            return Ok(0);
        }
        self.pop_until(max, deadline, &mut f)
    }

    /// Appends up to `max` of the oldest messages to `out`, claimed in one
    /// atomic step, without waiting. Returns how many: 0 when empty.
    ///
    /// # Errors
    ///
    /// As [`try_pop_many_with`](Self::try_pop_many_with); on
    /// [`ShmError::Corrupt`] the undamaged messages were still appended.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// q.try_push_many(&[b"a", b"b"]).unwrap();
    /// let mut out = Vec::new();
    /// assert_eq!(q.try_pop_many(&mut out, 8), Ok(2));
    /// assert_eq!(out, [b"a", b"b"]);
    /// ```
    pub fn try_pop_many(&self, out: &mut Vec<Vec<u8>>, max: usize) -> Result<usize, ShmError> {
        self.try_pop_many_with(max, |m| out.push(m.to_vec()))
    }

    // ---- state --------------------------------------------------------------

    /// Closes the queue for every process: pushes fail from now on, pops
    /// drain what is left and then report [`ShmError::Closed`], and every
    /// blocked push and pop wakes. Returns `true` if this call closed it.
    /// A closed queue stays closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// assert!(q.close());
    /// assert!(!q.close());
    /// assert_eq!(q.try_push(b"x"), Err(ringq::shm::ShmError::Closed));
    /// ```
    pub fn close(&self) -> bool {
        let closed = self.ring().close();
        if closed {
            self.notify(Side::Pop, true);
            self.notify(Side::Push, true);
        }
        closed
    }

    /// Whether the queue has been closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// assert!(!q.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.ring().is_closed()
    }

    /// The number of messages in the queue (a snapshot), counting those
    /// being pushed right now.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// q.try_push(b"x").unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.ring().len()
    }

    /// Whether the queue holds no message (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// assert!(q.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of messages the queue holds at most.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// assert_eq!(q.capacity(), 4);
    /// ```
    pub fn capacity(&self) -> usize {
        self.seg.layout().capacity
    }

    /// The longest message the queue takes, in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// assert_eq!(q.max_message_size(), 16);
    /// ```
    pub fn max_message_size(&self) -> usize {
        self.max_message()
    }

    /// How many threads, in all processes, are asleep (or about to sleep)
    /// in a pop: a snapshot, for diagnostics and tests.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// assert_eq!(q.waiting_poppers(), 0);
    /// ```
    pub fn waiting_poppers(&self) -> usize {
        // Relaxed: a snapshot.
        self.seg
            .waiters(Side::Pop)
            .0
            .load(crate::loom::Ordering::Relaxed) as usize
    }

    /// How many threads, in all processes, are asleep (or about to sleep)
    /// in a push: a snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// assert_eq!(q.waiting_pushers(), 0);
    /// ```
    pub fn waiting_pushers(&self) -> usize {
        // Relaxed: a snapshot.
        self.seg
            .waiters(Side::Push)
            .0
            .load(crate::loom::Ordering::Relaxed) as usize
    }

    // ---- tasks --------------------------------------------------------------

    /// Counts `n` more unfinished tasks, in the segment, for every process.
    /// Call it before pushing the messages that carry them, so a consumer
    /// can never report one done before it is counted.
    ///
    /// # Errors
    ///
    /// [`ShmError::Corrupt`] if the count would overflow (only a damaged
    /// count can).
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// q.add_tasks(2).unwrap();
    /// assert_eq!(q.unfinished_tasks(), 2);
    /// ```
    pub fn add_tasks(&self, n: u64) -> Result<(), ShmError> {
        tasks::add(&self.seg, n)
    }

    /// Reports one task done; when none is left, every
    /// [`join_deadline`](Self::join_deadline) returns.
    ///
    /// # Errors
    ///
    /// [`ShmError::TaskDoneTooOften`] if no task is unfinished.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringq::shm::ShmError;
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// q.add_tasks(1).unwrap();
    /// q.task_done().unwrap();
    /// assert_eq!(q.task_done(), Err(ShmError::TaskDoneTooOften));
    /// ```
    pub fn task_done(&self) -> Result<(), ShmError> {
        tasks::done(&self.seg, 1)
    }

    /// The number of unfinished tasks (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    pub fn unfinished_tasks(&self) -> u64 {
        tasks::unfinished(&self.seg)
    }

    /// Waits until no task is unfinished, or until `deadline` (`None`: no
    /// limit).
    ///
    /// # Errors
    ///
    /// [`ShmError::TimedOut`], [`ShmError::TooManyParticipants`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use ringq::shm::ShmError;
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// q.join_deadline(None).unwrap(); // nothing to wait for
    /// q.add_tasks(1).unwrap();
    /// let soon = Some(Instant::now() + Duration::from_millis(5));
    /// assert_eq!(q.join_deadline(soon), Err(ShmError::TimedOut));
    /// ```
    pub fn join_deadline(&self, deadline: Option<Instant>) -> Result<(), ShmError> {
        let me = self.participant()?;
        let mine = self.seg.entry(me.entry).sleepers[Side::Join as usize];
        wait::wait_until(&self.seg, Side::Join, mine, deadline, || {
            if tasks::unfinished(&self.seg) == 0 {
                Poll::Ready(())
            } else {
                Poll::Pending { stalled: false }
            }
        })
        .ok_or(ShmError::TimedOut)
    }
}

/// The bytes of one message: one slice, or parts to concatenate.
#[derive(Clone, Copy)]
enum Parts<'a> {
    One(&'a [u8]),
    Many(&'a [&'a [u8]]),
}

impl<'a> Parts<'a> {
    fn as_slices(&self) -> &[&'a [u8]] {
        match self {
            Parts::One(m) => std::slice::from_ref(m),
            Parts::Many(parts) => parts,
        }
    }
}

/// Releases the claimed slots a pop has not released yet, should the
/// caller's closure panic: the queue must never be left waiting for a slot
/// this process still holds. Those messages are lost.
struct ReleaseOnDrop<'r, 'a> {
    ring: &'r Ring<'a>,
    me: Owner,
    claimed: super::ring::Claimed,
    /// The slot being delivered, which the loop releases after `deliver`
    /// returns; the guard releases it if `deliver` does not return.
    current: Option<(super::words::Pos, SlotIndex)>,
}

impl ReleaseOnDrop<'_, '_> {
    fn holding(&mut self, pos: super::words::Pos, index: SlotIndex) {
        self.current = Some((pos, index));
    }

    fn held(&mut self) {
        self.current = None;
    }
}

impl Drop for ReleaseOnDrop<'_, '_> {
    fn drop(&mut self) {
        if let Some((pos, index)) = self.current.take() {
            self.ring.release(index, pos, self.me);
        }
        for (pos, index) in self.claimed.by_ref() {
            self.ring.release(index, pos, self.me);
        }
    }
}

impl fmt::Debug for ShmQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShmQueue")
            .field("name", &self.name)
            .field("capacity", &self.capacity())
            .field("max_message_size", &self.max_message())
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Drop for ShmQueue {
    fn drop(&mut self) {
        self.me.detach(&self.seg);
    }
}

#[cfg(not(loom))]
mod open {
    //! Creating and opening segments.

    use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

    use super::super::layout::Layout;
    use super::super::map::{self, NewFile, NewSegment};
    use super::*;

    impl ShmQueue {
        fn attach(seg: Segment, fd: OwnedFd, name: Option<String>) -> Result<Self, OpenError> {
            let me = me::Me::attach(&seg).map_err(|_| OpenError::TooManyParticipants)?;
            Ok(Self {
                seg,
                fd,
                name,
                me,
                fruitless_wakes: Default::default(),
                alive_cache: Default::default(),
                #[cfg(feature = "test-hooks")]
                pause: Default::default(),
            })
        }

        /// Builds a new segment: maps it, writes the initial words, then
        /// the header (magic last).
        fn build(
            options: &ShmOptions,
            new: impl FnOnce(usize) -> Result<NewSegment, OpenError>,
        ) -> Result<(Segment, NewFile), OpenError> {
            let layout = Layout::new(
                options.capacity,
                options.max_message_size,
                options.max_participants,
            )?;
            let NewSegment { map, file } = new(layout.total)?;
            let seg = Segment::new(map, layout);
            Ring::new(&seg).initialize();
            map::write_identity(seg.mapping(), &layout.identity(map::own_pid_namespace()));
            Ok((seg, file))
        }

        /// Creates a queue under `name`, visible to every process of this
        /// user (with the default mode) until [`unlink`](Self::unlink)ed.
        ///
        /// The name is 1 to 200 characters of `A-Z a-z 0-9 . _ -`, after an
        /// optional leading `/`, and not starting with a dot. The segment is
        /// the file `/dev/shm/<name>`, as `shm_open("/<name>")` would make
        /// it, so C programs can also reach it. It appears fully formed: an
        /// opener never sees it half-written.
        ///
        /// # Errors
        ///
        /// [`OpenError::InvalidName`], [`OpenError::InvalidOptions`],
        /// [`OpenError::Io`] with kind `AlreadyExists` if the name is taken,
        /// or another kind if the system refused (no space in `/dev/shm`,
        /// say).
        ///
        /// # Examples
        ///
        /// ```
        /// use ringq::shm::{ShmOptions, ShmQueue};
        ///
        /// let name = format!("ringq-doc-create-{}", std::process::id());
        /// let q = ShmQueue::create(&name, &ShmOptions::new(16, 128)).unwrap();
        /// let other = ShmQueue::open(&name).unwrap(); // another process would do this
        /// q.push(b"hi").unwrap();
        /// assert_eq!(other.try_pop_with(|m| m.to_vec()), Ok(b"hi".to_vec()));
        /// ShmQueue::unlink(&name).unwrap();
        /// ```
        pub fn create(name: &str, options: &ShmOptions) -> Result<Self, OpenError> {
            Self::create_with(name, options, true)
        }

        /// [`create`](Self::create), choosing whether to use `O_TMPFILE`
        /// (`false` tests the fallback).
        #[doc(hidden)]
        pub fn create_with(
            name: &str,
            options: &ShmOptions,
            prefer_tmpfile: bool,
        ) -> Result<Self, OpenError> {
            let bare = map::validate_name(name)?;
            let (seg, mut file) = Self::build(options, |len| {
                NewSegment::in_shm_dir(len, options.mode, prefer_tmpfile)
            })?;
            file.publish(bare)?;
            Self::attach(seg, file.into_fd(), Some(bare.to_owned()))
        }

        /// Creates an anonymous queue (a sealed `memfd`), reachable by
        /// processes that inherit or are sent its descriptor
        /// ([`fd`](Self::fd), [`from_fd`](Self::from_fd)), and by children
        /// forked with this handle.
        ///
        /// # Errors
        ///
        /// [`OpenError::InvalidOptions`], [`OpenError::Io`].
        ///
        /// # Examples
        ///
        /// ```
        /// use ringq::shm::{ShmOptions, ShmQueue};
        ///
        /// let q = ShmQueue::create_anonymous(&ShmOptions::new(16, 128)).unwrap();
        /// assert_eq!(q.name(), None);
        /// ```
        pub fn create_anonymous(options: &ShmOptions) -> Result<Self, OpenError> {
            let (seg, file) = Self::build(options, NewSegment::memfd)?;
            file.seal()?;
            Self::attach(seg, file.into_fd(), None)
        }

        /// Opens the queue created under `name`.
        ///
        /// # Errors
        ///
        /// [`OpenError::InvalidName`]; [`OpenError::Io`] with kind
        /// `NotFound` or `PermissionDenied`; [`OpenError::NotRingq`],
        /// [`OpenError::Version`], [`OpenError::Truncated`] or
        /// [`OpenError::BadHeader`] for a file that is not a segment this
        /// code can use; [`OpenError::ForeignPidNamespace`];
        /// [`OpenError::TooManyParticipants`].
        ///
        /// # Examples
        ///
        /// ```
        /// use std::io::ErrorKind;
        /// use ringq::shm::{OpenError, ShmQueue};
        ///
        /// match ShmQueue::open("ringq-doc-no-such-queue") {
        ///     Err(OpenError::Io(e)) => assert_eq!(e.kind(), ErrorKind::NotFound),
        ///     other => panic!("{other:?}"),
        /// }
        /// ```
        pub fn open(name: &str) -> Result<Self, OpenError> {
            let bare = map::validate_name(name)?;
            let opened = map::open_named(bare)?;
            Self::from_opened(opened, Some(bare.to_owned()))
        }

        /// Opens the queue whose segment `fd` refers to (a descriptor from
        /// [`fd`](Self::fd), inherited or received over a Unix socket, or a
        /// named segment's file opened by other means). The handle owns
        /// `fd` from now on.
        ///
        /// # Errors
        ///
        /// As [`open`](Self::open), less the name checks.
        ///
        /// # Examples
        ///
        /// ```
        /// use ringq::shm::{ShmOptions, ShmQueue};
        ///
        /// let q = ShmQueue::create_anonymous(&ShmOptions::new(4, 16)).unwrap();
        /// let fd = q.fd().try_clone_to_owned().unwrap(); // what a child inherits
        /// let other = ShmQueue::from_fd(fd).unwrap();
        /// q.push(b"x").unwrap();
        /// assert_eq!(other.len(), 1);
        /// ```
        pub fn from_fd(fd: OwnedFd) -> Result<Self, OpenError> {
            let opened = map::open_fd(fd)?;
            Self::from_opened(opened, None)
        }

        fn from_opened(
            opened: map::OpenedSegment,
            name: Option<String>,
        ) -> Result<Self, OpenError> {
            if !opened.pid_ns.compatible(map::own_pid_namespace()) {
                return Err(OpenError::ForeignPidNamespace);
            }
            let seg = Segment::new(opened.map, opened.layout);
            Self::attach(seg, opened.fd, name)
        }

        /// Removes `name`, so that no new process can open the queue. Handles
        /// already open keep working; the memory is freed when the last one
        /// is gone.
        ///
        /// # Errors
        ///
        /// [`OpenError::InvalidName`], [`OpenError::Io`] (`NotFound` if no
        /// queue has that name).
        ///
        /// # Examples
        ///
        /// ```
        /// use ringq::shm::{ShmOptions, ShmQueue};
        ///
        /// let name = format!("ringq-doc-unlink-{}", std::process::id());
        /// let q = ShmQueue::create(&name, &ShmOptions::new(4, 16)).unwrap();
        /// ShmQueue::unlink(&name).unwrap();
        /// assert!(ShmQueue::open(&name).is_err());
        /// q.push(b"still works").unwrap();
        /// ```
        pub fn unlink(name: &str) -> Result<(), OpenError> {
            let bare = map::validate_name(name)?;
            map::unlink(bare)?;
            Ok(())
        }

        /// The descriptor of the segment, to hand to another process (it is
        /// close-on-exec: duplicate it to pass it through `exec`).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::os::fd::AsRawFd;
        /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
        /// assert!(q.fd().as_raw_fd() >= 0);
        /// ```
        pub fn fd(&self) -> BorrowedFd<'_> {
            self.fd.as_fd()
        }

        /// The name the queue was created or opened with (without the
        /// leading `/`), or `None` for one reached through a descriptor.
        ///
        /// # Examples
        ///
        /// ```
        /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
        /// assert_eq!(q.name(), None);
        /// ```
        pub fn name(&self) -> Option<&str> {
            self.name.as_deref()
        }
    }
}

/// Which participant a handle is; see `participants.rs`.
mod me {
    use super::*;

    /// The handle's participant entry.
    #[cfg(not(loom))]
    pub(super) struct Me {
        /// `fork_generation << 16 | owner`: the entry this handle holds in
        /// the process of that generation (owner 0: none).
        cached: std::sync::atomic::AtomicU64,
    }

    #[cfg(not(loom))]
    impl Me {
        fn pack(generation: u64, owner: Owner) -> u64 {
            (generation << 16) | u64::from(owner.raw())
        }

        fn take_entry(seg: &Segment) -> Result<Owner, ShmError> {
            recovery::attach(seg, liveness::current())
                .map(|(_, owner)| owner)
                .ok_or(ShmError::TooManyParticipants)
        }

        pub(super) fn attach(seg: &Segment) -> Result<Self, ShmError> {
            let generation = liveness::fork_generation();
            let owner = Self::take_entry(seg)?;
            Ok(Self {
                cached: std::sync::atomic::AtomicU64::new(Self::pack(generation, owner)),
            })
        }

        #[inline]
        pub(super) fn get(&self, seg: &Segment) -> Result<Participant, ShmError> {
            let generation = liveness::fork_generation();
            // Relaxed: the word is only ever this process's own, or a copy
            // made by fork, which the generation tells apart.
            let cached = self.cached.load(std::sync::atomic::Ordering::Relaxed);
            if cached >> 16 == generation {
                if let Some(p) = Self::decode(seg, cached) {
                    return Ok(p);
                }
            }
            self.reattach(seg, generation, cached)
        }

        fn decode(seg: &Segment, cached: u64) -> Option<Participant> {
            let owner = Owner::of_index(((cached & 0xffff) as usize).checked_sub(1)?)?;
            let entry = seg.entry_index(owner.index()?)?;
            Some(Participant { owner, entry })
        }

        /// This handle was copied into a forked child: take an entry of the
        /// child's own (the parent's entry stays the parent's).
        #[cold]
        fn reattach(
            &self,
            seg: &Segment,
            generation: u64,
            seen: u64,
        ) -> Result<Participant, ShmError> {
            let owner = Self::take_entry(seg)?;
            let new = Self::pack(generation, owner);
            // Relaxed: as in `get`; the CAS only picks one winner among this
            // process's threads.
            match self.cached.compare_exchange(
                seen,
                new,
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
            ) {
                Ok(_) => Self::decode(seg, new),
                Err(other) => {
                    // Another thread re-attached first: give ours back.
                    if let Some(p) = Self::decode(seg, new) {
                        participants::detach(seg, p.entry, liveness::current());
                    }
                    Self::decode(seg, other)
                }
            }
            .ok_or(ShmError::TooManyParticipants)
        }

        pub(super) fn process(&self) -> ProcessId {
            liveness::current()
        }

        /// Gives the entry back, if it belongs to this process (not to the
        /// parent this handle was copied from).
        pub(super) fn detach(&self, seg: &Segment) {
            let cached = self.cached.load(std::sync::atomic::Ordering::Relaxed);
            if cached >> 16 == liveness::fork_generation() {
                if let Some(p) = Self::decode(seg, cached) {
                    participants::detach(seg, p.entry, liveness::current());
                }
            }
        }
    }

    /// Under loom a handle is one model process, with a fixed entry.
    #[cfg(loom)]
    pub(super) struct Me {
        pub(super) participant: Participant,
        pub(super) process: ProcessId,
    }

    #[cfg(loom)]
    impl Me {
        pub(super) fn get(&self, _seg: &Segment) -> Result<Participant, ShmError> {
            Ok(self.participant)
        }

        pub(super) fn process(&self) -> ProcessId {
            self.process
        }

        /// A killed model process does not detach: it is gone.
        pub(super) fn detach(&self, seg: &Segment) {
            if liveness::is_alive(seg, self.process) {
                participants::detach(seg, self.participant.entry, self.process);
            }
        }
    }
}

#[cfg(loom)]
mod model {
    //! Model-checking entry points: a heap segment, model processes, and
    //! operations that stop where a killed process would.

    use super::*;
    use crate::loom::Ordering;

    impl ShmQueue {
        /// A queue on a fresh model segment, held by a new model process.
        #[doc(hidden)]
        pub fn model_new(options: &ShmOptions) -> Self {
            let layout = super::super::layout::Layout::new(
                options.capacity,
                options.max_message_size,
                options.max_participants,
            )
            .expect("valid model options");
            let seg = Segment::new(layout);
            Ring::new(&seg).initialize();
            Self::model_attach(seg)
        }

        /// Another handle on the same segment, held by a new model process.
        #[doc(hidden)]
        pub fn model_open(&self) -> Self {
            Self::model_attach(self.seg.clone())
        }

        fn model_attach(seg: Segment) -> Self {
            // Relaxed: model PIDs only need to be distinct.
            let pid = seg.model().next_pid.fetch_add(1, Ordering::Relaxed);
            let process = ProcessId { pid, start: 0 };
            let (entry, owner) = recovery::attach(&seg, process).expect("a free model entry");
            Self {
                seg,
                name: None,
                me: me::Me {
                    participant: Participant { owner, entry },
                    process,
                },
                fruitless_wakes: Default::default(),
                alive_cache: Default::default(),
                #[cfg(feature = "test-hooks")]
                pause: Default::default(),
            }
        }

        /// Marks this handle's model process dead.
        #[doc(hidden)]
        pub fn model_kill(&self) {
            self.seg.model().kill(self.me.process.pid);
        }

        /// Claims a slot for one message and dies before publishing it.
        #[doc(hidden)]
        pub fn model_push_then_die(&self) -> bool {
            self.model_push_many_then_die(1) == 1
        }

        /// Claims up to `n` slots in one step and dies before publishing
        /// any; returns how many it claimed.
        #[doc(hidden)]
        pub fn model_push_many_then_die(&self, n: usize) -> usize {
            let me = self.me.participant;
            let claimed = match self.ring().try_claim_push(me.owner, n) {
                Ok(Attempt::Claimed(claim)) => claim.count,
                _ => 0,
            };
            self.model_kill();
            claimed
        }

        /// Claims a message and dies before releasing its slot.
        #[doc(hidden)]
        pub fn model_pop_then_die(&self) -> bool {
            let me = self.me.participant;
            let claimed = matches!(
                self.ring().try_claim_pop(me.owner, 1),
                Ok(Attempt::Claimed(_))
            );
            self.model_kill();
            claimed
        }
    }
}

#[cfg(feature = "test-hooks")]
mod hooks {
    //! A pause point inside the claim-to-publish window, so that crash
    //! tests can kill a process exactly there. Compiled only with the
    //! `test-hooks` feature, which the crate's own tests enable.

    use std::os::fd::RawFd;
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::ShmQueue;

    /// Where an operation pauses.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[doc(hidden)]
    pub enum Point {
        /// A push has claimed its slots and written nothing.
        PushClaimed = 1,
        /// A pop has claimed its messages and read nothing.
        PopClaimed = 2,
        /// A push or pop found a dead holder and took its entry for
        /// recovery, and has reclaimed nothing yet.
        Recovering = 3,
    }

    /// `point << 32 | fd`, or 0 when unarmed.
    #[derive(Debug, Default)]
    pub(super) struct Pause(AtomicI64);

    impl Pause {
        #[inline]
        pub(super) fn at(&self, point: Point) {
            // Relaxed: armed before the operation by the same thread.
            let armed = self.0.load(Ordering::Relaxed);
            if armed != 0 && armed >> 32 == point as i64 {
                let fd = (armed & 0xffff_ffff) as RawFd;
                // SAFETY: writes one byte from a local to a descriptor the
                // test passed in; a failure is ignored.
                unsafe { libc::write(fd, b"p".as_ptr().cast(), 1) };
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            }
        }
    }

    impl ShmQueue {
        /// Makes the next operation that reaches `point` write one byte to
        /// `fd` and then sleep forever (for the test to kill the process).
        #[doc(hidden)]
        pub fn pause_at(&self, point: Point, fd: RawFd) {
            // Relaxed: read by this thread's next operation.
            self.pause
                .0
                .store(((point as i64) << 32) | i64::from(fd), Ordering::Relaxed);
        }
    }
}

#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub use hooks::Point as PausePoint;
