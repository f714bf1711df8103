//! Per-kind behaviour of the generic store, as upstream's REST strategies: what the server resets
//! on create, what an update of the main resource or of `/status` may change, and which kinds
//! track `metadata.generation`.

use api::ResourceInfo;
use serde_json::{json, Map, Value};

use super::certificate_signing_requests::is_certificate_signing_request;

/// Which part of an object a write addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteTarget {
    /// The object itself: `.status` is ignored when the kind has a status subresource.
    Main,
    /// `/status`: only `.status` changes.
    Status,
    /// `namespaces/<name>/finalize`: only `spec.finalizers` changes.
    Finalize,
    /// `certificatesigningrequests/<name>/approval`: only the approval conditions change.
    Approval,
}

/// Kinds whose spec changes bump `metadata.generation`.
pub fn uses_generation(info: &ResourceInfo) -> bool {
    matches!(
        info.group,
        "apps"
            | "batch"
            | "policy"
            | "autoscaling"
            | "apiextensions.k8s.io"
            | "networking.k8s.io"
            | "flowcontrol.apiserver.k8s.io"
            | "admissionregistration.k8s.io"
    ) || (info.group.is_empty() && info.kind == "ReplicationController")
}

/// Upstream's pod QoS class from the containers' requests and limits.
fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|f| spec.get(*f).and_then(Value::as_array))
        .flatten()
        .collect();
    let mut any_set = false;
    let mut guaranteed = true;
    for container in &containers {
        let resources = container.get("resources");
        let requests = resources
            .and_then(|r| r.get("requests"))
            .and_then(Value::as_object);
        let limits = resources
            .and_then(|r| r.get("limits"))
            .and_then(Value::as_object);
        if requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty()) {
            any_set = true;
        }
        for resource in ["cpu", "memory"] {
            let limit = limits.and_then(|l| l.get(resource));
            let request = requests.and_then(|r| r.get(resource)).or(limit);
            if limit.is_none() || request != limit {
                guaranteed = false;
            }
        }
    }
    if !any_set {
        "BestEffort"
    } else if guaranteed && !containers.is_empty() {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// Reset what a client may not set on create.
pub fn prepare_for_create(info: &ResourceInfo, object: &mut Value) {
    let Some(fields) = object.as_object_mut() else {
        return;
    };
    match (info.group, info.kind) {
        ("", "Pod") => {
            let qos = fields.get("spec").map(qos_class).unwrap_or("BestEffort");
            fields.insert(
                "status".into(),
                json!({"phase": "Pending", "qosClass": qos}),
            );
        }
        ("", "Namespace") => {
            fields.insert("status".into(), json!({"phase": "Active"}));
            let spec = fields
                .entry("spec")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(spec) = spec.as_object_mut() {
                spec.insert("finalizers".into(), json!(["kubernetes"]));
            }
        }
        ("", "PersistentVolume" | "PersistentVolumeClaim") => {
            fields.insert("status".into(), json!({"phase": "Pending"}));
        }
        ("", "Node") => {}
        ("batch", "Job") => {
            fields.insert("status".into(), json!({}));
            api::defaults::generate_job_selector(object);
        }
        _ if info.has_status_subresource() => {
            fields.insert("status".into(), json!({}));
        }
        _ => {}
    }
}

/// Shape `new` as this write may change `old`.
pub fn prepare_for_update(info: &ResourceInfo, target: WriteTarget, new: &mut Value, old: &Value) {
    if is_certificate_signing_request(info.group, info.kind) {
        super::certificate_signing_requests::prepare_for_update(target, new, old);
    }
    match target {
        WriteTarget::Main => {
            if info.has_status_subresource() {
                if let Some(fields) = new.as_object_mut() {
                    match old.get("status") {
                        Some(status) => fields.insert("status".into(), status.clone()),
                        None => fields.remove("status"),
                    };
                }
            }
            if info.group.is_empty() && info.kind == "Service" {
                super::service_type_change::drop_type_dependent_fields(new, old);
            }
            if info.kind == "Namespace" {
                // Namespace finalizers change only through /finalize.
                let old_finalizers = old.get("spec").and_then(|s| s.get("finalizers")).cloned();
                if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
                    match old_finalizers {
                        Some(f) => spec.insert("finalizers".into(), f),
                        None => spec.remove("finalizers"),
                    };
                }
            }
        }
        WriteTarget::Status => {
            let status = new.get("status").cloned();
            let managed = new
                .get("metadata")
                .and_then(|m| m.get("managedFields"))
                .cloned();
            *new = old.clone();
            if let Some(fields) = new.as_object_mut() {
                match status {
                    Some(status) => fields.insert("status".into(), status),
                    None => fields.remove("status"),
                };
            }
            if let (Some(managed), Some(meta)) = (
                managed,
                new.get_mut("metadata").and_then(Value::as_object_mut),
            ) {
                meta.insert("managedFields".into(), managed);
            }
        }
        WriteTarget::Approval => {}
        WriteTarget::Finalize => {
            let finalizers = new.get("spec").and_then(|s| s.get("finalizers")).cloned();
            *new = old.clone();
            if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
                match finalizers {
                    Some(f) => spec.insert("finalizers".into(), f),
                    None => spec.remove("finalizers"),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(group: &str, version: &str, plural: &str) -> &'static ResourceInfo {
        api::catalog::find(group, version, plural).expect("served resource")
    }

    #[test]
    fn status_is_ignored_on_main_updates() {
        let deployments = info("apps", "v1", "deployments");
        let old = json!({"spec": {"replicas": 1}, "status": {"replicas": 1}});
        let mut new = json!({"spec": {"replicas": 2}, "status": {"replicas": 9}});
        prepare_for_update(deployments, WriteTarget::Main, &mut new, &old);
        assert_eq!(new["status"]["replicas"], 1);
        assert_eq!(new["spec"]["replicas"], 2);
        let mut status_write = json!({"spec": {"replicas": 5}, "status": {"replicas": 3}});
        prepare_for_update(deployments, WriteTarget::Status, &mut status_write, &old);
        assert_eq!(status_write["spec"]["replicas"], 1);
        assert_eq!(status_write["status"]["replicas"], 3);
    }

    #[test]
    fn pods_start_pending_with_qos() {
        let pods = info("", "v1", "pods");
        let mut pod = json!({"spec": {"containers": [{"name": "a", "image": "x",
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}, "status": {"phase": "Running"}});
        prepare_for_create(pods, &mut pod);
        assert_eq!(
            pod["status"],
            json!({"phase": "Pending", "qosClass": "Guaranteed"})
        );
    }
}
