//! Which pods the pod garbage collector deletes: terminated pods beyond the threshold (oldest
//! first), pods bound to nodes gone for longer than the quarantine, and terminating pods that
//! were never scheduled. No I/O.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doomed {
    pub namespace: String,
    pub name: String,
    pub why: &'static str,
}

fn doomed(pod: &Pod, why: &'static str) -> Doomed {
    Doomed {
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        name: pod.metadata.name.clone().unwrap_or_default(),
        why,
    }
}

fn is_terminated(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

fn node_name(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()?
        .node_name
        .as_deref()
        .filter(|n| !n.is_empty())
}

/// Updates `missing_since` (when each absent node was first noticed missing) and plans.
pub fn plan_gc(
    pods: &[&Pod],
    nodes: &BTreeSet<String>,
    missing_since: &mut HashMap<String, Timestamp>,
    now: Timestamp,
    threshold: usize,
    quarantine: Duration,
) -> Vec<Doomed> {
    let mut plan = Vec::new();
    let mut terminated: Vec<&Pod> = pods
        .iter()
        .copied()
        .filter(|p| is_terminated(p) && p.metadata.deletion_timestamp.is_none())
        .collect();
    if threshold > 0 && terminated.len() > threshold {
        terminated.sort_by_key(|p| p.metadata.creation_timestamp.clone());
        let excess = terminated.len() - threshold;
        plan.extend(
            terminated[..excess]
                .iter()
                .map(|p| doomed(p, "terminated pods over the threshold")),
        );
    }

    missing_since.retain(|node, _| !nodes.contains(node));
    for pod in pods {
        if plan.iter().any(|d| {
            Some(d.name.as_str()) == pod.metadata.name.as_deref()
                && Some(d.namespace.as_str()) == pod.metadata.namespace.as_deref()
        }) {
            continue;
        }
        match node_name(pod) {
            Some(node) if !nodes.contains(node) => {
                let since = *missing_since.entry(node.to_string()).or_insert(now);
                let waited =
                    Duration::try_from(now.duration_since(since)).unwrap_or(Duration::ZERO);
                if waited >= quarantine {
                    plan.push(doomed(pod, "bound to a node that no longer exists"));
                }
            }
            None if pod.metadata.deletion_timestamp.is_some() => {
                plan.push(doomed(pod, "terminating and never scheduled"))
            }
            _ => {}
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, node: Option<&str>, phase: &str, created: &str, deleting: bool) -> Pod {
        let mut value = json!({"metadata": {"name": name, "namespace": "ns", "creationTimestamp": created},
                               "spec": {"containers": [], "nodeName": node}, "status": {"phase": phase}});
        if deleting {
            value["metadata"]["deletionTimestamp"] = json!("2025-01-01T00:00:00Z");
        }
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn terminated_pods_over_the_threshold_go_oldest_first() {
        let pods = [
            pod("new", Some("n"), "Succeeded", "2025-01-01T00:02:00Z", false),
            pod("old", Some("n"), "Failed", "2025-01-01T00:01:00Z", false),
            pod(
                "running",
                Some("n"),
                "Running",
                "2025-01-01T00:00:00Z",
                false,
            ),
        ];
        let refs: Vec<&Pod> = pods.iter().collect();
        let nodes: BTreeSet<String> = ["n".to_string()].into();
        let plan = plan_gc(
            &refs,
            &nodes,
            &mut HashMap::new(),
            Timestamp::UNIX_EPOCH,
            1,
            Duration::ZERO,
        );
        assert_eq!(
            plan.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            vec!["old"]
        );
    }

    #[test]
    fn orphans_wait_out_the_quarantine_and_unscheduled_terminating_pods_go_at_once() {
        let pods = [
            pod(
                "orphan",
                Some("gone"),
                "Running",
                "2025-01-01T00:00:00Z",
                false,
            ),
            pod("stuck", None, "Pending", "2025-01-01T00:00:00Z", true),
        ];
        let refs: Vec<&Pod> = pods.iter().collect();
        let nodes = BTreeSet::new();
        let mut missing = HashMap::new();
        let start: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
        let quarantine = Duration::from_secs(40);
        let first = plan_gc(&refs, &nodes, &mut missing, start, 100, quarantine);
        assert_eq!(
            first.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            vec!["stuck"]
        );
        let later = plan_gc(
            &refs,
            &nodes,
            &mut missing,
            start + jiff::SignedDuration::from_secs(41),
            100,
            quarantine,
        );
        assert!(later.iter().any(|d| d.name == "orphan"));
    }
}
