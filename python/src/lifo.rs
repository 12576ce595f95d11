//! `ringq.LifoQueue`: `queue.LifoQueue` on an owned vector.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyGenericAlias, PyList, PyType};
use pyo3::{PyTraverseError, PyVisit};

use crate::blocking::Block;
use crate::exclusive::Owned;
use crate::ops::Item;
use crate::ordered::{read_maxsize, Discipline, OrderedQueue};
use crate::ordered_methods::ordered_queue_methods;
use crate::queue::batch_size;
use crate::subclass::stdlib_path;

/// Last in, first out: a stack.
pub(crate) struct Lifo;

impl Discipline for Lifo {
    const CLASS: &'static str = "LifoQueue";

    type Entry = Item;

    fn push(_py: Python<'_>, items: &mut Owned<'_, Item>, item: Item) -> Result<(), (PyErr, Item)> {
        items.push(item);
        Ok(())
    }

    fn pop(_py: Python<'_>, items: &mut Owned<'_, Item>) -> PyResult<Item> {
        Ok(items
            .pop()
            .expect("Discipline::pop is only called on a non-empty vector"))
    }
}

/// Variant of Queue that retrieves most recently added entries first.
///
/// A drop-in replacement for queue.LifoQueue: the same methods, arguments,
/// blocking behaviour and exceptions, with shutdown() as in Python 3.13 on
/// every version. maxsize <= 0 means unbounded; it may be assigned. Also
/// offers get_many() and put_many().
#[pyclass(frozen, weakref, subclass, module = "ringq", name = "LifoQueue")]
pub struct LifoQueue {
    pub(crate) queue: OrderedQueue<Lifo>,
}

ordered_queue_methods!(LifoQueue);
