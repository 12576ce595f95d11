//! Close, the size queries, and the task counter.

use std::time::Instant;

use super::ShmQueue;
use crate::shm::error::ShmError;
use crate::shm::participants::{self, Holder};
use crate::shm::segment::Side;
use crate::shm::tasks;
use crate::shm::wait::{self, Poll};
use crate::shm::words::Owner;

impl ShmQueue {
    /// Closes the queue for every process: pushes fail from now on, pops
    /// drain what is left and then report [`ShmError::Closed`], and every
    /// blocked push and pop wakes. Returns `true` if this call closed it.
    /// A closed queue stays closed.
    ///
    /// A thread that learns of the close, from [`is_closed`](Self::is_closed)
    /// or from a pop or push that reports [`ShmError::Closed`], also sees
    /// what this thread did before calling `close` (from another process:
    /// what it wrote to shared memory).
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

    /// The PIDs of the processes (this one included) that hold a slot
    /// they claimed and have not finished with: a push not yet published,
    /// or a pop not yet released. A snapshot, sorted, one pass over the
    /// slots.
    ///
    /// A process killed holding a claim is recovered by the others. One
    /// that is alive but stopped (`SIGSTOP`, a debugger, a hung thread)
    /// keeps its claim: consumers wait for its unpublished message, and
    /// producers wait for its unreleased slot once they come round to it.
    /// Blocking calls then time out; a PID that stays in this list while
    /// the queue makes no progress names the peer to look at.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// q.push(b"done").unwrap(); // published: no claim is held
    /// assert!(q.claim_holders().is_empty());
    /// ```
    pub fn claim_holders(&self) -> Vec<u32> {
        let owners = self.ring().claim_owners();
        let mut pids: Vec<u32> = self
            .seg
            .entries()
            .filter_map(|index| {
                let owner = Owner::of_index(index.get())?;
                if !owners.contains(owner) {
                    return None;
                }
                match participants::holder(&self.seg, owner) {
                    Holder::Process(_, p, _) => Some(p.pid),
                    _ => None,
                }
            })
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

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
