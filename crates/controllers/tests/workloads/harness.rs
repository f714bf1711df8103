//! Helpers for tests that start only the controllers they exercise (the API server comes from
//! `server`). Each test plays the scheduler and kubelet itself: it creates Nodes, binds pods and
//! writes their status.

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;

pub use crate::server::{eventually, ApiServer, WAIT};

pub async fn create_node(client: &kube::Client, name: &str, labels: serde_json::Value) -> Node {
    let nodes: Api<Node> = Api::all(client.clone());
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {},
    }))
    .unwrap();
    let created = nodes.create(&PostParams::default(), &node).await.unwrap();
    let status = json!({"status": {
        "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "lastHeartbeatTime": jiff::Timestamp::now().to_string(),
                        "lastTransitionTime": jiff::Timestamp::now().to_string()}],
    }});
    nodes
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap_or(created)
}

/// What a kubelet would report: a phase, and Ready when running.
pub async fn set_pod_phase(client: &kube::Client, namespace: &str, name: &str, phase: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let now = jiff::Timestamp::now().to_string();
    let ready = if phase == "Running" { "True" } else { "False" };
    let exit_code = if phase == "Failed" { 1 } else { 0 };
    let state = if phase == "Running" {
        json!({"running": {"startedAt": now}})
    } else {
        json!({"terminated": {"exitCode": exit_code, "startedAt": now, "finishedAt": now}})
    };
    let status = json!({"status": {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": ready, "lastTransitionTime": now}],
        "containerStatuses": [{"name": "main", "image": "busybox", "imageID": "", "ready": ready == "True",
                               "restartCount": 0, "state": state}],
    }});
    pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
}

pub fn pod_template(labels: serde_json::Value) -> serde_json::Value {
    json!({
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "main", "image": "busybox"}], "restartPolicy": "Never"}
    })
}
