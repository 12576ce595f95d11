//! The pushes: single messages (whole or in parts) and batches, each
//! without waiting, waiting, and until a deadline.

use std::time::{Duration, Instant};

use super::{Participant, ShmQueue, Step};
use crate::shm::error::ShmError;
use crate::shm::ring::Attempt;
use crate::shm::segment::Side;
use crate::shm::wait::{self, Poll};

impl ShmQueue {
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
                    self.pause.at(super::hooks::Point::PushClaimed);
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

    /// Waits until `deadline` at most (`None`: no limit) for room for a
    /// message, without pushing anything.
    ///
    /// For callers that must decide, after the wait and before the push,
    /// whether to push at all: a Python binding, say, waits here without
    /// the GIL, then takes it, runs the signal handlers, and pushes with
    /// [`try_push`](Self::try_push) only if none of them raised. Another
    /// producer may take the room first; then `try_push` reports
    /// [`ShmError::Full`] and the caller waits again.
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
    /// let q = ShmQueue::create_anonymous(&ShmOptions::new(1, 16)).unwrap();
    /// q.wait_for_room_deadline(None).unwrap();
    /// assert_eq!(q.len(), 0); // nothing pushed
    /// q.push(b"a").unwrap();
    /// let soon = Some(Instant::now() + Duration::from_millis(5));
    /// assert_eq!(q.wait_for_room_deadline(soon), Err(ShmError::TimedOut));
    /// ```
    pub fn wait_for_room_deadline(&self, deadline: Option<Instant>) -> Result<(), ShmError> {
        self.wait_without_claiming(Side::Push, deadline, |ring, me| ring.try_claim_push(me, 0))
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
