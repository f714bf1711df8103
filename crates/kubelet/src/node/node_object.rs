//! The Node object the kubelet registers and the status it reports (pure).

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeStatus,
    NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::conditions::{node_conditions, RuntimeReadiness};
use super::machine::MachineInfo;
use crate::KubeletOptions;

pub const KUBELET_VERSION: &str = "v1.33.0-r8s";

/// What the runtime said about itself in CRI Version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeVersion {
    pub name: String,
    pub version: String,
}

pub fn node_labels(options: &KubeletOptions) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (
            "kubernetes.io/hostname".to_string(),
            options.node_name.clone(),
        ),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
        ("kubernetes.io/arch".to_string(), "amd64".to_string()),
        ("beta.kubernetes.io/os".to_string(), "linux".to_string()),
        ("beta.kubernetes.io/arch".to_string(), "amd64".to_string()),
    ]);
    labels.extend(options.node_labels.clone());
    labels
}

/// The Node to create when none exists.
pub fn new_node(options: &KubeletOptions) -> Node {
    Node {
        metadata: ObjectMeta {
            name: Some(options.node_name.clone()),
            labels: Some(node_labels(options)),
            annotations: Some(BTreeMap::from([(
                "node.alpha.kubernetes.io/ttl".to_string(),
                "0".to_string(),
            )])),
            ..ObjectMeta::default()
        },
        ..Node::default()
    }
}

/// The full status: resources, conditions, addresses, versions.
pub fn node_status(
    options: &KubeletOptions,
    machine: &MachineInfo,
    runtime: &RuntimeVersion,
    readiness: &RuntimeReadiness,
    previous_conditions: &[NodeCondition],
    now: Timestamp,
) -> NodeStatus {
    let resources = BTreeMap::from([
        ("cpu".to_string(), Quantity(machine.cpus.to_string())),
        (
            "memory".to_string(),
            Quantity(format!("{}Ki", machine.memory_bytes / 1024)),
        ),
        (
            "ephemeral-storage".to_string(),
            Quantity(format!("{}Ki", machine.ephemeral_storage_bytes / 1024)),
        ),
        ("pods".to_string(), Quantity(options.max_pods.to_string())),
        ("hugepages-1Gi".to_string(), Quantity("0".to_string())),
        ("hugepages-2Mi".to_string(), Quantity("0".to_string())),
    ]);
    NodeStatus {
        capacity: Some(resources.clone()),
        allocatable: Some(resources),
        conditions: Some(node_conditions(readiness, previous_conditions, now)),
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".to_string(),
                address: options.node_ip.to_string(),
            },
            NodeAddress {
                type_: "Hostname".to_string(),
                address: options.node_name.clone(),
            },
        ]),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint {
                port: i32::from(options.kubelet_port),
            }),
        }),
        node_info: Some(NodeSystemInfo {
            architecture: "amd64".to_string(),
            boot_id: machine.boot_id.clone(),
            container_runtime_version: format!("{}://{}", runtime.name, runtime.version),
            kernel_version: machine.kernel_version.clone(),
            kube_proxy_version: KUBELET_VERSION.to_string(),
            kubelet_version: KUBELET_VERSION.to_string(),
            machine_id: machine.machine_id.clone(),
            operating_system: "linux".to_string(),
            os_image: machine.os_image.clone(),
            system_uuid: machine.system_uuid.clone(),
            ..NodeSystemInfo::default()
        }),
        ..NodeStatus::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> KubeletOptions {
        let mut options = KubeletOptions::new(
            "n1",
            std::path::Path::new("/tmp/x"),
            std::net::IpAddr::from([10, 0, 0, 5]),
        );
        options.node_labels.insert(
            "node-role.kubernetes.io/control-plane".into(),
            "true".into(),
        );
        options
    }

    #[test]
    fn labels_include_defaults_and_extras() {
        let labels = node_labels(&options());
        assert_eq!(labels["kubernetes.io/hostname"], "n1");
        assert_eq!(labels["beta.kubernetes.io/arch"], "amd64");
        assert_eq!(labels["node-role.kubernetes.io/control-plane"], "true");
    }

    #[test]
    fn status_reports_machine_and_runtime() {
        let machine = MachineInfo {
            cpus: 4,
            memory_bytes: 8 << 30,
            ..MachineInfo::default()
        };
        let runtime = RuntimeVersion {
            name: "r8s".into(),
            version: "0.1.0".into(),
        };
        let status = node_status(
            &options(),
            &machine,
            &runtime,
            &RuntimeReadiness::Ready,
            &[],
            Timestamp::UNIX_EPOCH,
        );
        let capacity = status.capacity.unwrap();
        assert_eq!(capacity["cpu"].0, "4");
        assert_eq!(capacity["memory"].0, "8388608Ki");
        assert_eq!(capacity["pods"].0, "110");
        assert_eq!(
            status.node_info.unwrap().container_runtime_version,
            "r8s://0.1.0"
        );
        assert_eq!(status.addresses.unwrap()[0].address, "10.0.0.5");
        assert_eq!(
            status
                .daemon_endpoints
                .unwrap()
                .kubelet_endpoint
                .unwrap()
                .port,
            10250
        );
    }
}
