//! `ringq.PriorityQueue`: `queue.PriorityQueue` on an owned binary heap.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyGenericAlias, PyList, PyType};
use pyo3::{PyTraverseError, PyVisit};

use crate::blocking::Block;
use crate::compare::{key_of, less, Key, Raised};
use crate::exclusive::{Held, Owned};
use crate::heap;
use crate::ops::Item;
use crate::ordered::{read_maxsize, Discipline, OrderedQueue};
use crate::ordered_methods::ordered_queue_methods;
use crate::queue::batch_size;
use crate::subclass::stdlib_path;

/// Lowest first, compared with `<` exactly as `heapq` compares them.
pub(crate) struct Heap;

/// An item in the heap, with its [`Key`], read once when it was put.
pub(crate) struct Keyed {
    key: Key,
    item: Item,
}

impl Held for Keyed {
    fn object(&self) -> &Item {
        &self.item
    }
}

impl Keyed {
    /// Whether `self < other`, as heapq would find.
    #[inline]
    fn lt(&self, other: &Keyed, py: Python<'_>) -> Result<bool, Raised> {
        less(py, (&self.item, self.key), (&other.item, other.key))
    }
}

impl Discipline for Heap {
    const CLASS: &'static str = "PriorityQueue";

    type Entry = Keyed;

    fn push(py: Python<'_>, items: &mut Owned<'_, Keyed>, item: Item) -> Result<(), (PyErr, Item)> {
        let len = items.len();
        let new = Keyed {
            key: key_of(item.bind(py)),
            item,
        };
        let target = {
            let heap = items.slice();
            heap::push_target(len, |parent| new.lt(&heap[parent], py))
        };
        let target = match target {
            Ok(target) => target,
            Err(raised) => return Err((raised.fetch(py), new.item)),
        };
        items.push(new);
        let mut pos = len;
        while pos > target {
            let parent = (pos - 1) / 2;
            items.swap(pos, parent);
            pos = parent;
        }
        Ok(())
    }

    fn pop(py: Python<'_>, items: &mut Owned<'_, Keyed>) -> PyResult<Item> {
        let plan = {
            let heap = items.slice();
            heap::pop_plan(heap.len(), |a, b| heap[a].lt(&heap[b], py))
                .map_err(|raised| raised.fetch(py))?
        };
        let top = items.swap_remove(0);
        for (a, b) in plan.swaps() {
            items.swap(a, b);
        }
        Ok(top.item)
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
    pub(crate) queue: OrderedQueue<Heap>,
}

ordered_queue_methods!(PriorityQueue);
