//! The consumer's record of unsettled deliveries on the current channel, and
//! the ack coalescing it allows.
//!
//! Delivery tags on a channel count up from 1. A `basic.ack` with
//! `multiple = true` and tag `n` settles every unsettled delivery up to `n`,
//! so the longest run of acked deliveries at the front of the record goes
//! out as one frame. An acked delivery behind one still being worked on
//! cannot join that frame (it would ack the unfinished one too): it goes out
//! on its own, so that it stops counting against the prefetch window.

use std::collections::BTreeMap;

#[derive(Default)]
pub(crate) struct Ledger {
    /// Unsettled delivery tags; the value is true once the user acked it.
    tags: BTreeMap<u64, bool>,
}

/// The ack frames to send for the acks recorded since the last call.
#[derive(Debug, PartialEq, Eq, Default)]
pub(crate) struct AckPlan {
    /// One `basic.ack(multiple = true)` up to this tag.
    pub(crate) multiple: Option<u64>,
    /// One `basic.ack(multiple = false)` for each.
    pub(crate) single: Vec<u64>,
}

impl Ledger {
    pub(crate) fn delivered(&mut self, tag: u64) {
        self.tags.insert(tag, false);
    }

    /// Records the user's ack; false for a tag this channel does not owe.
    pub(crate) fn acked(&mut self, tag: u64) -> bool {
        match self.tags.get_mut(&tag) {
            Some(acked) => {
                *acked = true;
                true
            }
            None => false,
        }
    }

    /// Forgets a delivery rejected on its own; false for an unknown tag.
    pub(crate) fn remove(&mut self, tag: u64) -> bool {
        self.tags.remove(&tag).is_some()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.tags.len()
    }

    /// Takes every acked delivery out of the record and says which frames
    /// settle them.
    pub(crate) fn plan(&mut self) -> AckPlan {
        let mut plan = AckPlan::default();
        while let Some(entry) = self.tags.first_entry() {
            if !*entry.get() {
                break;
            }
            plan.multiple = Some(entry.remove_entry().0);
        }
        self.tags.retain(|&tag, &mut acked| {
            if acked {
                plan.single.push(tag);
            }
            !acked
        });
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_at_the_front_is_one_frame() {
        let mut l = Ledger::default();
        (1..=5).for_each(|t| l.delivered(t));
        for t in [2, 1, 3] {
            assert!(l.acked(t));
        }
        assert_eq!(
            l.plan(),
            AckPlan {
                multiple: Some(3),
                single: vec![]
            }
        );
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn an_ack_behind_a_gap_goes_alone() {
        let mut l = Ledger::default();
        (1..=5).for_each(|t| l.delivered(t));
        l.acked(1);
        l.acked(3);
        l.acked(5);
        assert_eq!(
            l.plan(),
            AckPlan {
                multiple: Some(1),
                single: vec![3, 5]
            }
        );
        assert!(!l.acked(3), "already settled");
        l.acked(2);
        l.acked(4);
        assert_eq!(l.plan().multiple, Some(4));
        assert!(l.is_empty());
    }

    #[test]
    fn a_removed_tag_does_not_block_the_run() {
        let mut l = Ledger::default();
        (1..=3).for_each(|t| l.delivered(t));
        assert!(l.remove(1));
        l.acked(2);
        l.acked(3);
        assert_eq!(l.plan().multiple, Some(3));
    }
}
