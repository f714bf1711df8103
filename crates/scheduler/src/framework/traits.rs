//! One trait per extension point, as upstream's framework.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::cycle::CycleState;
use super::status::Status;
use crate::queue::QueuedPodInfo;
use crate::snapshot::{NodeInfo, PodInfo, Snapshot};

/// The highest score a plugin gives a node.
pub const MAX_NODE_SCORE: i64 = 100;

pub trait Plugin: Send + Sync {
    fn name(&self) -> &'static str;
}

/// Decides whether a pod may enter the active queue at all (scheduling gates).
pub trait PreEnqueuePlugin: Plugin {
    fn pre_enqueue(&self, pod: &PodInfo) -> Status;
}

/// Orders the active queue.
pub trait QueueSortPlugin: Plugin {
    fn less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool;
}

/// Computes per-cycle state; may reject the pod for every node or return Skip.
pub trait PreFilterPlugin: Plugin {
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, snapshot: &Snapshot) -> Status;

    /// The pod `added` is now counted on `node` (preemption's what-if, nominated pods).
    fn add_pod(&self, _state: &mut CycleState, _pod: &PodInfo, _added: &PodInfo, _node: &NodeInfo) {
    }

    /// The pod `removed` no longer counts on `node`.
    fn remove_pod(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _removed: &PodInfo,
        _node: &NodeInfo,
    ) {
    }
}

/// Whether the pod can run on one node.
pub trait FilterPlugin: Plugin {
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status;
}

/// Node name → the status of the filter that rejected it.
pub type NodeStatuses = HashMap<String, Status>;

/// What a PostFilter plugin decided; the scheduling loop performs the effects.
#[derive(Debug, Default)]
pub struct PostFilterResult {
    pub nominated_node: Option<String>,
    pub victims: Vec<Arc<PodInfo>>,
}

/// The framework as a PostFilter plugin sees it: it may re-run PreFilter/Filter on what-ifs.
pub trait FilterRunner: Sync {
    fn run_pre_filter_add(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        added: &PodInfo,
        node: &NodeInfo,
    );
    fn run_pre_filter_remove(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        removed: &PodInfo,
        node: &NodeInfo,
    );
    fn run_filters(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status;
    fn clone_state(&self, state: &CycleState, pod: &PodInfo, snapshot: &Snapshot) -> CycleState;
}

/// Runs when no node fits (preemption).
pub trait PostFilterPlugin: Plugin {
    fn post_filter(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
        statuses: &NodeStatuses,
        runner: &dyn FilterRunner,
    ) -> (Status, PostFilterResult);
}

/// Computes per-cycle state for scoring over the feasible nodes.
pub trait PreScorePlugin: Plugin {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        snapshot: &Snapshot,
    ) -> Status;
}

/// Ranks feasible nodes; `normalize_score` rescales the raw scores to 0..=100.
pub trait ScorePlugin: Plugin {
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status>;

    fn normalize_score(&self, _state: &CycleState, _pod: &PodInfo, _scores: &mut [i64]) -> Status {
        Status::success()
    }
}

/// Claims resources for the pod on the chosen node; Unreserve undoes it.
pub trait ReservePlugin: Plugin {
    fn reserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str) -> Status;
    fn unreserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str);
}

/// Approves or rejects the binding (no waiting support).
pub trait PermitPlugin: Plugin {
    fn permit(&self, state: &CycleState, pod: &PodInfo, node: &str) -> Status;
}

/// Runs before binding, in the binding task.
pub trait PreBindPlugin: Plugin {
    fn pre_bind(&self, pod: Arc<PodInfo>, node: String) -> BoxFuture<'static, Status>;
}

/// Binds the pod; Skip passes to the next Bind plugin.
pub trait BindPlugin: Plugin {
    fn bind(&self, pod: Arc<PodInfo>, node: String) -> BoxFuture<'static, Status>;
}
