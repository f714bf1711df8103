use serde_json::{json, Value};

use super::*;

fn now() -> Timestamp {
    "2025-01-01T00:10:00Z".parse().unwrap()
}

fn set(spec: Value) -> StatefulSet {
    let mut full = json!({
        "selector": {"matchLabels": {"app": "web"}},
        "serviceName": "web",
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
    });
    for (key, value) in spec.as_object().unwrap() {
        full[key] = value.clone();
    }
    serde_json::from_value(json!({"metadata": {"name": "web", "namespace": "default", "uid": "u", "generation": 2}, "spec": full}))
        .unwrap()
}

fn pod(ordinal: i32, phase: &str, ready: bool, revision: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": format!("web-{ordinal}"), "labels": {REVISION_LABEL: revision}},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"},
                    "lastTransitionTime": "2025-01-01T00:00:00Z"}]},
    }))
    .unwrap()
}

const SAME: Revisions<'static> = Revisions {
    current: "web-a",
    update: "web-a",
};

#[test]
fn ordered_ready_creates_one_pod_at_a_time_and_waits_for_readiness() {
    let set = set(json!({"replicas": 3}));
    let plan = plan_set(&set, &[], &SAME, now());
    assert_eq!(
        plan.actions,
        vec![PodAction::Create {
            ordinal: 0,
            revision: Revision::Update
        }]
    );

    let starting = pod(0, "Pending", false, "web-a");
    assert!(
        plan_set(&set, &[&starting], &SAME, now())
            .actions
            .is_empty(),
        "web-0 is not ready yet"
    );

    let ready = pod(0, "Running", true, "web-a");
    let plan = plan_set(&set, &[&ready], &SAME, now());
    assert_eq!(
        plan.actions,
        vec![PodAction::Create {
            ordinal: 1,
            revision: Revision::Update
        }]
    );
    assert_eq!(plan.status.ready_replicas, Some(1));
    assert_eq!(plan.status.observed_generation, Some(2));
}

#[test]
fn parallel_creates_every_missing_pod_at_once() {
    let set = set(json!({"replicas": 3, "podManagementPolicy": "Parallel"}));
    let plan = plan_set(&set, &[], &SAME, now());
    assert_eq!(plan.actions.len(), 3);
}

#[test]
fn scale_down_deletes_the_highest_ordinal_first() {
    let set = set(json!({"replicas": 1}));
    let pods = [
        pod(0, "Running", true, "web-a"),
        pod(1, "Running", true, "web-a"),
        pod(2, "Running", true, "web-a"),
    ];
    let refs: Vec<&Pod> = pods.iter().collect();
    let plan = plan_set(&set, &refs, &SAME, now());
    assert_eq!(
        plan.actions,
        vec![PodAction::Delete {
            name: "web-2".into(),
            ordinal: 2
        }]
    );
    assert_eq!(plan.condemned, vec![2, 1]);
}

#[test]
fn rolling_update_replaces_from_the_highest_ordinal_down_to_the_partition() {
    let set = set(
        json!({"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}}),
    );
    let revisions = Revisions {
        current: "web-a",
        update: "web-b",
    };
    let pods = [
        pod(0, "Running", true, "web-a"),
        pod(1, "Running", true, "web-a"),
        pod(2, "Running", true, "web-b"),
    ];
    let refs: Vec<&Pod> = pods.iter().collect();
    let plan = plan_set(&set, &refs, &revisions, now());
    assert_eq!(
        plan.actions,
        vec![PodAction::Delete {
            name: "web-1".into(),
            ordinal: 1
        }]
    );
    assert_eq!(plan.status.updated_replicas, Some(1));
    assert_eq!(plan.status.current_revision.as_deref(), Some("web-a"));

    let plan = plan_set(&set, &refs[..2], &revisions, now());
    assert_eq!(
        plan.actions,
        vec![PodAction::Create {
            ordinal: 2,
            revision: Revision::Update
        }]
    );
    let below_partition = plan_set(&set, &[&pods[1], &pods[2]], &revisions, now());
    assert_eq!(
        below_partition.actions,
        vec![PodAction::Create {
            ordinal: 0,
            revision: Revision::Current
        }]
    );
}

#[test]
fn failed_pods_are_replaced_and_on_delete_never_replaces_healthy_pods() {
    let set = set(json!({"replicas": 1, "updateStrategy": {"type": "OnDelete"}}));
    let revisions = Revisions {
        current: "web-a",
        update: "web-b",
    };
    let healthy = pod(0, "Running", true, "web-a");
    assert!(plan_set(&set, &[&healthy], &revisions, now())
        .actions
        .is_empty());
    let failed = pod(0, "Failed", false, "web-a");
    assert_eq!(
        plan_set(&set, &[&failed], &revisions, now()).actions,
        vec![PodAction::Delete {
            name: "web-0".into(),
            ordinal: 0
        }]
    );
}
