//! Cluster members and housekeeping: nodes, namespaces, component statuses, leases.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::{json, Value};

use super::fields::{age, flag, list, name, text, text_or};
use super::printer::Printer;
use super::Column;

pub(crate) const NODE: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Status", "The status of the node"),
        Column::text("Roles", "The roles of the node"),
        Column::age(),
        Column::text("Version", "Kubelet version reported by the node."),
        Column::text("Internal-IP", "The node's first internal IP address.").wide(),
        Column::text("External-IP", "The node's first external IP address.").wide(),
        Column::text("OS-Image", "OS image reported by the node.").wide(),
        Column::text("Kernel-Version", "Kernel version reported by the node.").wide(),
        Column::text(
            "Container-Runtime",
            "Container runtime version reported by the node.",
        )
        .wide(),
    ],
    cells: node_cells,
};

fn node_status(node: &Value) -> String {
    let ready = list(node, "/status/conditions")
        .iter()
        .rev()
        .find(|c| text(c, "/type") == "Ready");
    let mut status = vec![match ready {
        Some(c) if text(c, "/status") == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if flag(node, "/spec/unschedulable") == Some(true) {
        status.push("SchedulingDisabled");
    }
    status.join(",")
}

/// Roles from `node-role.kubernetes.io/<role>` label keys and the `kubernetes.io/role` label.
fn node_roles(node: &Value) -> String {
    let roles: BTreeSet<&str> = node
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(key, value)| {
                    if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
                        (!role.is_empty()).then_some(role)
                    } else if key == "kubernetes.io/role" {
                        value.as_str().filter(|v| !v.is_empty())
                    } else {
                        None
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    }
}

fn node_address(node: &Value, address_type: &str) -> String {
    list(node, "/status/addresses")
        .iter()
        .find(|a| text(a, "/type") == address_type)
        .map_or_else(|| "<none>".to_string(), |a| text(a, "/address").to_string())
}

fn node_cells(node: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(node)),
        json!(node_status(node)),
        json!(node_roles(node)),
        json!(age(node, now)),
        json!(text(node, "/status/nodeInfo/kubeletVersion")),
        json!(node_address(node, "InternalIP")),
        json!(node_address(node, "ExternalIP")),
        json!(text_or(node, "/status/nodeInfo/osImage", "<unknown>")),
        json!(text_or(node, "/status/nodeInfo/kernelVersion", "<unknown>")),
        json!(text_or(
            node,
            "/status/nodeInfo/containerRuntimeVersion",
            "<unknown>"
        )),
    ]
}

pub(crate) const NAMESPACE: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Status", "The status of the namespace"),
        Column::age(),
    ],
    cells: namespace_cells,
};

fn namespace_cells(namespace: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(namespace)),
        json!(text(namespace, "/status/phase")),
        json!(age(namespace, now)),
    ]
}

pub(crate) const COMPONENT_STATUS: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Status", "Status of the component conditions"),
        Column::text("Message", "Message of the component conditions"),
        Column::text("Error", "Error of the component conditions"),
    ],
    cells: component_status_cells,
};

fn component_status_cells(component: &Value, _now: Timestamp) -> Vec<Value> {
    let healthy = list(component, "/conditions")
        .iter()
        .find(|c| text(c, "/type") == "Healthy");
    let (status, message, error) = match healthy {
        Some(c) => (
            if text(c, "/status") == "True" {
                "Healthy"
            } else {
                "Unhealthy"
            },
            text(c, "/message"),
            text(c, "/error"),
        ),
        None => ("Unknown", "", ""),
    };
    vec![
        json!(name(component)),
        json!(status),
        json!(message),
        json!(error),
    ]
}

pub(crate) const LEASE: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Holder", "The identity of the current holder of the lease."),
        Column::age(),
    ],
    cells: lease_cells,
};

fn lease_cells(lease: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(lease)),
        json!(text(lease, "/spec/holderIdentity")),
        json!(age(lease, now)),
    ]
}
