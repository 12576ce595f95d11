//! The Python methods of `LifoQueue` and `PriorityQueue`, written once.
//!
//! Each class is a `#[pyclass]` with one field, `queue`, an
//! [`OrderedQueue`](crate::ordered::OrderedQueue). Every method first asks
//! [`stdlib_path`](crate::subclass::stdlib_path) whether `self` belongs to
//! a subclass that overrides the standard library's hooks (`_put`,
//! `_get`, ...): such an instance keeps its items through those hooks, so
//! the call goes to the pure-Python implementation even when it arrives
//! here through `super()`. A native instance pays one type check.

/// Generates the `#[pymethods]` block of an ordered queue class.
macro_rules! ordered_queue_methods {
    ($class:ident) => {
        #[pymethods]
        impl $class {
            /// Takes any arguments, as `object.__new__` does when a class
            /// defines `__init__`: `__init__` reads them, so a subclass
            /// may take arguments of its own.
            #[new]
            #[pyo3(signature = (*_args, **_kwargs), text_signature = "(maxsize=0)")]
            fn new(
                _args: &Bound<'_, pyo3::types::PyTuple>,
                _kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
            ) -> Self {
                Self {
                    queue: OrderedQueue::new(),
                }
            }

            #[pyo3(signature = (maxsize = None))]
            fn __init__(slf: &Bound<'_, Self>, maxsize: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
                if let Some(path) = stdlib_path(slf)? {
                    let init = path.getattr(intern!(slf.py(), "__init__"))?;
                    match maxsize {
                        Some(maxsize) => init.call1((slf, maxsize))?,
                        None => init.call1((slf,))?,
                    };
                    return Ok(());
                }
                let maxsize = match maxsize {
                    Some(maxsize) => read_maxsize(maxsize)?,
                    None => 0,
                };
                slf.get().queue.set_maxsize(maxsize);
                Ok(())
            }

            /// Return ``types.GenericAlias(cls, item)``, so ``Cls[int]``
            /// works in annotations.
            #[classmethod]
            #[pyo3(signature = (item, /))]
            fn __class_getitem__<'py>(
                cls: &Bound<'py, PyType>,
                item: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyGenericAlias>> {
                PyGenericAlias::new(cls.py(), cls.as_any(), item)
            }

            /// The maximum size (<= 0 means unbounded). Assignable:
            /// shrinking makes puts wait, growing lets waiting puts in.
            #[getter]
            fn get_maxsize(&self) -> isize {
                self.queue.maxsize()
            }

            #[setter]
            fn set_maxsize(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
                self.queue.set_maxsize(read_maxsize(value)?);
                Ok(())
            }

            /// The number of items put and not yet marked done with task_done().
            #[getter]
            fn unfinished_tasks(&self) -> usize {
                self.queue.tasks().unfinished()
            }

            /// Whether shutdown() has been called.
            #[getter]
            fn is_shutdown(&self) -> bool {
                self.queue.is_shut_down()
            }

            /// Indicate that a formerly enqueued task is complete.
            ///
            /// Used by queue consumer threads. For each get() used to fetch
            /// a task, a subsequent call to task_done() tells the queue that
            /// the processing on the task is complete. If a join() is
            /// blocking, it resumes when all items have been processed.
            ///
            /// 'count' (an extension) marks that many tasks done at once.
            ///
            /// Raises a ValueError if called more times than there were
            /// items placed in the queue (and then marks none done).
            #[pyo3(signature = (count = 1))]
            fn task_done(slf: &Bound<'_, Self>, count: isize) -> PyResult<()> {
                if let Some(path) = stdlib_path(slf)? {
                    path.call_method1(intern!(slf.py(), "task_done"), (slf, count))?;
                    return Ok(());
                }
                slf.get().queue.tasks().done(count)
            }

            /// Blocks until all items in the queue have been gotten and
            /// processed (task_done() was called for each).
            fn join(slf: &Bound<'_, Self>) -> PyResult<()> {
                if let Some(path) = stdlib_path(slf)? {
                    path.call_method1(intern!(slf.py(), "join"), (slf,))?;
                    return Ok(());
                }
                slf.get().queue.tasks().join(slf.py())
            }

            /// Return the approximate size of the queue (not reliable!).
            fn qsize(slf: &Bound<'_, Self>) -> PyResult<usize> {
                if let Some(path) = stdlib_path(slf)? {
                    return path
                        .call_method1(intern!(slf.py(), "qsize"), (slf,))?
                        .extract();
                }
                Ok(slf.get().queue.qsize())
            }

            /// Return True if the queue is empty, False otherwise (not reliable!).
            fn empty(slf: &Bound<'_, Self>) -> PyResult<bool> {
                if let Some(path) = stdlib_path(slf)? {
                    return path
                        .call_method1(intern!(slf.py(), "empty"), (slf,))?
                        .extract();
                }
                Ok(slf.get().queue.qsize() == 0)
            }

            /// Return True if the queue is full, False otherwise (not reliable!).
            fn full(slf: &Bound<'_, Self>) -> PyResult<bool> {
                if let Some(path) = stdlib_path(slf)? {
                    return path
                        .call_method1(intern!(slf.py(), "full"), (slf,))?
                        .extract();
                }
                Ok(slf.get().queue.full())
            }

            /// Put an item into the queue.
            ///
            /// If optional args 'block' is true and 'timeout' is None (the
            /// default), block if necessary until a free slot is available.
            /// If 'timeout' is a non-negative number, it blocks at most
            /// 'timeout' seconds and raises the Full exception if no free
            /// slot was available within that time. Otherwise ('block' is
            /// false), put an item on the queue if a free slot is
            /// immediately available, else raise the Full exception
            /// ('timeout' is ignored in that case).
            ///
            /// Raises ShutDown if the queue has been shut down.
            #[pyo3(
                                signature = (item, block = Block(true), timeout = None),
                                text_signature = "($self, item, block=True, timeout=None)"
                            )]
            fn put(
                slf: &Bound<'_, Self>,
                item: Bound<'_, PyAny>,
                block: Block,
                timeout: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<()> {
                let Block(block) = block;
                if let Some(path) = stdlib_path(slf)? {
                    path.call_method1(intern!(slf.py(), "put"), (slf, item, block, timeout))?;
                    return Ok(());
                }
                slf.get().queue.put(slf.py(), item.unbind(), block, timeout)
            }

            /// Put an item into the queue without blocking.
            ///
            /// Only enqueue the item if a free slot is immediately
            /// available. Otherwise raise the Full exception.
            fn put_nowait(slf: &Bound<'_, Self>, item: Bound<'_, PyAny>) -> PyResult<()> {
                if let Some(path) = stdlib_path(slf)? {
                    path.call_method1(intern!(slf.py(), "put_nowait"), (slf, item))?;
                    return Ok(());
                }
                slf.get().queue.put(slf.py(), item.unbind(), false, None)
            }

            /// Remove and return an item from the queue.
            ///
            /// If optional args 'block' is true and 'timeout' is None (the
            /// default), block if necessary until an item is available. If
            /// 'timeout' is a non-negative number, it blocks at most
            /// 'timeout' seconds and raises the Empty exception if no item
            /// was available within that time. Otherwise ('block' is
            /// false), return an item if one is immediately available, else
            /// raise the Empty exception ('timeout' is ignored in that
            /// case).
            ///
            /// Raises ShutDown if the queue has been shut down and is
            /// empty, or if the queue has been shut down immediately.
            #[pyo3(
                                signature = (block = Block(true), timeout = None),
                                text_signature = "($self, block=True, timeout=None)"
                            )]
            fn get(
                slf: &Bound<'_, Self>,
                block: Block,
                timeout: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Py<PyAny>> {
                let Block(block) = block;
                if let Some(path) = stdlib_path(slf)? {
                    return Ok(path
                        .call_method1(intern!(slf.py(), "get"), (slf, block, timeout))?
                        .unbind());
                }
                slf.get().queue.get(slf.py(), block, timeout)
            }

            /// Remove and return an item from the queue without blocking.
            ///
            /// Only get an item if one is immediately available. Otherwise
            /// raise the Empty exception.
            fn get_nowait(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
                if let Some(path) = stdlib_path(slf)? {
                    return Ok(path
                        .call_method1(intern!(slf.py(), "get_nowait"), (slf,))?
                        .unbind());
                }
                slf.get().queue.get(slf.py(), false, None)
            }

            /// Remove and return up to max_items items as a list, in the
            /// order get() would return them.
            ///
            /// Takes whatever is available at once, up to max_items. When
            /// nothing is, 'block' and 'timeout' work as in get() and the
            /// call returns as soon as at least one item arrives. Each item
            /// still needs its own task_done() (or one task_done(count)).
            ///
            /// Raises ValueError if max_items < 1, Empty and ShutDown as
            /// get().
            #[pyo3(
                                signature = (max_items, block = Block(true), timeout = None),
                                text_signature = "($self, max_items, block=True, timeout=None)"
                            )]
            fn get_many<'py>(
                slf: &Bound<'py, Self>,
                max_items: isize,
                block: Block,
                timeout: Option<&Bound<'py, PyAny>>,
            ) -> PyResult<Bound<'py, PyList>> {
                let Block(block) = block;
                if let Some(path) = stdlib_path(slf)? {
                    return Ok(path
                        .call_method1(
                            intern!(slf.py(), "get_many"),
                            (slf, max_items, block, timeout),
                        )?
                        .cast_into()?);
                }
                let max = batch_size(max_items)?;
                let items = slf.get().queue.get_many(slf.py(), max, block, timeout)?;
                PyList::new(slf.py(), items)
            }

            /// Put every item of an iterable into the queue, in order, as
            /// successive put() calls would.
            ///
            /// 'block' and 'timeout' work as in put(); the timeout bounds
            /// the whole call. Counts one unfinished task per item.
            ///
            /// Raises ShutDown if the queue is (or gets) shut down, Full if
            /// there is no room in time; the items put before that stay in
            /// the queue.
            #[pyo3(
                                signature = (items, block = Block(true), timeout = None),
                                text_signature = "($self, items, block=True, timeout=None)"
                            )]
            fn put_many(
                slf: &Bound<'_, Self>,
                items: &Bound<'_, PyAny>,
                block: Block,
                timeout: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<()> {
                let Block(block) = block;
                if let Some(path) = stdlib_path(slf)? {
                    path.call_method1(intern!(slf.py(), "put_many"), (slf, items, block, timeout))?;
                    return Ok(());
                }
                slf.get().queue.put_many(slf.py(), items, block, timeout)
            }

            /// Shut-down the queue, making queue gets and puts raise
            /// ShutDown.
            ///
            /// By default, gets will only raise once the queue is empty.
            /// Set 'immediate' to True to make gets raise immediately
            /// instead.
            ///
            /// All blocked callers of put() and get() will be unblocked. If
            /// 'immediate', the queue is drained and the count of
            /// unfinished tasks is reduced by the number of drained items;
            /// callers of join() are unblocked once that count reaches
            /// zero.
            #[pyo3(
                                signature = (immediate = Block(false)),
                                text_signature = "($self, immediate=False)"
                            )]
            fn shutdown(slf: &Bound<'_, Self>, immediate: Block) -> PyResult<()> {
                // Read for its truth value, as the standard library does.
                let Block(immediate) = immediate;
                if let Some(path) = stdlib_path(slf)? {
                    path.call_method1(intern!(slf.py(), "shutdown"), (slf, immediate))?;
                    return Ok(());
                }
                slf.get().queue.shutdown(slf.py(), immediate)
            }

            /// (getters, putters): how many threads are parked waiting for
            /// an item and for room. A diagnostic for tests.
            fn _waiting(slf: &Bound<'_, Self>) -> PyResult<(usize, usize)> {
                if let Some(path) = stdlib_path(slf)? {
                    return path
                        .call_method1(intern!(slf.py(), "_waiting"), (slf,))?
                        .extract();
                }
                Ok(slf.get().queue.waiting())
            }

            fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
                self.queue.traverse(&visit)
            }

            fn __clear__(&self) {
                self.queue.clear();
            }
        }
    };
}

pub(crate) use ordered_queue_methods;
