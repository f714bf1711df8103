//! One scheduling decision: PreFilter, Filter over a sample of nodes (in parallel chunks),
//! PreScore/Score over the feasible ones, and the best node (ties broken at random).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rand::Rng;

use crate::framework::{
    num_feasible_nodes_to_find, CycleState, FilterRunner, FitError, Framework, NodeStatuses, Status,
};
use crate::snapshot::{NodeInfo, PodInfo, Snapshot};

/// Below this many nodes to examine, filtering runs on the calling thread.
const PARALLEL_FILTER_THRESHOLD: usize = 1024;
const CHUNK: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleResult {
    pub node: String,
    pub evaluated_nodes: usize,
    pub feasible_nodes: usize,
}

#[derive(Debug)]
pub enum ScheduleFailure {
    /// No node fits; the statuses feed PostFilter.
    Fit(Box<FitError>, NodeStatuses),
    Error(Status),
}

/// The decision state kept across cycles: where the next node sample starts.
pub struct Algorithm {
    next_start: usize,
    percentage_of_nodes_to_score: Option<u32>,
    parallelism: usize,
}

impl Algorithm {
    pub fn new(percentage_of_nodes_to_score: Option<u32>, parallelism: usize) -> Algorithm {
        Algorithm {
            next_start: 0,
            percentage_of_nodes_to_score,
            parallelism: parallelism.max(1),
        }
    }

    pub fn schedule(
        &mut self,
        framework: &Framework,
        snapshot: &Snapshot,
        state: &mut CycleState,
        pod: &PodInfo,
    ) -> Result<ScheduleResult, ScheduleFailure> {
        let all = snapshot.len();
        let status = framework.run_pre_filter(state, pod, snapshot);
        if !status.is_success() {
            if status.is_rejected() {
                let statuses: NodeStatuses = snapshot
                    .nodes()
                    .iter()
                    .map(|n| (n.name.clone(), status.clone()))
                    .collect();
                let mut error = FitError::from_statuses(all, &NodeStatuses::new());
                error.pre_filter_message = Some(status.message());
                error.unschedulable_plugins = vec![status.plugin()];
                return Err(ScheduleFailure::Fit(Box::new(error), statuses));
            }
            return Err(ScheduleFailure::Error(status));
        }
        if let Some(node) = pod.nominated_node_name().and_then(|n| snapshot.node(n)) {
            if framework.run_filters(state, pod, node).is_success() {
                return Ok(ScheduleResult {
                    node: node.name.clone(),
                    evaluated_nodes: 1,
                    feasible_nodes: 1,
                });
            }
        }
        let (feasible, statuses) = self.find_feasible(framework, snapshot, state, pod);
        let evaluated = feasible.len() + statuses.len();
        if feasible.is_empty() {
            return Err(ScheduleFailure::Fit(
                Box::new(FitError::from_statuses(all, &statuses)),
                statuses,
            ));
        }
        if feasible.len() == 1 {
            return Ok(ScheduleResult {
                node: feasible[0].name.clone(),
                evaluated_nodes: evaluated,
                feasible_nodes: 1,
            });
        }
        let status = framework.run_pre_score(state, pod, &feasible, snapshot);
        if !status.is_success() {
            return Err(ScheduleFailure::Error(status));
        }
        let scores = framework
            .run_scores(state, pod, &feasible)
            .map_err(ScheduleFailure::Error)?;
        Ok(ScheduleResult {
            node: select_host(&feasible, &scores),
            evaluated_nodes: evaluated,
            feasible_nodes: feasible.len(),
        })
    }

    /// Filters nodes round-robin from where the last cycle stopped until enough fit.
    fn find_feasible<'a>(
        &mut self,
        framework: &Framework,
        snapshot: &'a Snapshot,
        state: &CycleState,
        pod: &PodInfo,
    ) -> (Vec<&'a NodeInfo>, NodeStatuses) {
        let nodes = snapshot.nodes();
        let all = nodes.len();
        if all == 0 {
            return (Vec::new(), NodeStatuses::new());
        }
        let wanted = num_feasible_nodes_to_find(self.percentage_of_nodes_to_score, all);
        let start = self.next_start % all;
        let (feasible, statuses, processed) =
            if self.parallelism > 1 && all >= PARALLEL_FILTER_THRESHOLD {
                filter_parallel(
                    framework,
                    nodes,
                    state,
                    pod,
                    start,
                    wanted,
                    self.parallelism,
                )
            } else {
                filter_sequential(framework, nodes, state, pod, start, wanted)
            };
        self.next_start = (start + processed) % all;
        (feasible, statuses)
    }
}

fn filter_sequential<'a>(
    framework: &Framework,
    nodes: &'a [NodeInfo],
    state: &CycleState,
    pod: &PodInfo,
    start: usize,
    wanted: usize,
) -> (Vec<&'a NodeInfo>, NodeStatuses, usize) {
    let mut feasible = Vec::with_capacity(wanted.min(nodes.len()));
    let mut statuses = NodeStatuses::new();
    let mut processed = 0;
    for i in 0..nodes.len() {
        let node = &nodes[(start + i) % nodes.len()];
        processed += 1;
        let status = framework.run_filters(state, pod, node);
        if status.is_success() {
            feasible.push(node);
            if feasible.len() >= wanted {
                break;
            }
        } else {
            statuses.insert(node.name.clone(), status);
        }
    }
    (feasible, statuses, processed)
}

/// Workers take chunks of the rotated node order; they stop once `wanted` nodes fit. The
/// feasible set keeps the earliest nodes in that order, as a sequential pass would.
fn filter_parallel<'a>(
    framework: &Framework,
    nodes: &'a [NodeInfo],
    state: &CycleState,
    pod: &PodInfo,
    start: usize,
    wanted: usize,
    parallelism: usize,
) -> (Vec<&'a NodeInfo>, NodeStatuses, usize) {
    let all = nodes.len();
    let next_chunk = AtomicUsize::new(0);
    let found = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Status)>> = Mutex::new(Vec::with_capacity(all));
    let work = || {
        let mut local = Vec::new();
        loop {
            if found.load(Ordering::Relaxed) >= wanted {
                break;
            }
            let from = next_chunk.fetch_add(CHUNK, Ordering::Relaxed);
            if from >= all {
                break;
            }
            for offset in from..(from + CHUNK).min(all) {
                let node = &nodes[(start + offset) % all];
                let status = framework.run_filters(state, pod, node);
                if status.is_success() {
                    found.fetch_add(1, Ordering::Relaxed);
                }
                local.push((offset, status));
            }
        }
        if let Ok(mut results) = results.lock() {
            results.append(&mut local);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..parallelism {
            scope.spawn(work);
        }
        work();
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_unstable_by_key(|(offset, _)| *offset);
    let mut feasible = Vec::with_capacity(wanted.min(all));
    let mut statuses = NodeStatuses::new();
    let mut processed = 0;
    for (offset, status) in results {
        if feasible.len() >= wanted {
            break;
        }
        processed = offset + 1;
        let node = &nodes[(start + offset) % all];
        if status.is_success() {
            feasible.push(node);
        } else {
            statuses.insert(node.name.clone(), status);
        }
    }
    (feasible, statuses, processed)
}

/// The highest total; among equal totals each is picked with equal probability.
pub fn select_host(nodes: &[&NodeInfo], scores: &[i64]) -> String {
    let mut rng = rand::rng();
    let mut best = 0;
    let mut ties = 0u32;
    for (i, score) in scores.iter().enumerate() {
        if i == 0 || *score > scores[best] {
            best = i;
            ties = 1;
        } else if *score == scores[best] {
            ties += 1;
            if rng.random_range(0..ties) == 0 {
                best = i;
            }
        }
    }
    nodes.get(best).map(|n| n.name.clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::default_framework;
    use crate::plugins::testing::{node, pod_requesting, taint};

    fn cluster(count: usize) -> Snapshot {
        let mut snapshot = Snapshot::new();
        for i in 0..count {
            snapshot.upsert_node(node(&format!("n{i}")).node());
        }
        snapshot
    }

    #[test]
    fn stops_after_enough_feasible_nodes_and_rotates() {
        let framework = default_framework(None);
        let snapshot = cluster(5000);
        let p = PodInfo::new(pod_requesting("p", "100m", "100Mi"), 0);
        for parallelism in [1, 4] {
            let mut algorithm = Algorithm::new(None, parallelism);
            let (feasible, statuses) =
                algorithm.find_feasible(&framework, &snapshot, &CycleState::new(), &p);
            assert_eq!(feasible.len(), 500);
            assert!(statuses.is_empty());
            assert_eq!(algorithm.next_start, 500);
            assert_eq!(feasible[0].name, "n0");
        }
    }

    #[test]
    fn fit_error_counts_reasons() {
        let framework = default_framework(None);
        let mut snapshot = Snapshot::new();
        snapshot.upsert_node(
            node("cp")
                .taint(taint(
                    "node-role.kubernetes.io/control-plane",
                    "",
                    "NoSchedule",
                ))
                .node(),
        );
        snapshot.upsert_node(node("a").node());
        snapshot.upsert_node(node("b").node());
        let p = PodInfo::new(pod_requesting("p", "8", ""), 0);
        let mut algorithm = Algorithm::new(None, 1);
        match algorithm.schedule(&framework, &snapshot, &mut CycleState::new(), &p) {
            Err(ScheduleFailure::Fit(error, statuses)) => {
                assert_eq!(statuses.len(), 3);
                assert_eq!(
                    error.to_string(),
                    "0/3 nodes are available: 1 node(s) had untolerated taint \
                     {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu."
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn picks_the_least_allocated_node() {
        let framework = default_framework(None);
        let mut snapshot = Snapshot::new();
        let busy = node("busy").pod(pod_requesting("q", "3", "6Gi"));
        snapshot.upsert_node(busy.node());
        for p in busy.pods() {
            let mut p = p;
            p.spec.get_or_insert_default().node_name = Some("busy".into());
            snapshot.add_pod(PodInfo::new(p, 0));
        }
        snapshot.upsert_node(node("idle").node());
        let p = PodInfo::new(pod_requesting("p", "500m", "1Gi"), 0);
        let mut algorithm = Algorithm::new(None, 1);
        let result = algorithm.schedule(&framework, &snapshot, &mut CycleState::new(), &p);
        assert_eq!(result.map(|r| r.node).ok(), Some("idle".to_string()));
    }
}
