//! Subclassing, and the standard library's hooks.
//!
//! `queue.Queue` keeps its items through four methods a subclass may
//! override: `_init(maxsize)`, `_qsize()`, `_put(item)` and `_get()`
//! (`LifoQueue` and `PriorityQueue` are such subclasses). ringq's classes
//! keep their items natively, and a plain subclass keeps that fast path. A
//! subclass that overrides a hook gets the standard library's behaviour
//! through its hooks instead: `__init_subclass__` (defined here for each
//! class) hands it to `ringq._subclassing`, which gives it a pure-Python
//! implementation of the methods, built on `threading.Condition` as in the
//! standard library, and marks it with [`MARKER`].
//!
//! The hooks' default implementations are the standard library's own
//! functions (`ringq.Queue._put is queue.Queue._put`), so a subclass may
//! call them as `super()._put(item)` or `Queue._put(self, item)`.
//!
//! `SimpleQueue` has no hooks in the standard library either; subclassing
//! it only makes the constructor take the subclass's own arguments.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::type_object::PyTypeInfo;
use pyo3::types::{PyDict, PyType};

use crate::lifo::LifoQueue;
use crate::priority::PriorityQueue;
use crate::queue::Queue;
use crate::simple::SimpleQueue;

/// The class attribute that marks a subclass on the standard library's
/// path: `None` on the native classes, the implementation class on a
/// subclass that overrides a hook.
const MARKER: &str = "_ringq_stdlib_path";

/// For an instance of a subclass that overrides the hooks: the class whose
/// functions implement its methods. `None` for every other instance (a
/// native one after a single type check).
///
/// # Errors
///
/// Whatever looking the marker up on the type raised.
pub(crate) fn stdlib_path<'py, T: PyTypeInfo>(
    slf: &Bound<'py, T>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let slf = slf.as_any();
    if slf.is_exact_instance_of::<T>() {
        return Ok(None);
    }
    let path = slf.get_type().getattr(intern!(slf.py(), MARKER))?;
    Ok((!path.is_none()).then_some(path))
}

/// `ringq._subclassing.init_subclass(native, cls, kwargs)`.
fn init_subclass(
    native: Bound<'_, PyType>,
    cls: &Bound<'_, PyType>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    cls.py()
        .import(intern!(cls.py(), "ringq._subclassing"))?
        .call_method1(intern!(cls.py(), "init_subclass"), (native, cls, kwargs))?;
    Ok(())
}

/// The standard library's hook `name` of `queue.<class>`.
fn stdlib_hook(py: Python<'_>, class: &str, name: &str) -> PyResult<Py<PyAny>> {
    Ok(py.import("queue")?.getattr(class)?.getattr(name)?.unbind())
}

/// The subclassing support of a class whose standard-library counterpart
/// is `queue.$stdlib`: the marker, `__init_subclass__`, and the hooks.
macro_rules! with_hooks {
    ($class:ident, $stdlib:literal) => {
        #[pymethods]
        impl $class {
            #[classattr]
            #[pyo3(name = "_ringq_stdlib_path")]
            fn stdlib_path_marker(py: Python<'_>) -> Py<PyAny> {
                py.None()
            }

            #[classmethod]
            #[pyo3(signature = (**kwargs))]
            fn __init_subclass__(
                cls: &Bound<'_, PyType>,
                kwargs: Option<&Bound<'_, PyDict>>,
            ) -> PyResult<()> {
                init_subclass(cls.py().get_type::<Self>(), cls, kwargs)
            }

            #[classattr]
            #[pyo3(name = "_init")]
            fn hook_init(py: Python<'_>) -> PyResult<Py<PyAny>> {
                stdlib_hook(py, $stdlib, "_init")
            }

            #[classattr]
            #[pyo3(name = "_qsize")]
            fn hook_qsize(py: Python<'_>) -> PyResult<Py<PyAny>> {
                stdlib_hook(py, $stdlib, "_qsize")
            }

            #[classattr]
            #[pyo3(name = "_put")]
            fn hook_put(py: Python<'_>) -> PyResult<Py<PyAny>> {
                stdlib_hook(py, $stdlib, "_put")
            }

            #[classattr]
            #[pyo3(name = "_get")]
            fn hook_get(py: Python<'_>) -> PyResult<Py<PyAny>> {
                stdlib_hook(py, $stdlib, "_get")
            }
        }
    };
}

with_hooks!(Queue, "Queue");
with_hooks!(LifoQueue, "LifoQueue");
with_hooks!(PriorityQueue, "PriorityQueue");

#[pymethods]
impl Queue {
    /// Sets maxsize, so that a subclass's `super().__init__(maxsize)`
    /// works as with queue.Queue; on a subclass that overrides the hooks,
    /// initialises it as queue.Queue.__init__ does.
    #[pyo3(signature = (maxsize = None))]
    fn __init__(slf: &Bound<'_, Self>, maxsize: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let py = slf.py();
        if let Some(path) = stdlib_path(slf)? {
            let init = path.getattr(intern!(py, "__init__"))?;
            match maxsize {
                Some(maxsize) => init.call1((slf, maxsize))?,
                None => init.call1((slf,))?,
            };
            return Ok(());
        }
        let wanted = match maxsize {
            Some(maxsize) => maxsize.clone(),
            None => 0_i32.into_pyobject(py)?.into_any(),
        };
        // The constructor has set it already unless a subclass's own
        // arguments stood in the way.
        if !slf.getattr(intern!(py, "maxsize"))?.eq(&wanted)? {
            slf.setattr(intern!(py, "maxsize"), wanted)?;
        }
        Ok(())
    }
}

#[pymethods]
impl SimpleQueue {
    #[classattr]
    #[pyo3(name = "_ringq_stdlib_path")]
    fn stdlib_path_marker(py: Python<'_>) -> Py<PyAny> {
        py.None()
    }

    #[classmethod]
    #[pyo3(signature = (**kwargs))]
    fn __init_subclass__(
        cls: &Bound<'_, PyType>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        init_subclass(cls.py().get_type::<Self>(), cls, kwargs)
    }
}
