//! Which pods a scale-down deletes first: upstream's ActivePodsWithRanks ordering.

use std::cmp::Ordering;
use std::collections::HashMap;

use k8s_openapi::api::core::v1::Pod;

use crate::pod_conditions::ready_since;

const DELETION_COST_ANNOTATION: &str = "controller.kubernetes.io/pod-deletion-cost";

/// `count` pods from `pods`, the ones upstream would delete first.
pub fn pods_to_delete<'a>(pods: &[&'a Pod], count: usize) -> Vec<&'a Pod> {
    let related_on_node = pods_per_node(pods);
    let mut ranked: Vec<&Pod> = pods.to_vec();
    ranked.sort_by(|a, b| deletion_order(a, b, &related_on_node));
    ranked.truncate(count);
    ranked
}

fn pods_per_node(pods: &[&Pod]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for pod in pods {
        if let Some(node) = node_name(pod) {
            *counts.entry(node.to_string()).or_default() += 1;
        }
    }
    counts
}

fn node_name(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

/// Less means "delete first".
fn deletion_order(a: &Pod, b: &Pod, related_on_node: &HashMap<String, usize>) -> Ordering {
    // 1. Unassigned before assigned.
    let assigned = |p: &Pod| node_name(p).is_some();
    // 2. Pending before Unknown before Running.
    let phase_rank = |p: &Pod| match p.status.as_ref().and_then(|s| s.phase.as_deref()) {
        Some("Unknown") => 1,
        Some("Running") => 2,
        _ => 0,
    };
    // 3. Not ready before ready.
    let ready = |p: &Pod| ready_since(p).is_some();
    // 4. Lower deletion cost first.
    let cost = |p: &Pod| {
        p.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(DELETION_COST_ANNOTATION))
            .and_then(|c| c.parse::<i32>().ok())
            .unwrap_or(0)
    };
    // 5. More pods of the same owner on its node first (doubled up).
    let rank = |p: &Pod| {
        node_name(p)
            .and_then(|n| related_on_node.get(n))
            .copied()
            .unwrap_or(0)
    };
    assigned(a)
        .cmp(&assigned(b))
        .then_with(|| phase_rank(a).cmp(&phase_rank(b)))
        .then_with(|| ready(a).cmp(&ready(b)))
        .then_with(|| cost(a).cmp(&cost(b)))
        .then_with(|| rank(b).cmp(&rank(a)))
        // 6. Ready more recently first.
        .then_with(|| match (ready_since(a), ready_since(b)) {
            (Some(ta), Some(tb)) => tb.cmp(&ta),
            _ => Ordering::Equal,
        })
        // 7. More restarts first.
        .then_with(|| max_restarts(b).cmp(&max_restarts(a)))
        // 8. Newer first (no creation time first).
        .then_with(|| {
            let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
            match (created(a), created(b)) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(ta), Some(tb)) => tb.cmp(&ta),
            }
        })
}

fn max_restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|statuses| statuses.iter().map(|c| c.restart_count).max().unwrap_or(0))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pod_conditions::test_pods::pod;

    fn names(pods: &[&Pod]) -> Vec<String> {
        pods.iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect()
    }

    #[test]
    fn unscheduled_then_pending_then_not_ready_go_first() {
        let t0 = "2024-01-01T00:00:00Z";
        let ready = pod("ready", "n1", "Running", Some(t0), t0);
        let not_ready = pod("not-ready", "n2", "Running", None, t0);
        let pending = pod("pending", "n3", "Pending", None, t0);
        let unscheduled = pod("unscheduled", "", "Pending", None, t0);
        let all = [&ready, &not_ready, &pending, &unscheduled];
        assert_eq!(
            names(&pods_to_delete(&all, 4)),
            ["unscheduled", "pending", "not-ready", "ready"]
        );
    }

    #[test]
    fn doubled_up_then_newer_pods_go_first_among_ready_ones() {
        let t0 = "2024-01-01T00:00:00Z";
        let old = pod("old", "n1", "Running", Some(t0), t0);
        let newer = pod("newer", "n2", "Running", Some(t0), "2024-01-02T00:00:00Z");
        let doubled_a = pod("doubled-a", "n3", "Running", Some(t0), t0);
        let doubled_b = pod("doubled-b", "n3", "Running", Some(t0), t0);
        let all = [&old, &newer, &doubled_a, &doubled_b];
        let first_two = names(&pods_to_delete(&all, 2));
        assert!(first_two.iter().all(|n| n.starts_with("doubled")));
        assert_eq!(names(&pods_to_delete(&[&old, &newer], 1)), ["newer"]);
    }

    #[test]
    fn recently_ready_and_cheaper_pods_go_first() {
        let t0 = "2024-01-01T00:00:00Z";
        let long_ready = pod("long", "n1", "Running", Some(t0), t0);
        let just_ready = pod("just", "n2", "Running", Some("2024-01-01T01:00:00Z"), t0);
        assert_eq!(
            names(&pods_to_delete(&[&long_ready, &just_ready], 1)),
            ["just"]
        );
        let mut cheap = pod("cheap", "n3", "Running", Some(t0), t0);
        cheap.metadata.annotations =
            Some([(DELETION_COST_ANNOTATION.to_string(), "-5".to_string())].into());
        assert_eq!(
            names(&pods_to_delete(&[&long_ready, &just_ready, &cheap], 1)),
            ["cheap"]
        );
    }
}
