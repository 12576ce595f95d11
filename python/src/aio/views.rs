//! The familiar faces of a queue: `q.async_q`, a view with
//! `asyncio.Queue`'s API, and `q.sync_q`, one with `queue.Queue`'s, plus
//! the `janus.Queue` methods around them (`close()`, `closed`,
//! `wait_closed()`, `aclose()`), on `Queue`, `LifoQueue` and
//! `PriorityQueue`.
//!
//! The views themselves are Python classes (`ringq/_aio_views.py`): each
//! method is a call or two into the queue's own methods, plus the
//! translation of `queue`'s exceptions into `asyncio`'s. What lives here is
//! where a queue keeps its views: made on first use, then the same objects
//! for the queue's whole life. A view holds its queue strongly, so the pair
//! is a cycle, which the queue's `tp_traverse` shows to the GC.

use std::sync::Mutex;

use pyo3::gc::PyVisit;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::PyTraverseError;

use crate::lifo::LifoQueue;
use crate::priority::PriorityQueue;
use crate::queue::Queue;

/// Which view.
#[derive(Clone, Copy)]
enum Kind {
    Async = 0,
    Sync = 1,
}

impl Kind {
    /// The class in `ringq._aio_views` that makes this view of a queue.
    fn class_name(self) -> &'static str {
        match self {
            Kind::Async => "AsyncQueueView",
            Kind::Sync => "SyncQueueView",
        }
    }
}

/// A queue's views, made on first use.
#[derive(Default)]
pub(crate) struct Views {
    /// No Python code runs and no Python object is released while it is
    /// held.
    made: Mutex<[Option<Py<PyAny>>; 2]>,
}

impl Views {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, [Option<Py<PyAny>>; 2]> {
        // Nothing under the lock can panic half way.
        self.made
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The view of `queue` of this kind: the one made before, or a new one.
    fn get(&self, queue: &Bound<'_, PyAny>, kind: Kind) -> PyResult<Py<PyAny>> {
        let py = queue.py();
        if let Some(view) = &self.lock()[kind as usize] {
            return Ok(view.clone_ref(py));
        }
        // Made with the lock let go (Python code runs); if two threads race,
        // the first to store wins and the other's view is dropped.
        let made = module(py)?
            .getattr(kind.class_name())?
            .call1((queue,))?
            .unbind();
        let mut slots = self.lock();
        let (view, spare) = match &slots[kind as usize] {
            Some(first) => (first.clone_ref(py), Some(made)),
            None => {
                slots[kind as usize] = Some(made.clone_ref(py));
                (made, None)
            }
        };
        drop(slots);
        // Released with the lock let go.
        drop(spare);
        Ok(view)
    }

    /// Shows the views to the GC.
    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        // Held by another thread only outside any Python code; if it were
        // held now, skipping is safe (the GC keeps the views this round).
        let Ok(slots) = self.made.try_lock() else {
            return Ok(());
        };
        for view in slots.iter().flatten() {
            visit.call(view)?;
        }
        Ok(())
    }

    /// For `tp_clear`: lets go of the views.
    pub(crate) fn clear(&self) {
        let taken = std::mem::take(&mut *self.lock());
        // Released with the lock let go.
        drop(taken);
    }
}

/// `ringq._aio_views`, imported once.
fn module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("ringq._aio_views")?.unbind())
        })
        .map(|m| m.bind(py))
}

/// Where each class keeps its views.
pub(crate) trait HasViews {
    fn views(&self) -> &Views;
}

impl HasViews for Queue {
    fn views(&self) -> &Views {
        &self.views
    }
}

impl HasViews for LifoQueue {
    fn views(&self) -> &Views {
        &self.queue.views
    }
}

impl HasViews for PriorityQueue {
    fn views(&self) -> &Views {
        &self.queue.views
    }
}

/// The views, and janus's `close()`/`closed`/`wait_closed()`/`aclose()`.
macro_rules! view_methods {
    ($class:ty) => {
        #[pymethods]
        impl $class {
            /// This queue with asyncio.Queue's API: awaitable put(), get()
            /// and join(), and asyncio's exceptions (QueueEmpty, QueueFull,
            /// QueueShutDown). The same object each time.
            #[getter]
            fn async_q(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
                slf.get().views().get(slf.as_any(), Kind::Async)
            }

            /// This queue with queue.Queue's API (which the queue itself
            /// has too), as janus.Queue.sync_q. The same object each time.
            #[getter]
            fn sync_q(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
                slf.get().views().get(slf.as_any(), Kind::Sync)
            }

            /// Whether the queue was shut down (or closed), as janus's.
            #[getter]
            fn closed(slf: &Bound<'_, Self>) -> PyResult<bool> {
                slf.getattr(intern!(slf.py(), "is_shutdown"))?.is_truthy()
            }

            /// Shut the queue down at once, dropping what it holds: the
            /// same as shutdown(immediate=True), as janus.Queue.close().
            fn close(slf: &Bound<'_, Self>) -> PyResult<()> {
                slf.call_method1(intern!(slf.py(), "shutdown"), (true,))
                    .map(drop)
            }

            /// Wait (a coroutine) until the queue is closed; raises
            /// RuntimeError if close() or shutdown() was not called. As
            /// janus.Queue.wait_closed(); nothing is ever pending here.
            fn wait_closed(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
                module(slf.py())?
                    .call_method1(intern!(slf.py(), "wait_closed"), (slf,))
                    .map(Bound::unbind)
            }

            /// close(), then wait_closed() (a coroutine), as
            /// janus.Queue.aclose().
            fn aclose(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
                module(slf.py())?
                    .call_method1(intern!(slf.py(), "aclose"), (slf,))
                    .map(Bound::unbind)
            }
        }
    };
}

view_methods!(Queue);
view_methods!(LifoQueue);
view_methods!(PriorityQueue);
