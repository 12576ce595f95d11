//! The readiness descriptors of a process queue object: `fileno()` for
//! `select` and `multiprocessing.connection.wait`, and the descriptors the
//! async methods hand to the event loop's `add_reader`.
//!
//! Each is a core [`Watch`], made on first use and kept for the object's
//! life. A watch stays readable until a call in this process finds nothing
//! (a get finds the queue empty, a put finds it full) and rearms it; a get
//! that empties the queue rearms it too, so that the descriptor says
//! "readable" about when a message is there. Calls pay one relaxed load
//! for all this while no watch exists.
//!
//! A child forked from a process that had a watch has a copy of it without
//! the thread: the first use in the child replaces it (see `Watch`'s
//! drop), and rearms never touch a copy.
//!
//! The slots are locked only for the few instructions that read or replace
//! a watch, by a thread attached to the interpreter; so under the GIL no
//! `fork` can copy a slot while it is locked.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use ringq::shm::{Event, ShmQueue, Watch};

const EVENTS: [Event; 3] = [Event::Message, Event::Room, Event::TasksDone];

fn index(event: Event) -> usize {
    match event {
        Event::Message => 0,
        Event::Room => 1,
        Event::TasksDone => 2,
    }
}

/// The watches of one object, by event.
#[derive(Default)]
pub(crate) struct Watches {
    /// Bit `index(event)`: that event's watch was made (in this process or
    /// the one this was forked from).
    made: AtomicU8,
    slots: [Mutex<Option<Watch>>; 3],
}

impl Watches {
    #[inline]
    fn has(&self, event: Event) -> bool {
        // Relaxed: a hint; the slot's lock orders the watch itself.
        self.made.load(Ordering::Relaxed) & (1 << index(event)) != 0
    }

    /// The descriptor of `event`'s watch, made now if there is none in
    /// this process.
    ///
    /// # Errors
    ///
    /// What making the eventfd or the thread failed with.
    pub(crate) fn fd(&self, queue: &Arc<ShmQueue>, event: Event) -> std::io::Result<RawFd> {
        let mut slot = self.slots[index(event)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(watch) = slot.as_ref().filter(|w| !w.is_forked_copy()) {
            return Ok(watch.raw_fd());
        }
        let watch = queue.watch(event)?;
        let fd = watch.raw_fd();
        // Replacing a forked copy drops it: that closes the child's copy
        // of the parent's descriptor and nothing else.
        *slot = Some(watch);
        // Relaxed: as in `has`.
        self.made.fetch_or(1 << index(event), Ordering::Relaxed);
        Ok(fd)
    }

    /// A call found that `event` has not happened: stop saying it may have.
    #[inline]
    pub(crate) fn found_none(&self, event: Event) {
        if self.has(event) {
            self.with(event, Watch::rearm);
        }
    }

    /// After a get took messages: rearm the message watch if the queue is
    /// now empty.
    #[inline]
    pub(crate) fn after_get(&self, queue: &ShmQueue) {
        if self.has(Event::Message) && queue.is_empty() {
            self.with(Event::Message, Watch::rearm);
        }
    }

    /// Makes `event`'s watch readable now: messages were kept back in this
    /// object (they are there to get), or the object was closed (its
    /// waiters must wake to see it).
    pub(crate) fn signal(&self, event: Event) {
        if self.has(event) {
            self.with(event, Watch::signal);
        }
    }

    /// Makes every watch readable now.
    pub(crate) fn signal_all(&self) {
        for event in EVENTS {
            self.signal(event);
        }
    }

    #[cold]
    fn with(&self, event: Event, f: impl FnOnce(&Watch)) {
        let slot = self.slots[index(event)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(watch) = slot.as_ref() {
            f(watch); // a forked copy ignores both calls
        }
    }
}
