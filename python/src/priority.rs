//! `ringq.PriorityQueue`: `queue.PriorityQueue` on an owned binary heap.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyGenericAlias, PyList, PyType};
use pyo3::{PyTraverseError, PyVisit};

use crate::blocking::Block;
use crate::exclusive::Owned;
use crate::heap;
use crate::ops::Item;
use crate::ordered::{read_maxsize, Discipline, OrderedQueue};
use crate::ordered_methods::ordered_queue_methods;
use crate::queue::batch_size;
use crate::subclass::stdlib_path;

/// Lowest first, compared with `<` exactly as `heapq` compares them.
pub(crate) struct Heap;

impl Discipline for Heap {
    const CLASS: &'static str = "PriorityQueue";

    fn push(py: Python<'_>, items: &mut Owned<'_>, item: Item) -> Result<(), (PyErr, Item)> {
        let len = items.len();
        let target = {
            let new = item.bind(py);
            heap::push_target(len, |parent| new.lt(items.get(py, parent)))
        };
        let target = match target {
            Ok(target) => target,
            Err(err) => return Err((err, item)),
        };
        items.push(item);
        let mut pos = len;
        while pos > target {
            let parent = (pos - 1) / 2;
            items.swap(pos, parent);
            pos = parent;
        }
        Ok(())
    }

    fn pop(py: Python<'_>, items: &mut Owned<'_>) -> PyResult<Item> {
        let plan = heap::pop_plan(items.len(), |a, b| items.get(py, a).lt(items.get(py, b)))?;
        let top = items.swap_remove(0);
        for (a, b) in plan.swaps() {
            items.swap(a, b);
        }
        Ok(top)
    }
}

/// Variant of Queue that retrieves open entries in priority order (lowest
/// first).
///
/// Entries are typically tuples of the form: (priority number, data).
///
/// A drop-in replacement for queue.PriorityQueue: items are compared with
/// `<` exactly as heapq compares them, so they come out in the same order,
/// ties included. A comparison that raises leaves the queue unchanged.
/// Same methods, arguments, blocking behaviour and exceptions as
/// queue.PriorityQueue, with shutdown() as in Python 3.13 on every version;
/// maxsize may be assigned. Also offers get_many() and put_many().
///
/// The queue is not reentrant: a __lt__ (or a __del__, weakref callback or
/// signal handler running during an operation) that uses the same queue
/// gets RuntimeError.
#[pyclass(frozen, weakref, subclass, module = "ringq", name = "PriorityQueue")]
pub struct PriorityQueue {
    queue: OrderedQueue<Heap>,
}

ordered_queue_methods!(PriorityQueue);
