//! The pops: one message or a batch, into a closure or a buffer, each
//! without waiting, waiting, and until a deadline.

use std::time::{Duration, Instant};

use super::{Participant, ShmQueue, Step};
use crate::shm::error::ShmError;
use crate::shm::message::Message;
use crate::shm::ring::{Attempt, Claimed, Ring};
use crate::shm::segment::Side;
use crate::shm::wait::{self, Poll};
use crate::shm::words::{Owner, Pos, SlotIndex};

impl ShmQueue {
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
                    self.pause.at(super::hooks::Point::PopClaimed);
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

    /// Waits until a message is ready to pop, or until `deadline` (`None`:
    /// no limit), without popping it. A pop that follows may still find the
    /// queue empty, if another consumer was quicker: call it in a loop.
    ///
    /// For callers that must not run a pop's closure while they wait: a
    /// Python binding, say, waits here without the GIL, then takes the GIL
    /// and pops with [`try_pop_with`](Self::try_pop_with), copying the
    /// message once, into an object it allocates in the closure.
    ///
    /// # Errors
    ///
    /// [`ShmError::TimedOut`], [`ShmError::Closed`] (closed and drained),
    /// [`ShmError::Corrupt`], [`ShmError::TooManyParticipants`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use ringq::shm::ShmError;
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// let soon = Some(Instant::now() + Duration::from_millis(5));
    /// assert_eq!(q.wait_for_message_deadline(soon), Err(ShmError::TimedOut));
    /// q.push(b"ready").unwrap();
    /// q.wait_for_message_deadline(None).unwrap();
    /// assert_eq!(q.len(), 1); // still there
    /// ```
    pub fn wait_for_message_deadline(&self, deadline: Option<Instant>) -> Result<(), ShmError> {
        self.wait_without_claiming(Side::Pop, deadline, |ring, me| ring.try_claim_pop(me, 0))
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
}

/// Releases the claimed slots a pop has not released yet, should the
/// caller's closure panic: the queue must never be left waiting for a slot
/// this process still holds. Those messages are lost.
struct ReleaseOnDrop<'r, 'a> {
    ring: &'r Ring<'a>,
    me: Owner,
    claimed: Claimed,
    /// The slot being delivered, which the loop releases after `deliver`
    /// returns; the guard releases it if `deliver` does not return.
    current: Option<(Pos, SlotIndex)>,
}

impl ReleaseOnDrop<'_, '_> {
    fn holding(&mut self, pos: Pos, index: SlotIndex) {
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
