//! The taints a node's conditions call for (upstream's taint-nodes-by-condition and the
//! NoExecute taints of taint-based eviction), merged into the node's own taints.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

const NOT_READY: &str = "node.kubernetes.io/not-ready";
const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// Every taint key this controller manages; others are left alone.
const MANAGED: [&str; 7] = [
    NOT_READY,
    UNREACHABLE,
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/network-unavailable",
    "node.kubernetes.io/unschedulable",
];

fn condition_status<'a>(node: &'a Node, type_: &str) -> Option<&'a str> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.status.as_str())
}

fn wanted_taints(node: &Node) -> Vec<(&'static str, &'static str)> {
    let mut wanted = Vec::new();
    match condition_status(node, "Ready") {
        Some("False") => wanted.extend([(NOT_READY, "NoExecute"), (NOT_READY, "NoSchedule")]),
        Some("Unknown") => wanted.extend([(UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")]),
        _ => {}
    }
    for (type_, key) in [
        ("MemoryPressure", "node.kubernetes.io/memory-pressure"),
        ("DiskPressure", "node.kubernetes.io/disk-pressure"),
        ("PIDPressure", "node.kubernetes.io/pid-pressure"),
        (
            "NetworkUnavailable",
            "node.kubernetes.io/network-unavailable",
        ),
    ] {
        if condition_status(node, type_) == Some("True") {
            wanted.push((key, "NoSchedule"));
        }
    }
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        wanted.push(("node.kubernetes.io/unschedulable", "NoSchedule"));
    }
    wanted
}

/// The node's taints with managed ones brought in line with its conditions; None if unchanged.
pub fn reconciled_taints(node: &Node, now: Timestamp) -> Option<Vec<Taint>> {
    let current = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let wanted = wanted_taints(node);
    let is_wanted = |t: &Taint| {
        wanted
            .iter()
            .any(|(key, effect)| t.key == *key && t.effect == *effect)
    };
    let mut taints: Vec<Taint> = current
        .iter()
        .filter(|t| !MANAGED.contains(&t.key.as_str()) || is_wanted(t))
        .cloned()
        .collect();
    for (key, effect) in &wanted {
        if !taints.iter().any(|t| t.key == *key && t.effect == *effect) {
            taints.push(Taint {
                key: (*key).into(),
                effect: (*effect).into(),
                value: None,
                time_added: (*effect == "NoExecute").then_some(Time(now)),
            });
        }
    }
    (taints != current).then_some(taints)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(ready: &str, taints: serde_json::Value) -> Node {
        serde_json::from_value(
            json!({"metadata": {"name": "n"}, "spec": {"taints": taints},
            "status": {"conditions": [{"type": "Ready", "status": ready}]}}),
        )
        .unwrap()
    }

    #[test]
    fn unknown_nodes_become_unreachable_and_recovered_ones_lose_the_taints() {
        let now = Timestamp::UNIX_EPOCH;
        let taints = reconciled_taints(
            &node("Unknown", json!([{"key": "own", "effect": "NoSchedule"}])),
            now,
        )
        .unwrap();
        let keys: Vec<(&str, &str)> = taints
            .iter()
            .map(|t| (t.key.as_str(), t.effect.as_str()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("own", "NoSchedule"),
                (UNREACHABLE, "NoExecute"),
                (UNREACHABLE, "NoSchedule")
            ]
        );
        let recovered = node("True", serde_json::to_value(&taints).unwrap());
        assert_eq!(reconciled_taints(&recovered, now).unwrap().len(), 1);
        assert_eq!(reconciled_taints(&node("True", json!([])), now), None);
        let not_ready = reconciled_taints(&node("False", json!([])), now).unwrap();
        assert!(not_ready.iter().all(|t| t.key == NOT_READY));
    }
}
