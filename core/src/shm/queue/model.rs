//! Model-checking entry points: a heap segment, model processes, and
//! operations that stop where a killed process would.

use super::{me, Participant, ShmQueue};
use crate::loom::Ordering;
use crate::shm::layout::Layout;
use crate::shm::liveness::ProcessId;
use crate::shm::options::ShmOptions;
use crate::shm::recovery;
use crate::shm::ring::{Attempt, Ring};
use crate::shm::segment::Segment;

impl ShmQueue {
    /// A queue on a fresh model segment, held by a new model process.
    #[doc(hidden)]
    pub fn model_new(options: &ShmOptions) -> Self {
        let layout = Layout::new(
            options.capacity,
            options.max_message_size,
            options.max_participants,
        )
        .expect("valid model options");
        let seg = Segment::new(layout);
        Ring::new(&seg).initialize();
        Self::model_attach(seg)
    }

    /// Another handle on the same segment, held by a new model process.
    #[doc(hidden)]
    pub fn model_open(&self) -> Self {
        Self::model_attach(self.seg.clone())
    }

    fn model_attach(seg: Segment) -> Self {
        // Relaxed: model PIDs only need to be distinct.
        let pid = seg.model().next_pid.fetch_add(1, Ordering::Relaxed);
        let process = ProcessId { pid, start: 0 };
        let (entry, owner) = recovery::attach(&seg, process).expect("a free model entry");
        Self {
            seg,
            name: None,
            me: me::Me {
                participant: Participant { owner, entry },
                process,
            },
            fruitless_wakes: Default::default(),
            alive_cache: Default::default(),
            #[cfg(feature = "test-hooks")]
            pause: Default::default(),
        }
    }

    /// Marks this handle's model process dead.
    #[doc(hidden)]
    pub fn model_kill(&self) {
        self.seg.model().kill(self.me.process.pid);
    }

    /// Claims a slot for one message and dies before publishing it.
    #[doc(hidden)]
    pub fn model_push_then_die(&self) -> bool {
        self.model_push_many_then_die(1) == 1
    }

    /// Claims up to `n` slots in one step and dies before publishing
    /// any; returns how many it claimed.
    #[doc(hidden)]
    pub fn model_push_many_then_die(&self, n: usize) -> usize {
        let me = self.me.participant;
        let claimed = match self.ring().try_claim_push(me.owner, n) {
            Ok(Attempt::Claimed(claim)) => claim.count,
            _ => 0,
        };
        self.model_kill();
        claimed
    }

    /// Claims a message and dies before releasing its slot.
    #[doc(hidden)]
    pub fn model_pop_then_die(&self) -> bool {
        let me = self.me.participant;
        let claimed = matches!(
            self.ring().try_claim_pop(me.owner, 1),
            Ok(Attempt::Claimed(_))
        );
        self.model_kill();
        claimed
    }
}
