//! The async methods of each thread queue, and what each class offers them:
//! one try at a get or a put, and the waiters of its conditions.

use std::collections::VecDeque;

use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pyclass::boolean_struct::True;
use pyo3::types::PyList;
use pyo3::PyClass;

use super::op::{AsyncOp, Op};
use super::Waiters;
use crate::backing::Item;
use crate::blocking::{self, Block};
use crate::errors;
use crate::fastcall::Hot;
use crate::lifo::LifoQueue;
use crate::ops::batch_size;
use crate::priority::PriorityQueue;
use crate::queue::Queue;
use crate::simple::SimpleQueue;
use crate::spsc::SpscQueue;

/// Which condition an operation waits for.
#[derive(Clone, Copy)]
pub(crate) enum Side {
    NotEmpty,
    NotFull,
    AllDone,
}

/// What an async operation needs of its queue. Every method runs attached.
pub(crate) trait Face: Sync {
    /// The waiters of a condition; `None` if the class never waits for it
    /// (a `SimpleQueue` is never full, an `SPSCQueue` has no tasks).
    fn waiters(&self, side: Side) -> Option<&Waiters>;

    /// One get, without waiting: `None` when the queue is empty.
    ///
    /// # Errors
    ///
    /// `ShutDown` (shut down and drained), or the class's own errors.
    fn try_get(&self, py: Python<'_>) -> PyResult<Option<Item>>;

    /// One put, without waiting: the item back when there is no room.
    ///
    /// # Errors
    ///
    /// `ShutDown`, or the class's own errors.
    fn try_put(&self, py: Python<'_>, item: Item) -> PyResult<Result<(), Item>>;

    /// The unfinished tasks (0 for a class without them).
    fn unfinished(&self) -> usize;

    /// One get through the class's [`Hot`] fast path, which cannot panic
    /// and releases no Python object outside a notifier's own attach (see
    /// [`crate::fastcall`]): `None` when it can't be had that way, and
    /// [`try_get`](Self::try_get) must run.
    fn get_now(&self) -> Option<Item> {
        None
    }

    /// One put as [`get_now`](Self::get_now) gets: the item back when
    /// [`try_put`](Self::try_put) must run.
    fn put_now(&self, item: Item) -> Result<(), Item> {
        Err(item)
    }

    /// Up to `max` items, without waiting: `None` when the queue is empty.
    ///
    /// # Errors
    ///
    /// As [`try_get`](Self::try_get).
    fn try_get_many<'py>(
        &self,
        py: Python<'py>,
        max: usize,
    ) -> PyResult<Option<Bound<'py, PyList>>>;
}

/// Finds the [`Face`] of a queue object, of the class it was made for.
pub(crate) type View = for<'a, 'py> fn(&'a Bound<'py, PyAny>) -> &'a dyn Face;

fn view<'a, T: Face + PyClass<Frozen = True>>(queue: &'a Bound<'_, PyAny>) -> &'a dyn Face {
    queue
        .cast::<T>()
        .expect("an operation is made for an instance of its class")
        .get()
}

fn hot_get<T: Hot>(queue: &T, py: Python<'_>) -> PyResult<Option<Item>> {
    if let Some(item) = queue.get_fast() {
        return Ok(Some(item));
    }
    match queue.get(py, false, None) {
        Ok(item) => Ok(Some(item)),
        Err(err) if err.is_instance_of::<errors::Empty>(py) => Ok(None),
        Err(err) => Err(err),
    }
}

/// A `get_many(max_items, block=False)`, with `Empty` as `None`.
fn some_or_empty<'py>(
    py: Python<'py>,
    got: PyResult<Bound<'py, PyList>>,
) -> PyResult<Option<Bound<'py, PyList>>> {
    match got {
        Ok(list) => Ok(Some(list)),
        Err(err) if err.is_instance_of::<errors::Empty>(py) => Ok(None),
        Err(err) => Err(err),
    }
}

/// `max` as the `max_items` a class's `get_many` takes (it came from one).
fn max_items(max: usize) -> isize {
    isize::try_from(max).unwrap_or(isize::MAX)
}

fn hot_put<T: Hot>(queue: &T, py: Python<'_>, item: Item) -> PyResult<Result<(), Item>> {
    let item = match queue.put_fast(item) {
        Ok(()) => return Ok(Ok(())),
        Err(item) => item,
    };
    match queue.put(py, item.clone_ref(py), false, None) {
        Ok(()) => Ok(Ok(())),
        Err(err) if err.is_instance_of::<errors::Full>(py) => Ok(Err(item)),
        Err(err) => Err(err),
    }
}

impl Face for Queue {
    fn waiters(&self, side: Side) -> Option<&Waiters> {
        Some(match side {
            Side::NotEmpty => &self.not_empty,
            Side::NotFull => &self.not_full,
            Side::AllDone => self.tasks.waiters(),
        })
    }

    fn try_get(&self, py: Python<'_>) -> PyResult<Option<Item>> {
        hot_get(self, py)
    }

    fn try_put(&self, py: Python<'_>, item: Item) -> PyResult<Result<(), Item>> {
        hot_put(self, py, item)
    }

    fn get_now(&self) -> Option<Item> {
        self.get_fast()
    }

    fn put_now(&self, item: Item) -> Result<(), Item> {
        self.put_fast(item)
    }

    fn unfinished(&self) -> usize {
        self.tasks.unfinished()
    }

    fn try_get_many<'py>(
        &self,
        py: Python<'py>,
        max: usize,
    ) -> PyResult<Option<Bound<'py, PyList>>> {
        some_or_empty(py, self.get_many(py, max_items(max), Block(false), None))
    }
}

impl Face for SimpleQueue {
    fn waiters(&self, side: Side) -> Option<&Waiters> {
        match side {
            Side::NotEmpty => Some(&self.not_empty),
            Side::NotFull | Side::AllDone => None,
        }
    }

    fn try_get(&self, py: Python<'_>) -> PyResult<Option<Item>> {
        hot_get(self, py)
    }

    fn try_put(&self, py: Python<'_>, item: Item) -> PyResult<Result<(), Item>> {
        hot_put(self, py, item)
    }

    fn get_now(&self) -> Option<Item> {
        self.get_fast()
    }

    fn put_now(&self, item: Item) -> Result<(), Item> {
        self.put_fast(item)
    }

    fn unfinished(&self) -> usize {
        0
    }

    fn try_get_many<'py>(
        &self,
        py: Python<'py>,
        max: usize,
    ) -> PyResult<Option<Bound<'py, PyList>>> {
        some_or_empty(py, self.get_many(py, max_items(max), Block(false), None))
    }
}

impl Face for SpscQueue {
    fn waiters(&self, side: Side) -> Option<&Waiters> {
        match side {
            Side::NotEmpty => Some(&self.not_empty),
            Side::NotFull => Some(&self.not_full),
            Side::AllDone => None,
        }
    }

    fn try_get(&self, py: Python<'_>) -> PyResult<Option<Item>> {
        hot_get(self, py)
    }

    fn try_put(&self, py: Python<'_>, item: Item) -> PyResult<Result<(), Item>> {
        hot_put(self, py, item)
    }

    fn get_now(&self) -> Option<Item> {
        self.get_fast()
    }

    fn put_now(&self, item: Item) -> Result<(), Item> {
        self.put_fast(item)
    }

    fn unfinished(&self) -> usize {
        0
    }

    fn try_get_many<'py>(
        &self,
        py: Python<'py>,
        max: usize,
    ) -> PyResult<Option<Bound<'py, PyList>>> {
        some_or_empty(py, self.get_many(py, max_items(max), Block(false), None))
    }
}

macro_rules! ordered_face {
    ($class:ty) => {
        impl Face for $class {
            fn waiters(&self, side: Side) -> Option<&Waiters> {
                Some(match side {
                    Side::NotEmpty => &self.queue.not_empty,
                    Side::NotFull => &self.queue.not_full,
                    Side::AllDone => self.queue.tasks().waiters(),
                })
            }

            fn try_get(&self, py: Python<'_>) -> PyResult<Option<Item>> {
                match self.queue.get(py, false, None) {
                    Ok(item) => Ok(Some(item)),
                    Err(err) if err.is_instance_of::<errors::Empty>(py) => Ok(None),
                    Err(err) => Err(err),
                }
            }

            fn try_put(&self, py: Python<'_>, item: Item) -> PyResult<Result<(), Item>> {
                match self.queue.put(py, item.clone_ref(py), false, None) {
                    Ok(()) => Ok(Ok(())),
                    Err(err) if err.is_instance_of::<errors::Full>(py) => Ok(Err(item)),
                    Err(err) => Err(err),
                }
            }

            fn unfinished(&self) -> usize {
                self.queue.tasks().unfinished()
            }

            fn try_get_many<'py>(
                &self,
                py: Python<'py>,
                max: usize,
            ) -> PyResult<Option<Bound<'py, PyList>>> {
                match self.queue.get_many(py, max, false, None) {
                    Ok(items) => PyList::new(py, items).map(Some),
                    Err(err) if err.is_instance_of::<errors::Empty>(py) => Ok(None),
                    Err(err) => Err(err),
                }
            }
        }
    };
}

ordered_face!(LifoQueue);
ordered_face!(PriorityQueue);

/// Makes the awaitable for `op` on `queue`, after checking the arguments
/// that can be checked now.
fn start<T: Face + PyClass<Frozen = True>>(
    queue: &Bound<'_, T>,
    op: Op,
    timeout: Option<&Bound<'_, PyAny>>,
) -> PyResult<AsyncOp> {
    let any = queue.as_any();
    if !any.is_exact_instance_of::<T>() {
        // A subclass that overrides `_put`/`_get` keeps its items in
        // Python (see `crate::subclass`), out of this face's reach.
        let py = any.py();
        if let Some(path) = any
            .get_type()
            .getattr_opt(intern!(py, "_ringq_stdlib_path"))?
        {
            if !path.is_none() {
                return Err(PyTypeError::new_err(
                    "the async methods are not available on a subclass that overrides \
                     _put, _get, _qsize or _init",
                ));
            }
        }
    }
    let timeout = match timeout.filter(|t| !t.is_none()) {
        None => None,
        Some(t) => {
            let seconds = blocking::timeout_seconds(t)?;
            if seconds < 0.0 {
                return Err(errors::negative_timeout());
            }
            Some(seconds)
        }
    };
    Ok(AsyncOp::new(any.clone().unbind(), view::<T>, op, timeout))
}

fn put_many_op(items: &Bound<'_, PyAny>) -> PyResult<Op> {
    let mut pending = VecDeque::new();
    for item in items.try_iter()? {
        pending.push_back(item?.unbind());
    }
    Ok(Op::PutMany(pending))
}

/// The async methods every thread queue has.
macro_rules! async_methods {
    ($class:ty) => {
        #[pymethods]
        impl $class {
            /// Remove and return an item, waiting (without blocking the
            /// event loop) until one is available.
            ///
            /// Returns an awaitable. 'timeout' (seconds, or None to wait
            /// forever) raises queue.Empty when it passes, as get() does.
            /// Cancelled or timed out, it took nothing. Raises ShutDown as
            /// get() does, and RuntimeError if it must wait outside a
            /// running event loop.
            #[pyo3(signature = (timeout = None))]
            fn async_get(
                slf: &Bound<'_, Self>,
                timeout: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<AsyncOp> {
                start(slf, Op::Get, timeout)
            }

            /// Put an item, waiting (without blocking the event loop) until
            /// there is room.
            ///
            /// Returns an awaitable. 'timeout' (seconds, or None to wait
            /// forever) raises queue.Full when it passes, as put() does.
            /// Cancelled or timed out, it put nothing. Raises ShutDown as
            /// put() does.
            #[pyo3(signature = (item, timeout = None))]
            fn async_put(
                slf: &Bound<'_, Self>,
                item: Bound<'_, PyAny>,
                timeout: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<AsyncOp> {
                start(slf, Op::Put(Some(item.unbind())), timeout)
            }

            /// Remove and return up to max_items items as a list, waiting
            /// like async_get() for the first.
            #[pyo3(signature = (max_items, timeout = None))]
            fn async_get_many(
                slf: &Bound<'_, Self>,
                max_items: isize,
                timeout: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<AsyncOp> {
                start(slf, Op::GetMany(batch_size(max_items)?), timeout)
            }

            /// Put every item of an iterable, in order, waiting like
            /// async_put() for room as needed.
            ///
            /// The iterable is read when the method is called. Cancelled
            /// or timed out, the items put so far stay in the queue and the
            /// rest are dropped.
            #[pyo3(signature = (items, timeout = None))]
            fn async_put_many(
                slf: &Bound<'_, Self>,
                items: &Bound<'_, PyAny>,
                timeout: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<AsyncOp> {
                start(slf, put_many_op(items)?, timeout)
            }

            /// (getters, putters): how many coroutines are registered
            /// waiting for an item and for room. A diagnostic for tests.
            fn _waiting_coroutines(&self) -> (usize, usize) {
                let count = |side| self.waiters(side).map_or(0, Waiters::waiting_coroutines);
                (count(Side::NotEmpty), count(Side::NotFull))
            }
        }
    };
}

/// `async_join()`, for the classes with tasks.
macro_rules! async_join {
    ($class:ty) => {
        #[pymethods]
        impl $class {
            /// Wait (without blocking the event loop) until every item put
            /// has been marked done with task_done().
            fn async_join(slf: &Bound<'_, Self>) -> PyResult<AsyncOp> {
                start(slf, Op::Join, None)
            }
        }
    };
}

async_methods!(Queue);
async_methods!(SimpleQueue);
async_methods!(SpscQueue);
async_methods!(LifoQueue);
async_methods!(PriorityQueue);
async_join!(Queue);
async_join!(LifoQueue);
async_join!(PriorityQueue);
