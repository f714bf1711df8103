use serde_json::{json, Value};

use super::*;

fn now() -> Timestamp {
    "2025-01-01T00:10:00Z".parse().unwrap()
}

fn set(strategy: Value) -> DaemonSet {
    serde_json::from_value(json!({
        "metadata": {"name": "agent", "namespace": "default", "uid": "u", "generation": 1},
        "spec": {"selector": {"matchLabels": {"app": "agent"}}, "updateStrategy": strategy,
                 "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}
    }))
    .unwrap()
}

fn node(name: &str) -> Node {
    serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()
}

fn pod(name: &str, node: &str, hash: &str, ready: bool) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {HASH_LABEL: hash}},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"},
                   "lastTransitionTime": "2025-01-01T00:00:00Z"}]},
    }))
    .unwrap()
}

fn spec() -> PodSpec {
    serde_json::from_value(json!({"containers": [{"name": "c", "image": "i"}]})).unwrap()
}

#[test]
fn every_node_without_a_pod_gets_one() {
    let (a, b) = (node("a"), node("b"));
    let existing = pod("agent-1", "a", "h1", true);
    let plan = plan_daemon_set(
        &set(json!({})),
        &spec(),
        &[&a, &b],
        &[&existing],
        "h1",
        now(),
    );
    assert_eq!(plan.create_on, vec!["b".to_string()]);
    assert!(plan.delete.is_empty());
    assert_eq!(plan.status.desired_number_scheduled, 2);
    assert_eq!(plan.status.current_number_scheduled, 1);
    assert_eq!(plan.status.number_ready, 1);
}

#[test]
fn pods_on_vanished_nodes_are_deleted() {
    let a = node("a");
    let stranded = pod("agent-2", "gone", "h1", true);
    let plan = plan_daemon_set(&set(json!({})), &spec(), &[&a], &[&stranded], "h1", now());
    assert_eq!(plan.delete, vec!["agent-2".to_string()]);
}

#[test]
fn rolling_update_replaces_one_node_at_a_time_by_default() {
    let (a, b) = (node("a"), node("b"));
    let pods = [
        pod("agent-a", "a", "old", true),
        pod("agent-b", "b", "old", true),
    ];
    let plan = plan_daemon_set(
        &set(json!({"type": "RollingUpdate"})),
        &spec(),
        &[&a, &b],
        &[&pods[0], &pods[1]],
        "new",
        now(),
    );
    assert_eq!(plan.delete.len(), 1);
    assert_eq!(plan.status.updated_number_scheduled, Some(0));
}

#[test]
fn max_surge_starts_the_new_pod_before_removing_the_old() {
    let a = node("a");
    let strategy =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}});
    let old = pod("agent-old", "a", "old", true);
    let plan = plan_daemon_set(
        &set(strategy.clone()),
        &spec(),
        &[&a],
        &[&old],
        "new",
        now(),
    );
    assert_eq!(plan.create_on, vec!["a".to_string()]);
    assert!(plan.delete.is_empty());
    let new = pod("agent-new", "a", "new", true);
    let plan = plan_daemon_set(&set(strategy), &spec(), &[&a], &[&old, &new], "new", now());
    assert_eq!(plan.delete, vec!["agent-old".to_string()]);
}

#[test]
fn percentages_round_up() {
    assert_eq!(scaled(Some(&IntOrString::String("10%".into())), 5, 1), 1);
    assert_eq!(scaled(Some(&IntOrString::String("50%".into())), 5, 1), 3);
    assert_eq!(scaled(None, 5, 1), 1);
}
