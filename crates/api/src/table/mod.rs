//! Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): for every
//! built-in kind, upstream's column definitions and the cells of one object. The server wraps
//! them into a `meta.k8s.io/v1` Table (`columnDefinitions`, `rows[{cells, object}]`).
//!
//! Cells always cover every column, the wide (priority 1) ones included, as upstream's server
//! prints them; kubectl drops priority 1 columns unless asked for `-o wide`.

mod access;
mod cluster;
mod column;
mod config;
mod duration;
mod events;
mod fields;
mod networking;
mod nodes;
mod pods;
mod printer;
mod scaling;
mod storage;
mod workloads;

use jiff::Timestamp;
use serde_json::{json, Value};

pub use column::Column;
pub use duration::human_duration;

use crate::catalog::ResourceInfo;
use printer::Printer;

/// Kinds without a printer of their own get upstream's default: the name and the creation time.
const DEFAULT: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column {
            name: "Created At",
            column_type: "date",
            format: "",
            description: "Time the object was created (its metadata.creationTimestamp).",
            priority: 0,
        },
    ],
    cells: default_cells,
};

fn default_cells(object: &Value, _now: Timestamp) -> Vec<Value> {
    let created = duration::parse_time(
        object
            .pointer("/metadata/creationTimestamp")
            .and_then(Value::as_str),
    )
    .map_or_else(
        || "0001-01-01T00:00:00Z".to_string(),
        |t| Timestamp::from_second(t.as_second()).map_or_else(|_| t.to_string(), |s| s.to_string()),
    );
    vec![json!(fields::name(object)), json!(created)]
}

fn printer_for(info: &ResourceInfo) -> &'static Printer {
    match (info.group, info.kind) {
        ("", "Pod") => &pods::POD,
        ("", "PodTemplate") => &pods::POD_TEMPLATE,
        ("", "ReplicationController") => &workloads::REPLICATION_CONTROLLER,
        ("", "Service") => &networking::SERVICE,
        ("", "Endpoints") => &networking::ENDPOINTS,
        ("", "Node") => &nodes::NODE,
        ("", "Namespace") => &nodes::NAMESPACE,
        ("", "ComponentStatus") => &nodes::COMPONENT_STATUS,
        ("", "Event") => &events::CORE_EVENT,
        ("", "ConfigMap") => &config::CONFIG_MAP,
        ("", "Secret") => &config::SECRET,
        ("", "ServiceAccount") => &config::SERVICE_ACCOUNT,
        ("", "ResourceQuota") => &config::RESOURCE_QUOTA,
        ("", "PersistentVolume") => &storage::PERSISTENT_VOLUME,
        ("", "PersistentVolumeClaim") => &storage::PERSISTENT_VOLUME_CLAIM,
        ("apps", "Deployment") => &workloads::DEPLOYMENT,
        ("apps", "ReplicaSet") => &workloads::REPLICA_SET,
        ("apps", "StatefulSet") => &workloads::STATEFUL_SET,
        ("apps", "DaemonSet") => &workloads::DAEMON_SET,
        ("apps", "ControllerRevision") => &workloads::CONTROLLER_REVISION,
        ("batch", "Job") => &workloads::JOB,
        ("batch", "CronJob") => &workloads::CRON_JOB,
        ("autoscaling", "HorizontalPodAutoscaler") => &scaling::HORIZONTAL_POD_AUTOSCALER,
        ("policy", "PodDisruptionBudget") => &scaling::POD_DISRUPTION_BUDGET,
        ("networking.k8s.io", "Ingress") => &networking::INGRESS,
        ("networking.k8s.io", "IngressClass") => &networking::INGRESS_CLASS,
        ("networking.k8s.io", "NetworkPolicy") => &networking::NETWORK_POLICY,
        ("networking.k8s.io", "ServiceCIDR") => &networking::SERVICE_CIDR,
        ("networking.k8s.io", "IPAddress") => &networking::IP_ADDRESS,
        ("discovery.k8s.io", "EndpointSlice") => &networking::ENDPOINT_SLICE,
        ("events.k8s.io", "Event") => &events::EVENTS_API_EVENT,
        ("coordination.k8s.io", "Lease") => &nodes::LEASE,
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            &access::ROLE_BINDING
        }
        ("certificates.k8s.io", "CertificateSigningRequest") => {
            &access::CERTIFICATE_SIGNING_REQUEST
        }
        ("storage.k8s.io", "StorageClass") => &storage::STORAGE_CLASS,
        ("storage.k8s.io", "VolumeAttachment") => &storage::VOLUME_ATTACHMENT,
        ("storage.k8s.io", "CSIDriver") => &storage::CSI_DRIVER,
        ("storage.k8s.io", "CSINode") => &storage::CSI_NODE,
        ("storage.k8s.io", "CSIStorageCapacity") => &storage::CSI_STORAGE_CAPACITY,
        ("scheduling.k8s.io", "PriorityClass") => &cluster::PRIORITY_CLASS,
        ("node.k8s.io", "RuntimeClass") => &cluster::RUNTIME_CLASS,
        (
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration",
        ) => &cluster::WEBHOOK_CONFIGURATION,
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => {
            &cluster::VALIDATING_ADMISSION_POLICY
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => {
            &cluster::VALIDATING_ADMISSION_POLICY_BINDING
        }
        ("flowcontrol.apiserver.k8s.io", "FlowSchema") => &cluster::FLOW_SCHEMA,
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration") => {
            &cluster::PRIORITY_LEVEL_CONFIGURATION
        }
        ("apiregistration.k8s.io", "APIService") => &cluster::API_SERVICE,
        _ => &DEFAULT,
    }
}

/// The column definitions of `info`'s kind, wide ones included (priority 1).
pub fn columns(info: &ResourceInfo) -> &'static [Column] {
    printer_for(info).columns
}

/// Whether `info`'s kind is printed with the default Name / Created At columns (roles,
/// cluster roles, limit ranges, CRDs, custom resources without printer columns...).
pub fn uses_default_columns(info: &ResourceInfo) -> bool {
    std::ptr::eq(printer_for(info), &DEFAULT)
}

/// The default columns (Name, Created At), for kinds the catalog does not know.
pub fn default_columns() -> &'static [Column] {
    DEFAULT.columns
}

/// The cells of one object with the default columns.
pub fn default_row_cells(object: &Value) -> Vec<Value> {
    default_cells(object, Timestamp::UNIX_EPOCH)
}

/// One row's cells for `object` of `info`'s kind, one per column of [`columns`]; ages are
/// measured up to `now`.
pub fn row_cells(info: &ResourceInfo, object: &Value, now: Timestamp) -> Vec<Value> {
    (printer_for(info).cells)(object, now)
}

/// The `columnDefinitions` array of a Table for `info`'s kind.
pub fn column_definitions(info: &ResourceInfo) -> Value {
    Value::Array(columns(info).iter().map(Column::to_definition).collect())
}

#[cfg(test)]
mod tests;
