//! DefaultPreemption: when no node fits, find a node where evicting lower-priority pods
//! makes room, pick the least disruptive one, and name the victims and the nominated node
//! (the scheduling loop deletes the victims and sets `status.nominatedNodeName`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::framework::{
    sorted_histogram, Code, CycleState, FilterRunner, NodeStatuses, Plugin, PostFilterPlugin,
    PostFilterResult, Status,
};
use crate::snapshot::{NodeInfo, PodInfo, Snapshot};

pub const NAME: &str = "DefaultPreemption";
pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";
/// Upstream's defaults: try at least 10% of the nodes, and at least 100.
const MIN_CANDIDATE_NODES_PERCENTAGE: usize = 10;
const MIN_CANDIDATE_NODES_ABSOLUTE: usize = 100;

pub struct DefaultPreemption;

impl Plugin for DefaultPreemption {
    fn name(&self) -> &'static str {
        NAME
    }
}

/// A node where preemption works, with the pods to evict (most important first).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub node: String,
    pub victims: Vec<Arc<PodInfo>>,
}

fn more_important(a: &PodInfo, b: &PodInfo) -> std::cmp::Ordering {
    b.priority
        .cmp(&a.priority)
        .then(a.start_seconds.cmp(&b.start_seconds))
}

/// Upstream's `PodEligibleToPreemptOthers`.
fn eligibility(pod: &PodInfo, snapshot: &Snapshot) -> Result<(), String> {
    if pod.preemption_policy_never() {
        return Err("not eligible due to preemptionPolicy=Never.".to_string());
    }
    if let Some(node) = pod.nominated_node_name().and_then(|n| snapshot.node(n)) {
        if node
            .pods
            .iter()
            .any(|p| p.terminating && p.priority < pod.priority)
        {
            return Err("not eligible due to a terminating pod on the nominated node.".to_string());
        }
    }
    Ok(())
}

/// Victims on one node, or the status saying why preemption cannot help there.
pub fn select_victims_on_node(
    runner: &dyn FilterRunner,
    state: &mut CycleState,
    pod: &PodInfo,
    node: &NodeInfo,
) -> Result<Vec<Arc<PodInfo>>, Status> {
    let mut node = node.clone();
    let mut potential: Vec<Arc<PodInfo>> = node
        .pods
        .iter()
        .filter(|p| p.priority < pod.priority)
        .cloned()
        .collect();
    if potential.is_empty() {
        return Err(Status::unresolvable(NO_VICTIMS));
    }
    for victim in &potential {
        node.remove_pod(&victim.uid);
        runner.run_pre_filter_remove(state, pod, victim, &node);
    }
    let status = runner.run_filters(state, pod, &node);
    if !status.is_success() {
        return Err(status);
    }
    potential.sort_by(|a, b| more_important(a, b));
    let mut victims = Vec::new();
    for candidate in potential {
        node.add_pod(candidate.clone());
        runner.run_pre_filter_add(state, pod, &candidate, &node);
        if !runner.run_filters(state, pod, &node).is_success() {
            node.remove_pod(&candidate.uid);
            runner.run_pre_filter_remove(state, pod, &candidate, &node);
            victims.push(candidate);
        }
    }
    Ok(victims)
}

/// Upstream's `pickOneNodeForPreemption` without PodDisruptionBudgets: lowest highest-victim
/// priority, then lowest priority sum, then fewest victims, then the latest start of the
/// most important victims, then the first.
pub fn pick_one(candidates: &[Candidate]) -> Option<&Candidate> {
    let key = |c: &Candidate| {
        let highest = c.victims.first().map(|v| v.priority).unwrap_or(i32::MIN);
        let sum: i64 = c
            .victims
            .iter()
            .map(|v| i64::from(v.priority) + i64::from(i32::MAX) + 1)
            .sum();
        let earliest_of_highest = c
            .victims
            .iter()
            .filter(|v| v.priority == highest)
            .map(|v| v.start_seconds)
            .min()
            .unwrap_or(i64::MAX);
        (
            highest,
            sum,
            c.victims.len(),
            std::cmp::Reverse(earliest_of_highest),
        )
    };
    let mut best: Option<&Candidate> = None;
    for candidate in candidates {
        if best.is_none_or(|b| key(candidate) < key(b)) {
            best = Some(candidate);
        }
    }
    best
}

fn summary(num_all_nodes: usize, statuses: &NodeStatuses) -> String {
    let mut reasons: HashMap<String, usize> = HashMap::new();
    for status in statuses.values() {
        for reason in status.reasons() {
            *reasons.entry(reason.clone()).or_default() += 1;
        }
    }
    format!(
        "0/{num_all_nodes} nodes are available: {}.",
        sorted_histogram(&reasons).join(", ")
    )
}

impl PostFilterPlugin for DefaultPreemption {
    fn post_filter(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
        statuses: &NodeStatuses,
        runner: &dyn FilterRunner,
    ) -> (Status, PostFilterResult) {
        if let Err(message) = eligibility(pod, snapshot) {
            return (
                Status::unschedulable(format!("preemption: {message}")),
                PostFilterResult::default(),
            );
        }
        let all = snapshot.len();
        let mut outcome = NodeStatuses::new();
        let mut potential = Vec::new();
        for node in snapshot.nodes() {
            match statuses.get(&node.name) {
                Some(s) if s.code() == Code::Unschedulable => potential.push(node),
                Some(_) => {
                    outcome.insert(node.name.clone(), Status::unresolvable(NOT_HELPFUL));
                }
                None => {}
            }
        }
        let wanted = (all * MIN_CANDIDATE_NODES_PERCENTAGE / 100)
            .max(MIN_CANDIDATE_NODES_ABSOLUTE)
            .min(all);
        let mut candidates = Vec::new();
        for node in potential {
            if candidates.len() >= wanted {
                break;
            }
            let mut copy = runner.clone_state(state, pod, snapshot);
            match select_victims_on_node(runner, &mut copy, pod, node) {
                Ok(victims) if !victims.is_empty() => candidates.push(Candidate {
                    node: node.name.clone(),
                    victims,
                }),
                Ok(_) => {
                    outcome.insert(node.name.clone(), Status::unresolvable(NO_VICTIMS));
                }
                Err(status) => {
                    outcome.insert(node.name.clone(), status);
                }
            }
        }
        match pick_one(&candidates) {
            Some(best) => (
                Status::success(),
                PostFilterResult {
                    nominated_node: Some(best.node.clone()),
                    victims: best.victims.clone(),
                },
            ),
            None => (
                Status::unschedulable(format!("preemption: {}", summary(all, &outcome))),
                PostFilterResult::default(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::default_framework;
    use crate::plugins::testing::{node, pod_requesting};

    fn place(snapshot: &mut Snapshot, node_name: &str, name: &str, cpu: &str, priority: i32) {
        let mut p = pod_requesting(name, cpu, "");
        p.spec.get_or_insert_default().node_name = Some(node_name.into());
        snapshot.add_pod(PodInfo::new(p, priority));
    }

    fn preempt(snapshot: &Snapshot, pod: &PodInfo) -> (Status, PostFilterResult) {
        let framework = default_framework(None);
        let mut state = CycleState::new();
        let mut algorithm = crate::algorithm::Algorithm::new(None, 1);
        let statuses = match algorithm.schedule(&framework, snapshot, &mut state, pod) {
            Err(crate::algorithm::ScheduleFailure::Fit(_, statuses)) => statuses,
            other => panic!("expected no fit, got {other:?}"),
        };
        DefaultPreemption.post_filter(&state, pod, snapshot, &statuses, &framework)
    }

    #[test]
    fn evicts_the_fewest_lowest_priority_pods() {
        let mut snapshot = Snapshot::new();
        snapshot.upsert_node(node("a").node());
        snapshot.upsert_node(node("b").node());
        // a: two low pods of 2 cpu; b: one medium pod of 3 cpu and a small low one.
        place(&mut snapshot, "a", "a1", "2", 1);
        place(&mut snapshot, "a", "a2", "2", 1);
        place(&mut snapshot, "b", "b1", "3", 5);
        place(&mut snapshot, "b", "b2", "1", 1);
        let pod = PodInfo::new(pod_requesting("p", "2", ""), 10);
        let (status, result) = preempt(&snapshot, &pod);
        assert!(status.is_success(), "{status:?}");
        assert_eq!(result.nominated_node.as_deref(), Some("a"));
        assert_eq!(result.victims.len(), 1);
    }

    #[test]
    fn reports_why_preemption_cannot_help() {
        let mut snapshot = Snapshot::new();
        snapshot.upsert_node(node("a").node());
        snapshot.upsert_node(node("b").unschedulable().node());
        place(&mut snapshot, "a", "a1", "4", 100);
        let pod = PodInfo::new(pod_requesting("p", "2", ""), 10);
        let (status, result) = preempt(&snapshot, &pod);
        assert!(result.nominated_node.is_none());
        assert_eq!(
            status.message(),
            "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming \
             pod, 1 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn preemption_policy_never() {
        let mut snapshot = Snapshot::new();
        snapshot.upsert_node(node("a").node());
        place(&mut snapshot, "a", "a1", "4", 0);
        let mut p = pod_requesting("p", "2", "");
        p.spec.get_or_insert_default().preemption_policy = Some("Never".into());
        let (status, _) = preempt(&snapshot, &PodInfo::new(p, 10));
        assert_eq!(
            status.message(),
            "preemption: not eligible due to preemptionPolicy=Never."
        );
    }
}
