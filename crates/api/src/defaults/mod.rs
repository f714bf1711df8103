//! Defaulting as upstream's `SetDefaults_*` of each group-version: the values the API server fills
//! in when a client leaves a field out. Applied to every object written, before validation.

mod apps;
mod autoscaling;
mod batch;
mod core;
mod networking;
mod pod;
mod rbac;
mod storage;

use serde_json::{Map, Value};

pub use batch::generate_job_selector;
pub use pod::{default_pod_spec, default_pod_template};

/// Fills in the defaults of an object of `group`/`kind` (core group: `""`).
pub fn apply_defaults(group: &str, kind: &str, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    match (group, kind) {
        ("", "Pod") => pod::default_pod(obj),
        ("", "PodTemplate") => default_pod_template(&mut obj["template"]),
        ("", "ReplicationController") => core::default_replication_controller(obj),
        ("", "Service") => core::default_service(obj),
        ("", "Secret") => core::default_secret(obj),
        ("", "Namespace") => core::default_namespace(obj),
        ("", "Node") => core::default_node(obj),
        ("", "PersistentVolume") => core::default_persistent_volume(obj),
        ("", "PersistentVolumeClaim") => core::default_persistent_volume_claim(obj),
        ("", "Endpoints") => core::default_endpoints(obj),
        ("apps", "Deployment") => apps::default_deployment(obj),
        ("apps", "ReplicaSet") => apps::default_replica_set(obj),
        ("apps", "StatefulSet") => apps::default_stateful_set(obj),
        ("apps", "DaemonSet") => apps::default_daemon_set(obj),
        ("batch", "Job") => batch::default_job(obj),
        ("batch", "CronJob") => batch::default_cron_job(obj),
        ("autoscaling", "HorizontalPodAutoscaler") => {
            autoscaling::default_horizontal_pod_autoscaler(obj)
        }
        ("networking.k8s.io", "NetworkPolicy") => networking::default_network_policy(obj),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            rbac::default_role_binding(obj)
        }
        ("storage.k8s.io", "StorageClass") => storage::default_storage_class(obj),
        ("storage.k8s.io", "CSIDriver") => storage::default_csi_driver(obj),
        ("scheduling.k8s.io", "PriorityClass") => {
            fill(obj, "preemptionPolicy", "PreemptLowerPriority".into())
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            storage::default_custom_resource_definition(obj)
        }
        _ => {}
    }
}

/// Sets `obj[key]` when it is absent, null or "" (and `obj` is an object), as upstream
/// defaults a nil pointer or an empty string.
fn fill(obj: &mut Value, key: &str, value: Value) {
    if let Some(fields) = obj.as_object_mut() {
        let slot = fields.entry(key.to_string()).or_insert(Value::Null);
        if slot.is_null() || slot.as_str() == Some("") {
            *slot = value;
        }
    }
}

/// `obj[key]`, made an empty object when absent or null; `None` when `obj` is no object.
fn object_at<'a>(obj: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    fill(obj, key, Value::Object(Map::new()));
    obj.get_mut(key).filter(|v| v.is_object())
}

/// The items of the array at `obj[key]` (none when absent).
fn items_at<'a>(obj: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
    obj.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

/// Whether `obj[key]` is absent, null, or an empty string.
fn is_unset(obj: &Value, key: &str) -> bool {
    match obj.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}
