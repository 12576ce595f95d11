//! `ringq.ProcessQueue` and `ringq.JoinableProcessQueue`: drop-in
//! `multiprocessing.Queue` and `multiprocessing.JoinableQueue` on the
//! shared-memory queue.

use std::sync::atomic::{AtomicU32, Ordering};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyGenericAlias, PyList, PyTuple, PyType};
use ringq::shm::{ShmOptions, ShmQueue, Trust};

use super::codec;
use super::errors::{self, Op};
use super::segments::{self, CreatedName};
use super::timeout::{self, Patience};
use super::transfer::{Transfer, CHUNK};
use crate::blocking::Block;

/// The capacity of a queue created with `maxsize <= 0`.
pub(crate) const DEFAULT_CAPACITY: usize = 1024;
/// The default `max_message_size`: room for the pickles of everyday
/// objects (a 4 KB payload, a list of a thousand numbers, a small array).
pub(crate) const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024;

/// A process-shared queue: a drop-in multiprocessing.Queue on a lock-free
/// ring in shared memory.
///
/// ProcessQueue(maxsize=0, *, max_message_size=16384, name=None)
///
/// Objects are pickled (protocol 5) into one message each; put() returns
/// once the message is in shared memory (there is no feeder thread).
/// put_bytes()/get_bytes() move bytes without pickling. The queue holds
/// at most maxsize messages (1024 when maxsize <= 0) of at most
/// max_message_size bytes each; its memory, about maxsize *
/// max_message_size bytes, is allocated up front.
///
/// Without a name the queue is anonymous, shared with child processes by
/// inheritance or by passing it to multiprocessing.Process (fork, spawn
/// and forkserver). With a name, unrelated processes of the same user can
/// open it with ProcessQueue.open(name) while the creating object lives.
///
/// close() means what it means for multiprocessing.Queue: this process
/// will use this object no more. shutdown() closes the queue for every
/// process.
#[pyclass(frozen, subclass, weakref, module = "ringq", name = "ProcessQueue")]
pub struct ProcessQueue {
    queue: Transfer,
    /// The name given at creation or open, if any.
    name: Option<String>,
    /// Set in the process that created the queue by name: it removes the
    /// name.
    created: Option<CreatedName>,
    /// The PID of the process that called `close()` on this object, 0 if
    /// none: closing is per process, and a child forked afterwards starts
    /// with the object open, as with `multiprocessing.Queue`.
    closed_by: AtomicU32,
}

impl ProcessQueue {
    fn new(queue: ShmQueue, joinable: bool, created: Option<CreatedName>) -> Self {
        Self {
            name: queue.name().map(str::to_owned),
            queue: Transfer::new(queue, joinable),
            created,
            closed_by: AtomicU32::new(0),
        }
    }

    fn create(
        py: Python<'_>,
        maxsize: isize,
        max_message_size: usize,
        name: Option<&str>,
        joinable: bool,
    ) -> PyResult<Self> {
        let capacity = match usize::try_from(maxsize) {
            Ok(0) | Err(_) => DEFAULT_CAPACITY,
            Ok(n) => n,
        };
        let options = ShmOptions::new(capacity, max_message_size);
        let Some(name) = name else {
            let queue =
                ShmQueue::create_anonymous(&options).map_err(|e| errors::from_open(None, e))?;
            return Ok(Self::new(queue, joinable, None));
        };
        let queue =
            ShmQueue::create(name, &options).map_err(|e| errors::from_open(Some(name), e))?;
        match CreatedName::register(py, errors::bare(name), &queue) {
            Ok(created) => Ok(Self::new(queue, joinable, Some(created))),
            Err(err) => {
                let _ = ShmQueue::unlink(name);
                Err(err)
            }
        }
    }

    /// Wraps `self` in an object of `cls` (this class or the joinable one).
    fn into_object(self, cls: &Bound<'_, PyType>) -> PyResult<Py<PyAny>> {
        let py = cls.py();
        if cls.is_subclass_of::<JoinableProcessQueue>()? {
            let init = PyClassInitializer::from(self).add_subclass(JoinableProcessQueue);
            Ok(Py::new(py, init)?.into_any())
        } else {
            Ok(Py::new(py, self)?.into_any())
        }
    }

    /// Raises multiprocessing's `ValueError` after `close()` in this
    /// process.
    #[inline]
    pub(crate) fn check_open(slf: &Bound<'_, Self>) -> PyResult<()> {
        // Relaxed: a flag of this process, set by a call that happened
        // before the ones that must see it.
        if slf.get().closed_by.load(Ordering::Relaxed) != 0 {
            return Self::closed_error(slf);
        }
        Ok(())
    }

    #[cold]
    fn closed_error(slf: &Bound<'_, Self>) -> PyResult<()> {
        // Relaxed: as in `check_open`.
        if slf.get().closed_by.load(Ordering::Relaxed) != std::process::id() {
            return Ok(()); // closed in the parent before a fork
        }
        Err(PyValueError::new_err(format!(
            "Queue {} is closed",
            slf.repr()?
        )))
    }

    pub(crate) fn transfer(&self) -> &Transfer {
        &self.queue
    }
}

impl Drop for ProcessQueue {
    fn drop(&mut self) {
        if let Some(created) = &self.created {
            created.remove_on_drop(&self.queue.shm);
        }
    }
}

#[pymethods]
impl ProcessQueue {
    #[new]
    #[pyo3(
        signature = (maxsize = 0, *, max_message_size = DEFAULT_MAX_MESSAGE_SIZE, name = None, ctx = None),
        text_signature = "(maxsize=0, *, max_message_size=16384, name=None, ctx=None)"
    )]
    fn py_new(
        py: Python<'_>,
        maxsize: isize,
        max_message_size: usize,
        name: Option<&str>,
        ctx: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let _ = ctx; // accepted for multiprocessing.queues.Queue(maxsize, ctx=...)
        Self::create(py, maxsize, max_message_size, name, false)
    }

    /// Open the queue created under name by another process.
    ///
    /// Any local user can create the file /dev/shm/NAME first, and messages are
    /// unpickled, so the file must belong to this user and be writable by
    /// no one else. trusted_owner (a uid) and trusted_group (a gid whose
    /// members may write the file) widen that; trust_anyone=True accepts
    /// any file, and with it whoever can create or write it.
    ///
    /// Raises FileNotFoundError when there is none, PermissionError for a
    /// file of an untrusted owner or mode, ValueError when the file is not
    /// a queue this version can use.
    #[classmethod]
    #[pyo3(signature = (name, *, trusted_owner=None, trusted_group=None, trust_anyone=false))]
    fn open(
        cls: &Bound<'_, PyType>,
        name: &str,
        trusted_owner: Option<u32>,
        trusted_group: Option<u32>,
        trust_anyone: bool,
    ) -> PyResult<Py<PyAny>> {
        let joinable = cls.is_subclass_of::<JoinableProcessQueue>()?;
        let mut trust = if trust_anyone {
            Trust::anyone()
        } else {
            Trust::new()
        };
        if let Some(uid) = trusted_owner {
            trust = trust.owner(uid);
        }
        if let Some(gid) = trusted_group {
            trust = trust.group_writable(gid);
        }
        let queue =
            ShmQueue::open_trusting(name, &trust).map_err(|e| errors::from_open(Some(name), e))?;
        Self::new(queue, joinable, None).into_object(cls)
    }

    /// Rebuild a queue from a pickle: a descriptor from
    /// multiprocessing.reduction.DupFd, and the name for display.
    #[classmethod]
    #[pyo3(signature = (fd, name, /))]
    fn _rebuild(
        cls: &Bound<'_, PyType>,
        fd: &Bound<'_, PyAny>,
        name: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        use std::os::fd::{FromRawFd, OwnedFd};
        let joinable = cls.is_subclass_of::<JoinableProcessQueue>()?;
        let raw: i32 = fd.call_method0("detach")?.extract()?;
        if raw < 0 {
            return Err(PyValueError::new_err("invalid descriptor"));
        }
        // SAFETY: DupFd.detach() hands over a descriptor that this process
        // now owns (inherited for spawn, received for forkserver and the
        // resource sharer), and nothing else will close it.
        let owned = unsafe { OwnedFd::from_raw_fd(raw) };
        let queue = ShmQueue::from_fd(owned).map_err(|e| errors::from_open(None, e))?;
        let mut this = Self::new(queue, joinable, None);
        this.name = name;
        this.into_object(cls)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        use std::os::fd::AsRawFd;
        let py = slf.py();
        let this = slf.get();
        let raw = this.queue.shm.fd().as_raw_fd();
        let dup = py
            .import("multiprocessing.reduction")?
            .call_method1("DupFd", (raw,))?;
        // A subclass pickles as its base class: the receiver gets the
        // plain class, as open() gives it, and needs no access to the
        // subclass (one defined inside a function could not be found).
        let base = if this.queue.joinable {
            py.get_type::<JoinableProcessQueue>()
        } else {
            py.get_type::<ProcessQueue>()
        };
        let rebuild = base.getattr("_rebuild")?;
        let args = PyTuple::new(py, [dup, this.name.clone().into_pyobject(py)?.into_any()])?;
        PyTuple::new(py, [rebuild, args.into_any()])
    }

    /// Return ``types.GenericAlias(cls, item)``, so ``ProcessQueue[int]``
    /// works in annotations.
    #[classmethod]
    #[pyo3(signature = (item, /))]
    fn __class_getitem__<'py>(
        cls: &Bound<'py, PyType>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyGenericAlias>> {
        PyGenericAlias::new(cls.py(), cls.as_any(), item)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let this = slf.get();
        let class = slf.get_type().qualname()?;
        Ok(format!(
            "<ringq.{class} maxsize={} max_message_size={} name={}>",
            this.queue.shm.capacity(),
            this.queue.shm.max_message_size(),
            match &this.name {
                Some(n) => format!("'{n}'"),
                None => "None".to_owned(),
            }
        ))
    }

    /// The number of messages the queue holds at most.
    #[getter]
    fn maxsize(&self) -> usize {
        self.queue.shm.capacity()
    }

    /// The longest message, in bytes (for put(), the pickled object).
    #[getter]
    fn max_message_size(&self) -> usize {
        self.queue.shm.max_message_size()
    }

    /// The name unrelated processes open the queue by, or None.
    #[getter]
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether shutdown() has been called, in any process.
    #[getter]
    fn is_shutdown(&self) -> bool {
        self.queue.shm.is_closed()
    }

    /// Put obj into the queue.
    ///
    /// The object is pickled (protocol 5) into one message. If 'block' is
    /// true and 'timeout' is None (the default), wait as long as the queue
    /// is full; with a timeout, wait at most that many seconds and raise
    /// queue.Full. Otherwise raise queue.Full at once if there is no room.
    /// When put() returns, the message is in shared memory.
    ///
    /// Raises ValueError if the pickle is larger than max_message_size or
    /// this object was closed, ShutDown if the queue was shut down.
    #[pyo3(
        signature = (obj, block = Block(true), timeout = None),
        text_signature = "($self, obj, block=True, timeout=None)"
    )]
    fn put(
        slf: &Bound<'_, Self>,
        obj: &Bound<'_, PyAny>,
        block: Block,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        Self::check_open(slf)?;
        let patience = Patience::read(block.0, timeout)?;
        let data = codec::dumps(obj)?;
        slf.get()
            .queue
            .push(slf.py(), data.as_bytes(), true, patience)
    }

    /// Put obj into the queue without blocking: put(obj, False).
    pub(crate) fn put_nowait(slf: &Bound<'_, Self>, obj: &Bound<'_, PyAny>) -> PyResult<()> {
        Self::put(slf, obj, Block(false), None)
    }

    /// Remove and return an object from the queue.
    ///
    /// If 'block' is true and 'timeout' is None (the default), wait until a
    /// message arrives; with a timeout, wait at most that many seconds and
    /// raise queue.Empty. Otherwise raise queue.Empty at once if there is
    /// none.
    ///
    /// Raises ShutDown if the queue was shut down and is drained,
    /// ValueError if this object was closed, and what unpickling raises
    /// (the message is consumed).
    #[pyo3(
        signature = (block = Block(true), timeout = None),
        text_signature = "($self, block=True, timeout=None)"
    )]
    pub(crate) fn get<'py>(
        slf: &Bound<'py, Self>,
        block: Block,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Self::check_open(slf)?;
        let patience = Patience::read(block.0, timeout)?;
        let data = slf.get().queue.pop(slf.py(), patience)?;
        codec::loads(&data)
    }

    /// Remove and return an object from the queue without blocking.
    fn get_nowait<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::get(slf, Block(false), None)
    }

    /// Put a bytes-like object into the queue as one message, as is (no
    /// pickling). Block and timeout work as in put().
    ///
    /// Pair it with get_bytes(): get() would try to unpickle the bytes.
    #[pyo3(
        signature = (data, block = Block(true), timeout = None),
        text_signature = "($self, data, block=True, timeout=None)"
    )]
    fn put_bytes(
        slf: &Bound<'_, Self>,
        data: &Bound<'_, PyAny>,
        block: Block,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        Self::check_open(slf)?;
        let patience = Patience::read(block.0, timeout)?;
        let stable = data.is_exact_instance_of::<PyBytes>();
        let py = slf.py();
        super::raw::with_bytes(data, |bytes| {
            slf.get().queue.push(py, bytes, stable, patience)
        })
    }

    /// Remove and return one message as bytes, as put_bytes() put it.
    /// Block and timeout work as in get().
    #[pyo3(
        signature = (block = Block(true), timeout = None),
        text_signature = "($self, block=True, timeout=None)"
    )]
    fn get_bytes<'py>(
        slf: &Bound<'py, Self>,
        block: Block,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        Self::check_open(slf)?;
        let patience = Patience::read(block.0, timeout)?;
        slf.get().queue.pop(slf.py(), patience)
    }

    /// Put every object of an iterable into the queue, in order, moving
    /// them in batches (many slots claimed in one step).
    ///
    /// Blocks as needed (or, with block=False or a timeout, raises
    /// queue.Full). If an object cannot be pickled or is too large, or the
    /// iterable raises, the objects before it are put and the error
    /// propagates; on queue.Full or ShutDown, the objects already put stay
    /// in the queue.
    #[pyo3(
        signature = (objs, block = Block(true), timeout = None),
        text_signature = "($self, objs, block=True, timeout=None)"
    )]
    fn put_many(
        slf: &Bound<'_, Self>,
        objs: &Bound<'_, PyAny>,
        block: Block,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        Self::check_open(slf)?;
        let patience = Patience::read(block.0, timeout)?;
        let this = slf.get();
        let max = this.queue.shm.max_message_size();
        put_in_chunks(slf.py(), &this.queue, objs, patience, |obj| {
            let data = codec::dumps(obj)?;
            if data.as_bytes().len() > max {
                return Err(errors::too_large(data.as_bytes().len(), max));
            }
            Ok(data)
        })
    }

    /// Put every bytes-like object of an iterable into the queue as one
    /// message each, in order, in batches; as put_many() without pickling.
    #[pyo3(
        signature = (items, block = Block(true), timeout = None),
        text_signature = "($self, items, block=True, timeout=None)"
    )]
    fn put_many_bytes(
        slf: &Bound<'_, Self>,
        items: &Bound<'_, PyAny>,
        block: Block,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        Self::check_open(slf)?;
        let patience = Patience::read(block.0, timeout)?;
        let this = slf.get();
        let max = this.queue.shm.max_message_size();
        put_in_chunks(slf.py(), &this.queue, items, patience, |item| {
            let data = match item.cast_exact::<PyBytes>() {
                Ok(bytes) => bytes.clone(),
                Err(_) => super::raw::with_bytes(item, |b| Ok(PyBytes::new(item.py(), b)))?,
            };
            if data.as_bytes().len() > max {
                return Err(errors::too_large(data.as_bytes().len(), max));
            }
            Ok(data)
        })
    }

    /// Remove and return up to max_items objects as a list, in queue order,
    /// claimed in one step: whatever is there at once, or, when nothing
    /// is, the first to arrive (block and timeout as in get()).
    ///
    /// If an object fails to unpickle, the ones before it are returned and
    /// the error is raised by the next get; the messages after it are kept
    /// for this object's next gets, not lost.
    #[pyo3(
        signature = (max_items, block = Block(true), timeout = None),
        text_signature = "($self, max_items, block=True, timeout=None)"
    )]
    pub(crate) fn get_many<'py>(
        slf: &Bound<'py, Self>,
        max_items: isize,
        block: Block,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        Self::check_open(slf)?;
        let max = batch_size(max_items)?;
        let patience = Patience::read(block.0, timeout)?;
        let py = slf.py();
        let queue = &slf.get().queue;
        let mut messages = queue.pop_batch(py, max, patience)?.into_iter();
        let mut objs = Vec::with_capacity(messages.len());
        // Each message is released as soon as it is unpickled, so a batch
        // of large messages does not hold two copies of itself at once.
        while let Some(data) = messages.next() {
            match codec::loads(&data) {
                Ok(obj) => objs.push(obj),
                Err(err) if objs.is_empty() => {
                    // The first message raises now; keep the rest.
                    queue.keep_leftover(messages.map(|m| m.as_bytes().to_vec()));
                    return Err(err);
                }
                Err(_) => {
                    // Return what came before; keep the failing message
                    // (the next get raises for it) and the rest.
                    let rest = std::iter::once(data).chain(messages);
                    queue.keep_leftover(rest.map(|m| m.as_bytes().to_vec()));
                    break;
                }
            }
        }
        PyList::new(py, objs)
    }

    /// Remove and return up to max_items messages as a list of bytes, as
    /// get_many() without unpickling.
    #[pyo3(
        signature = (max_items, block = Block(true), timeout = None),
        text_signature = "($self, max_items, block=True, timeout=None)"
    )]
    fn get_many_bytes<'py>(
        slf: &Bound<'py, Self>,
        max_items: isize,
        block: Block,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        Self::check_open(slf)?;
        let max = batch_size(max_items)?;
        let patience = Patience::read(block.0, timeout)?;
        let messages = slf.get().queue.pop_batch(slf.py(), max, patience)?;
        PyList::new(slf.py(), messages)
    }

    /// Return the approximate number of messages in the queue (a snapshot,
    /// counting those being put right now).
    fn qsize(&self) -> usize {
        self.queue.shm.len()
    }

    /// Return True if the queue is empty, False otherwise (a snapshot).
    fn empty(&self) -> bool {
        self.queue.shm.is_empty()
    }

    /// Return True if the queue is full, False otherwise (a snapshot).
    fn full(&self) -> bool {
        self.queue.shm.len() >= self.queue.shm.capacity()
    }

    /// How many threads, in all processes, are asleep in a get (a snapshot,
    /// for diagnostics and tests).
    fn waiting_getters(&self) -> usize {
        self.queue.shm.waiting_poppers()
    }

    /// How many threads, in all processes, are asleep in a put (a
    /// snapshot, for diagnostics and tests).
    fn waiting_putters(&self) -> usize {
        self.queue.shm.waiting_pushers()
    }

    /// Indicate that this process will use this queue object no more, as
    /// multiprocessing.Queue.close() does: put() and get() on this object
    /// then raise ValueError. The queue itself stays open for every other
    /// process and object; shutdown() closes it for everyone. Messages
    /// already put are in shared memory: nothing is left to flush.
    fn close(&self) {
        // Relaxed: see `check_open`.
        self.closed_by.store(std::process::id(), Ordering::Relaxed);
        // Coroutines of this process waiting on the object wake to see it.
        self.queue.watches.signal_all();
    }

    /// Does nothing: a put writes to shared memory before it returns, so
    /// there is no feeder thread to join. Kept for multiprocessing.Queue
    /// compatibility.
    fn join_thread(&self) {}

    /// Does nothing: there is no feeder thread, and no data waits for one
    /// at exit. Kept for multiprocessing.Queue compatibility.
    fn cancel_join_thread(&self) {}

    /// Shut down the queue for every process that uses it, as
    /// queue.Queue.shutdown() does for threads: puts raise ShutDown from
    /// now on, gets drain what is left and then raise ShutDown, and every
    /// blocked put and get wakes.
    ///
    /// With immediate=True the messages still in the queue are discarded
    /// as well (and, for a JoinableProcessQueue, counted done), so gets
    /// raise ShutDown at once.
    #[pyo3(signature = (immediate = false))]
    fn shutdown(&self, immediate: bool) {
        let shm = &self.queue.shm;
        shm.close();
        if immediate {
            while let Ok(n) = shm.try_pop_many_with(CHUNK, |_| {}) {
                if n == 0 {
                    break;
                }
                if self.queue.joinable {
                    for _ in 0..n {
                        let _ = shm.task_done();
                    }
                }
            }
        }
    }

    /// Remove the queue's name, so that open() finds it no more. Processes
    /// that have it open keep using it. The name is also removed when the
    /// object that created the queue is garbage collected, or its process
    /// exits or is killed.
    ///
    /// Raises ValueError for an anonymous queue, FileNotFoundError if the
    /// name is gone or now names another queue.
    fn unlink(&self, py: Python<'_>) -> PyResult<()> {
        let Some(name) = &self.name else {
            return Err(PyValueError::new_err(
                "an anonymous queue has no name to unlink",
            ));
        };
        segments::unlink_if_same(name, &self.queue.shm)?;
        if let Some(created) = &self.created {
            created.forget(py)?;
        }
        Ok(())
    }

    /// Recover the slots held by processes that died during a put or get,
    /// and return how many dead processes were recovered. Queues do this
    /// by themselves when a dead process's slot is in the way; call it to
    /// tidy up eagerly, e.g. after killing a worker.
    fn recover_dead(&self, py: Python<'_>) -> usize {
        py.detach(|| self.queue.shm.recover_dead())
    }

    /// Return the PIDs, sorted, of the processes (this one included) in the
    /// middle of a put or get: holding a slot they claimed and have not
    /// finished with. A snapshot. A killed process is recovered by the
    /// others; one that is stopped or hung keeps its slot, and blocked
    /// calls then time out. A PID that stays here while the queue makes no
    /// progress names the process to look at.
    fn claim_holders(&self, py: Python<'_>) -> Vec<u32> {
        py.detach(|| self.queue.shm.claim_holders())
    }
}

/// The most bytes of pickles `put_many` holds before pushing them: well
/// under glibc's default trim threshold (128 KiB), so that a batch of large
/// objects does not make `free` return the heap to the system, and the next
/// batch fault it back in, each time.
const CHUNK_BYTES: usize = 64 * 1024;

/// Checks a `max_items` argument.
fn batch_size(max_items: isize) -> PyResult<usize> {
    match usize::try_from(max_items) {
        Ok(max) if max > 0 => Ok(max),
        _ => Err(PyValueError::new_err(format!(
            "max_items must be at least 1, got {max_items}"
        ))),
    }
}

/// Encodes the items of an iterable with `encode` and pushes them in
/// chunks of up to [`CHUNK`] messages or [`CHUNK_BYTES`] bytes. When
/// encoding or iterating fails, the items before are pushed, then the
/// error propagates.
fn put_in_chunks<'py>(
    py: Python<'py>,
    queue: &Transfer,
    items: &Bound<'py, PyAny>,
    patience: Patience,
    mut encode: impl FnMut(&Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>>,
) -> PyResult<()> {
    let mut chunk: Vec<Bound<'py, PyBytes>> = Vec::with_capacity(CHUNK);
    let mut chunk_bytes = 0;
    let flush = |chunk: &mut Vec<Bound<'py, PyBytes>>, chunk_bytes: &mut usize| {
        let views: Vec<&[u8]> = chunk.iter().map(|b| b.as_bytes()).collect();
        let result = queue.push_batch(py, &views, patience);
        chunk.clear();
        *chunk_bytes = 0;
        result
    };
    let mut failure = None;
    for item in items.try_iter()? {
        match item.and_then(|item| encode(&item)) {
            Ok(data) => {
                chunk_bytes += data.as_bytes().len();
                chunk.push(data);
                if chunk.len() == CHUNK || chunk_bytes >= CHUNK_BYTES {
                    flush(&mut chunk, &mut chunk_bytes)?;
                }
            }
            Err(err) => {
                failure = Some(err);
                break;
            }
        }
    }
    if !chunk.is_empty() {
        flush(&mut chunk, &mut chunk_bytes)?;
    }
    match failure {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// A JoinableProcessQueue: a ProcessQueue whose messages count as tasks,
/// with task_done() and join() across processes, as
/// multiprocessing.JoinableQueue.
///
/// JoinableProcessQueue(maxsize=0, *, max_message_size=16384, name=None)
///
/// The count of unfinished tasks lives in the shared memory: every put()
/// adds one (before the message is in the queue), every task_done(), in
/// any process, removes one, and join() waits, in any process, until none
/// is left. A process killed while it holds tasks leaves them counted.
#[pyclass(frozen, extends = ProcessQueue, module = "ringq", name = "JoinableProcessQueue")]
pub struct JoinableProcessQueue;

#[pymethods]
impl JoinableProcessQueue {
    #[new]
    #[pyo3(
        signature = (maxsize = 0, *, max_message_size = DEFAULT_MAX_MESSAGE_SIZE, name = None, ctx = None),
        text_signature = "(maxsize=0, *, max_message_size=16384, name=None, ctx=None)"
    )]
    fn py_new(
        py: Python<'_>,
        maxsize: isize,
        max_message_size: usize,
        name: Option<&str>,
        ctx: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let _ = ctx;
        let base = ProcessQueue::create(py, maxsize, max_message_size, name, true)?;
        Ok(PyClassInitializer::from(base).add_subclass(Self))
    }

    /// Indicate that a formerly enqueued task is complete, in any process.
    ///
    /// Raises ValueError if called more times than there were messages put.
    fn task_done(slf: &Bound<'_, Self>) -> PyResult<()> {
        let queue = slf.as_super().get().transfer();
        queue
            .shm
            .task_done()
            .map_err(|e| errors::from_shm(slf.py(), Op::Get, e))
    }

    /// Block until every message put into the queue, by any process, has
    /// been gotten and marked done with task_done().
    fn join(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let shm = &slf.as_super().get().transfer().shm;
        if shm.unfinished_tasks() == 0 {
            return Ok(());
        }
        match timeout::in_slices(py, None, |end| shm.join_deadline(Some(end)))? {
            Ok(()) => Ok(()),
            Err(err) => Err(errors::from_shm(py, Op::Get, err)),
        }
    }

    /// The number of messages put and not yet marked done, in all
    /// processes (a snapshot).
    #[getter]
    fn unfinished_tasks(slf: &Bound<'_, Self>) -> u64 {
        slf.as_super().get().transfer().shm.unfinished_tasks()
    }
}
