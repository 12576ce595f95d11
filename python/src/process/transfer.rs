//! Moving messages in and out of the shared-memory queue: the fast path
//! first, attached; a wait in slices only when the queue is full or empty.
//!
//! Messages are bytes. A pop copies each one once, from the shared memory
//! into a new `bytes` object. When it has to wait, the thread waits
//! detached for a message to be ready, without taking it, then re-attaches,
//! runs the signal handlers, and only then pops as the fast path does. So
//! no Python object is made or touched while detached, and a get either
//! raises (Ctrl-C) before it takes anything or returns what it took: a
//! signal that arrives after the pop stays pending, and the interpreter
//! runs its handler once the get has returned.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use ringq::shm::{Event, ShmError, ShmQueue};

use super::errors::{self, Op};
use super::raw;
use super::timeout::{self, Patience};
use super::watches::Watches;

/// How many messages a batch moves per core call at most.
pub(crate) const CHUNK: usize = 256;

/// The queue's core handle, and what this process holds of it.
pub(crate) struct Transfer {
    pub(crate) shm: Arc<ShmQueue>,
    /// The readiness descriptors handed out for this queue.
    pub(crate) watches: Watches,
    /// Each message counts as a task (`JoinableProcessQueue`).
    pub(crate) joinable: bool,
    /// Messages this handle took out of the queue but has not handed over
    /// yet (the rest of a batch whose unpickling failed part way, or of a
    /// batch with a damaged message): this handle's next gets return them
    /// first, so they are not lost.
    leftover: Mutex<VecDeque<Vec<u8>>>,
    /// Whether `leftover` may be non-empty, so gets need not lock it.
    has_leftover: AtomicBool,
}

impl Transfer {
    pub(crate) fn new(shm: ShmQueue, joinable: bool) -> Self {
        Self {
            shm: Arc::new(shm),
            watches: Watches::default(),
            joinable,
            leftover: Mutex::new(VecDeque::new()),
            has_leftover: AtomicBool::new(false),
        }
    }

    // ---- tasks --------------------------------------------------------------

    /// Counts `n` tasks before their messages are pushed, so a consumer's
    /// `task_done()` can never run ahead of the count.
    fn count_tasks(&self, py: Python<'_>, n: usize) -> PyResult<()> {
        if self.joinable {
            self.shm
                .add_tasks(n as u64)
                .map_err(|e| errors::from_shm(py, Op::Put, e))?;
        }
        Ok(())
    }

    /// Uncounts the tasks of `n` messages that were not pushed after all.
    fn uncount_tasks(&self, n: usize) {
        if self.joinable {
            for _ in 0..n {
                // Cannot fail: these tasks were counted and are not done.
                let _ = self.shm.task_done();
            }
        }
    }

    // ---- pushing ------------------------------------------------------------

    /// Pushes one message, waiting as `patience` allows.
    ///
    /// `stable` says that `data` cannot change while the thread is detached
    /// (it is a `bytes` object's buffer); otherwise a wait copies it first,
    /// so the message is what the buffer held when the call began.
    ///
    /// # Errors
    ///
    /// `queue.Full`, `ShutDown`, `ValueError` for a message too large, and
    /// what a signal handler raised while waiting.
    #[inline]
    pub(crate) fn push(
        &self,
        py: Python<'_>,
        data: &[u8],
        stable: bool,
        patience: Patience,
    ) -> PyResult<()> {
        self.count_tasks(py, 1)?;
        let outcome = match self.shm.try_push(data) {
            Err(ShmError::Full) => match patience {
                Patience::Until(deadline) => self.push_waiting(py, data, stable, deadline),
                Patience::None => {
                    self.watches.found_none(Event::Room);
                    Ok(Err(ShmError::Full))
                }
            },
            other => Ok(other),
        };
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => {
                self.uncount_tasks(1);
                Err(errors::from_shm(py, Op::Put, err))
            }
            Err(err) => {
                self.uncount_tasks(1);
                Err(err)
            }
        }
    }

    /// Waits, detached, until there is room (putting nothing), runs the
    /// signal handlers, and only then pushes, attached: a put either raises
    /// before it puts anything or returns having put. Another producer may
    /// take the room first; then it waits again.
    #[cold]
    fn push_waiting(
        &self,
        py: Python<'_>,
        data: &[u8],
        stable: bool,
        deadline: Option<Instant>,
    ) -> PyResult<Result<(), ShmError>> {
        let copy;
        let data = if stable {
            data
        } else {
            copy = data.to_vec();
            &copy[..]
        };
        loop {
            if let Err(err) = self.wait_for_room(py, deadline)? {
                return Ok(Err(err));
            }
            match self.shm.try_push(data) {
                Err(ShmError::Full) => {}
                done => return Ok(done),
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                self.watches.found_none(Event::Room);
                return Ok(Err(ShmError::Full));
            }
        }
    }

    /// Waits, detached, until there is room for a message, then runs the
    /// signal handlers. `Ok(Err(Full))` when the deadline passed.
    ///
    /// # Errors
    ///
    /// What a signal handler raised.
    fn wait_for_room(
        &self,
        py: Python<'_>,
        deadline: Option<Instant>,
    ) -> PyResult<Result<(), ShmError>> {
        let ready = timeout::in_slices(py, deadline, |end| {
            self.shm.wait_for_room_deadline(Some(end))
        })?;
        py.check_signals()?;
        Ok(match ready {
            Err(ShmError::TimedOut) => Err(ShmError::Full),
            other => other,
        })
    }

    /// Pushes a batch of messages in order, claiming as many slots at once
    /// as there is room for, and waiting for more as `patience` allows.
    /// The messages are `bytes` buffers, which cannot change while
    /// detached.
    ///
    /// # Errors
    ///
    /// As [`push`](Self::push); the messages before the one that failed
    /// are in the queue.
    pub(crate) fn push_batch(
        &self,
        py: Python<'_>,
        batch: &[&[u8]],
        patience: Patience,
    ) -> PyResult<()> {
        self.count_tasks(py, batch.len())?;
        let mut sent = 0;
        let failure = loop {
            if sent == batch.len() {
                return Ok(());
            }
            match self.shm.try_push_many(&batch[sent..]) {
                Ok(0) => {}
                Ok(k) => {
                    sent += k;
                    continue;
                }
                Err(err) => break errors::from_shm(py, Op::Put, err),
            }
            let deadline = match patience {
                Patience::None => {
                    self.watches.found_none(Event::Room);
                    break errors::from_shm(py, Op::Put, ShmError::Full);
                }
                Patience::Until(deadline) => deadline,
            };
            // Wait for room, then signals, then the next try above.
            match self.wait_for_room(py, deadline) {
                Ok(Ok(())) => {}
                Ok(Err(err)) => break errors::from_shm(py, Op::Put, err),
                Err(err) => break err,
            }
        };
        self.uncount_tasks(batch.len() - sent);
        Err(failure)
    }

    // ---- popping ------------------------------------------------------------

    /// Pops one message, waiting as `patience` allows.
    ///
    /// # Errors
    ///
    /// `queue.Empty`, `ShutDown` (shut down and drained), `MemoryError`,
    /// `RuntimeError` for a damaged queue, and what a signal handler raised
    /// while waiting.
    #[inline]
    pub(crate) fn pop<'py>(
        &self,
        py: Python<'py>,
        patience: Patience,
    ) -> PyResult<Bound<'py, PyBytes>> {
        if self.has_leftover.load(Ordering::Relaxed) {
            if let Some(message) = self.take_leftover(1).pop() {
                return Ok(PyBytes::new(py, &message));
            }
        }
        match self.shm.try_pop_with(|m| raw::bytes_from_message(py, &m)) {
            Ok(made) => {
                self.watches.after_get(&self.shm);
                made
            }
            Err(ShmError::Empty) => match patience {
                Patience::Until(deadline) => self.pop_waiting(py, deadline),
                Patience::None => {
                    self.watches.found_none(Event::Message);
                    Err(errors::from_shm(py, Op::Get, ShmError::Empty))
                }
            },
            Err(err) => Err(errors::from_shm(py, Op::Get, err)),
        }
    }

    /// Waits, detached, until a message is ready, then pops it attached,
    /// straight into a new `bytes`: the message is copied once, as on the
    /// fast path. Another consumer may take the message first; then it
    /// waits again.
    #[cold]
    fn pop_waiting<'py>(
        &self,
        py: Python<'py>,
        deadline: Option<Instant>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        loop {
            self.wait_for_message(py, deadline)?;
            match self.shm.try_pop_with(|m| raw::bytes_from_message(py, &m)) {
                Ok(made) => {
                    self.watches.after_get(&self.shm);
                    return made;
                }
                Err(ShmError::Empty) => {}
                Err(err) => return Err(errors::from_shm(py, Op::Get, err)),
            }
            // Taken by another consumer: wait again, unless the time is up.
            if deadline.is_some_and(|d| Instant::now() >= d) {
                self.watches.found_none(Event::Message);
                return Err(errors::from_shm(py, Op::Get, ShmError::Empty));
            }
        }
    }

    /// Waits, detached, until a message is ready (taking nothing), then
    /// runs the signal handlers, so the caller pops only when no handler
    /// raised.
    ///
    /// # Errors
    ///
    /// `queue.Empty` when the deadline passed, `ShutDown` (shut down and
    /// drained), `RuntimeError` for a damaged queue, and what a signal
    /// handler raised.
    fn wait_for_message(&self, py: Python<'_>, deadline: Option<Instant>) -> PyResult<()> {
        let ready = timeout::in_slices(py, deadline, |end| {
            self.shm.wait_for_message_deadline(Some(end))
        })?;
        py.check_signals()?;
        ready.map_err(|err| errors::from_shm(py, Op::Get, err))
    }

    /// Pops up to `max` messages (at least one), claimed in one step:
    /// whatever is there at once, or, when nothing is, the first to arrive
    /// within `patience`.
    ///
    /// # Errors
    ///
    /// As [`pop`](Self::pop).
    pub(crate) fn pop_batch<'py>(
        &self,
        py: Python<'py>,
        max: usize,
        patience: Patience,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        if self.has_leftover.load(Ordering::Relaxed) {
            let kept = self.take_leftover(max);
            if !kept.is_empty() {
                return Ok(kept.iter().map(|m| PyBytes::new(py, m)).collect());
            }
        }
        let out = self.try_pop_batch(py, max)?;
        if !out.is_empty() {
            return Ok(out);
        }
        let deadline = match patience {
            Patience::None => {
                self.watches.found_none(Event::Message);
                return Err(errors::from_shm(py, Op::Get, ShmError::Empty));
            }
            Patience::Until(deadline) => deadline,
        };
        self.pop_batch_waiting(py, max, deadline)
    }

    /// Pops up to `max` messages that are there now, straight into new
    /// `bytes`; an empty vector when there are none.
    fn try_pop_batch<'py>(
        &self,
        py: Python<'py>,
        max: usize,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let mut out = Vec::with_capacity(max.min(CHUNK));
        let mut failed = None;
        let popped = self
            .shm
            .try_pop_many_with(max, |m| match raw::bytes_from_message(py, &m) {
                Ok(bytes) => out.push(bytes),
                Err(err) => {
                    failed.get_or_insert(err);
                }
            });
        if let Some(err) = failed {
            self.keep_leftover(out.iter().map(|b| b.as_bytes().to_vec()));
            return Err(err);
        }
        if let Err(err) = popped {
            self.keep_leftover(out.iter().map(|b| b.as_bytes().to_vec()));
            return Err(errors::from_shm(py, Op::Get, err));
        }
        if !out.is_empty() {
            self.watches.after_get(&self.shm);
        }
        Ok(out)
    }

    /// Waits for a batch as [`pop_waiting`](Self::pop_waiting) waits for
    /// one message: detached and taking nothing, then signals, then the pop.
    #[cold]
    fn pop_batch_waiting<'py>(
        &self,
        py: Python<'py>,
        max: usize,
        deadline: Option<Instant>,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        loop {
            self.wait_for_message(py, deadline)?;
            let out = self.try_pop_batch(py, max)?;
            if !out.is_empty() {
                return Ok(out);
            }
            // Taken by another consumer: wait again, unless the time is up.
            if deadline.is_some_and(|d| Instant::now() >= d) {
                self.watches.found_none(Event::Message);
                return Err(errors::from_shm(py, Op::Get, ShmError::Empty));
            }
        }
    }

    // ---- leftovers ----------------------------------------------------------

    /// Keeps messages for this handle's next gets, in order, before those
    /// kept earlier (which were popped after them, or not handed out yet
    /// by the call that took these).
    pub(crate) fn keep_leftover(&self, messages: impl DoubleEndedIterator<Item = Vec<u8>>) {
        let mut kept = self.leftover.lock().unwrap_or_else(PoisonError::into_inner);
        for message in messages.rev() {
            kept.push_front(message);
        }
        // They are there to get: whoever waits on `fileno()` should know.
        self.watches.signal(Event::Message);
        // Relaxed: the mutex orders the messages; the flag only says
        // whether to look.
        self.has_leftover.store(!kept.is_empty(), Ordering::Relaxed);
    }

    /// Takes up to `max` kept messages, oldest first.
    fn take_leftover(&self, max: usize) -> Vec<Vec<u8>> {
        let mut kept = self.leftover.lock().unwrap_or_else(PoisonError::into_inner);
        let n = kept.len().min(max);
        let taken: Vec<_> = kept.drain(..n).collect();
        // Relaxed: as in `keep_leftover`.
        self.has_leftover.store(!kept.is_empty(), Ordering::Relaxed);
        taken
    }
}
