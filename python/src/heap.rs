//! Binary-heap moves planned before they are made.
//!
//! `PriorityQueue` must order items exactly as `queue.PriorityQueue` does,
//! ties included, so it makes the comparisons CPython's `heapq` makes, in
//! the same order: `heappush` sifts the new item up past every parent it is
//! `<`; `heappop` moves the last item to the root, walks the smaller child
//! (the right one unless `left < right`) down to a leaf, then sifts the
//! moved item back up (Floyd's "bottom-up" variant, as in `heapq`; see
//! Knuth, TAOCP vol. 3, 5.2.3, exercise 18).
//!
//! `heapq` moves items as it compares them. Here every comparison is made
//! first, against a heap that does not change, and the moves follow only
//! once all succeeded: a comparison that raises leaves the heap as it was,
//! so a failed `put` or `get` loses nothing. The comparisons see the same
//! items `heapq`'s would: each sift compares against items its own earlier
//! moves have not touched.

/// Where a new item comes to rest when pushed onto a heap of `len` items.
///
/// `new_lt(i)` answers "is the new item `<` the item at index `i`" for the
/// parents along the way, nearest first, stopping at the first `false`.
/// The caller appends the item and swaps it up to the returned index.
///
/// # Errors
///
/// The first error `new_lt` returns.
#[inline]
pub(crate) fn push_target<E>(
    len: usize,
    mut new_lt: impl FnMut(usize) -> Result<bool, E>,
) -> Result<usize, E> {
    let mut pos = len;
    while pos > 0 {
        let parent = (pos - 1) / 2;
        if !new_lt(parent)? {
            break;
        }
        pos = parent;
    }
    Ok(pos)
}

/// How to remove the root of a heap: the last item moves to the root, then
/// down the path towards `leaf` to the node `settle` steps below the root,
/// each item it passes moving up one step.
///
/// The path is the chain of `leaf`'s ancestors, so it is kept as the leaf
/// and its depth rather than as a list.
pub(crate) struct PopPlan {
    leaf: usize,
    depth: u32,
    settle: u32,
}

impl PopPlan {
    /// The node `level` steps below the root on the path to `leaf`.
    fn at(&self, level: u32) -> usize {
        ((self.leaf + 1) >> (self.depth - level)) - 1
    }

    /// The index pairs to swap, in order, once the root has been replaced
    /// by the last item (`Vec::swap_remove(0)`).
    pub(crate) fn swaps(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.settle).map(|level| (self.at(level), self.at(level + 1)))
    }
}

/// Plans `heappop` on a heap of `len >= 1` items.
///
/// `lt(a, b)` answers "is the item at `a` `<` the item at `b`" for indices
/// of the heap as it is now; the item that moves is the last one, at
/// `len - 1`.
///
/// # Errors
///
/// The first error `lt` returns.
#[inline]
pub(crate) fn pop_plan<E>(
    len: usize,
    mut lt: impl FnMut(usize, usize) -> Result<bool, E>,
) -> Result<PopPlan, E> {
    debug_assert!(len >= 1);
    let last = len - 1;
    // Without the last item, the heap that remains has `last` slots.
    let end = last;
    // Down to a leaf along the smaller children.
    let mut leaf = 0;
    let mut depth = 0;
    let mut child = 1;
    while child < end {
        let right = child + 1;
        if right < end && !lt(child, right)? {
            child = right;
        }
        leaf = child;
        depth += 1;
        child = 2 * child + 1;
    }
    let mut plan = PopPlan {
        leaf,
        depth,
        settle: depth,
    };
    // Back up: the moved item passes each item it is `<`. After the walk
    // down, the parent of each path node holds what was at that node.
    while plan.settle > 0 && lt(last, plan.at(plan.settle))? {
        plan.settle -= 1;
    }
    Ok(plan)
}
