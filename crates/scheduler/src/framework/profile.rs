//! The plugins of one scheduler profile, by extension point, and how each point runs them.

use std::sync::Arc;

use super::cycle::CycleState;
use super::status::{Code, Status};
use super::traits::{
    BindPlugin, FilterPlugin, FilterRunner, PermitPlugin, PostFilterPlugin, PreBindPlugin,
    PreEnqueuePlugin, PreFilterPlugin, PreScorePlugin, QueueSortPlugin, ReservePlugin, ScorePlugin,
};
use crate::snapshot::{NodeInfo, PodInfo, Snapshot};

/// Plugins by extension point, in the order they run.
#[derive(Default, Clone)]
pub struct Framework {
    pub pre_enqueue: Vec<Arc<dyn PreEnqueuePlugin>>,
    pub queue_sort: Option<Arc<dyn QueueSortPlugin>>,
    pub pre_filter: Vec<Arc<dyn PreFilterPlugin>>,
    pub filter: Vec<Arc<dyn FilterPlugin>>,
    pub post_filter: Vec<Arc<dyn PostFilterPlugin>>,
    pub pre_score: Vec<Arc<dyn PreScorePlugin>>,
    /// Score plugins with their weights.
    pub score: Vec<(Arc<dyn ScorePlugin>, i64)>,
    pub reserve: Vec<Arc<dyn ReservePlugin>>,
    pub permit: Vec<Arc<dyn PermitPlugin>>,
    pub pre_bind: Vec<Arc<dyn PreBindPlugin>>,
    pub bind: Vec<Arc<dyn BindPlugin>>,
}

impl Framework {
    /// The first gate that holds the pod back, if any.
    pub fn run_pre_enqueue(&self, pod: &PodInfo) -> Status {
        for plugin in &self.pre_enqueue {
            let status = plugin.pre_enqueue(pod);
            if !status.is_success() {
                return status.with_plugin(plugin.name());
            }
        }
        Status::success()
    }

    /// Runs every PreFilter; a rejection or error stops the cycle for all nodes.
    pub fn run_pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
    ) -> Status {
        for plugin in &self.pre_filter {
            let status = plugin.pre_filter(state, pod, snapshot);
            match status.code() {
                Code::Success => {}
                Code::Skip => state.skip_filter(plugin.name()),
                _ => return status.with_plugin(plugin.name()),
            }
        }
        state.index_skipped_filters(self.filter.iter().map(|f| f.name()));
        Status::success()
    }

    pub fn run_pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        snapshot: &Snapshot,
    ) -> Status {
        for plugin in &self.pre_score {
            let status = plugin.pre_score(state, pod, nodes, snapshot);
            match status.code() {
                Code::Success => {}
                Code::Skip => state.skip_score(plugin.name()),
                _ => return status.with_plugin(plugin.name()),
            }
        }
        Status::success()
    }

    /// Weighted sum of every Score plugin's normalized score, per node (same order as `nodes`).
    pub fn run_scores(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
    ) -> Result<Vec<i64>, Status> {
        let mut totals = vec![0i64; nodes.len()];
        let mut scores = vec![0i64; nodes.len()];
        for (plugin, weight) in &self.score {
            if state.score_skipped(plugin.name()) {
                continue;
            }
            for (score, node) in scores.iter_mut().zip(nodes) {
                *score = plugin
                    .score(state, pod, node)
                    .map_err(|s| s.with_plugin(plugin.name()))?;
            }
            let status = plugin.normalize_score(state, pod, &mut scores);
            if !status.is_success() {
                return Err(status.with_plugin(plugin.name()));
            }
            for (total, score) in totals.iter_mut().zip(&scores) {
                *total += score * weight;
            }
        }
        Ok(totals)
    }

    pub fn run_reserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str) -> Status {
        for (i, plugin) in self.reserve.iter().enumerate() {
            let status = plugin.reserve(state, pod, node);
            if !status.is_success() {
                for undo in self.reserve[..i].iter().rev() {
                    undo.unreserve(state, pod, node);
                }
                return status.with_plugin(plugin.name());
            }
        }
        Status::success()
    }

    pub fn run_unreserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str) {
        for plugin in self.reserve.iter().rev() {
            plugin.unreserve(state, pod, node);
        }
    }

    pub fn run_permit(&self, state: &CycleState, pod: &PodInfo, node: &str) -> Status {
        for plugin in &self.permit {
            let status = plugin.permit(state, pod, node);
            if !status.is_success() && !status.is_skip() {
                return status.with_plugin(plugin.name());
            }
        }
        Status::success()
    }

    /// PreBind then the first Bind plugin that does not Skip; runs in a binding task.
    pub async fn run_binding(
        pre_bind: Vec<Arc<dyn PreBindPlugin>>,
        bind: Vec<Arc<dyn BindPlugin>>,
        pod: Arc<PodInfo>,
        node: String,
    ) -> Status {
        for plugin in &pre_bind {
            let status = plugin.pre_bind(pod.clone(), node.clone()).await;
            if !status.is_success() && !status.is_skip() {
                return status.with_plugin(plugin.name());
            }
        }
        for plugin in &bind {
            let status = plugin.bind(pod.clone(), node.clone()).await;
            if !status.is_skip() {
                return status.with_plugin(plugin.name());
            }
        }
        Status::error("no bind plugin bound the pod")
    }
}

impl FilterRunner for Framework {
    fn run_pre_filter_add(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        added: &PodInfo,
        node: &NodeInfo,
    ) {
        for plugin in &self.pre_filter {
            if !state.filter_skipped(plugin.name()) {
                plugin.add_pod(state, pod, added, node);
            }
        }
    }

    fn run_pre_filter_remove(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        removed: &PodInfo,
        node: &NodeInfo,
    ) {
        for plugin in &self.pre_filter {
            if !state.filter_skipped(plugin.name()) {
                plugin.remove_pod(state, pod, removed, node);
            }
        }
    }

    /// Every Filter in order; the first rejection (tagged with its plugin) wins.
    fn run_filters(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        for (index, plugin) in self.filter.iter().enumerate() {
            if state.filter_skipped_at(index, plugin.name()) {
                continue;
            }
            let status = plugin.filter(state, pod, node);
            if !status.is_success() {
                return status.with_plugin(plugin.name());
            }
        }
        Status::success()
    }

    fn clone_state(&self, _state: &CycleState, pod: &PodInfo, snapshot: &Snapshot) -> CycleState {
        let mut fresh = CycleState::new();
        let _ = self.run_pre_filter(&mut fresh, pod, snapshot);
        fresh
    }
}
