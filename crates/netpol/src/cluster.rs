//! The slice of the cluster's objects that policy decisions need.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;

use crate::rules::Protocol;

/// The label every namespace carries with its own name (set by the API server upstream; added
/// here too so that selectors on it work whoever created the namespace).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Pods, namespaces and policies as seen at one moment.
#[derive(Debug, Clone, Default)]
pub struct ClusterState {
    /// Pods that have an address of their own (not host-network, not finished).
    pub pods: Vec<PodInfo>,
    /// Namespace name → its labels.
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    pub policies: Vec<NetworkPolicy>,
}

/// A pod, reduced to what NetworkPolicy looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub ips: Vec<IpAddr>,
    pub node_name: Option<String>,
    pub named_ports: Vec<NamedPort>,
}

/// A container port with a name, which policies may refer to by that name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPort {
    pub name: String,
    pub protocol: Protocol,
    pub port: u16,
}

impl PodInfo {
    /// The pod as a policy peer or target; `None` for pods policies cannot apply to: no address
    /// yet, the node's address (host network), or finished (their address may be reused).
    pub fn from_pod(pod: &Pod) -> Option<Self> {
        let spec = pod.spec.as_ref()?;
        if spec.host_network == Some(true) {
            return None;
        }
        let status = pod.status.as_ref()?;
        if matches!(status.phase.as_deref(), Some("Succeeded" | "Failed")) {
            return None;
        }
        let mut ips: Vec<IpAddr> = status
            .pod_ips
            .iter()
            .flatten()
            .filter_map(|ip| ip.ip.parse().ok())
            .collect();
        if ips.is_empty() {
            ips.extend(
                status
                    .pod_ip
                    .as_deref()
                    .and_then(|ip| ip.parse::<IpAddr>().ok()),
            );
        }
        if ips.is_empty() {
            return None;
        }
        let named_ports = spec
            .containers
            .iter()
            .flat_map(|container| container.ports.iter().flatten())
            .filter_map(|port| {
                Some(NamedPort {
                    name: port.name.clone()?,
                    protocol: Protocol::from_api(port.protocol.as_deref())?,
                    port: u16::try_from(port.container_port).ok()?,
                })
            })
            .collect();
        Some(Self {
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            ips,
            node_name: spec.node_name.clone(),
            named_ports,
        })
    }

    /// The number of the container port called `name` for `protocol`, if the pod declares one.
    pub fn named_port(&self, name: &str, protocol: Protocol) -> Option<u16> {
        self.named_ports
            .iter()
            .find(|port| port.name == name && port.protocol == protocol)
            .map(|port| port.port)
    }
}

impl ClusterState {
    /// Collects the state from whole objects.
    pub fn from_objects<'a>(
        pods: impl IntoIterator<Item = &'a Pod>,
        namespaces: impl IntoIterator<Item = &'a Namespace>,
        policies: impl IntoIterator<Item = &'a NetworkPolicy>,
    ) -> Self {
        let mut pods: Vec<PodInfo> = pods.into_iter().filter_map(PodInfo::from_pod).collect();
        pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        let namespaces = namespaces
            .into_iter()
            .filter_map(|namespace| {
                let name = namespace.metadata.name.clone()?;
                let mut labels = namespace.metadata.labels.clone().unwrap_or_default();
                labels.insert(NAMESPACE_NAME_LABEL.to_string(), name.clone());
                Some((name, labels))
            })
            .collect();
        let mut policies: Vec<NetworkPolicy> = policies.into_iter().cloned().collect();
        policies.sort_by(|a, b| {
            (&a.metadata.namespace, &a.metadata.name)
                .cmp(&(&b.metadata.namespace, &b.metadata.name))
        });
        Self {
            pods,
            namespaces,
            policies,
        }
    }

    /// The labels of namespace `name`; one not (yet) seen has only its name label.
    pub fn namespace_labels(&self, name: &str) -> BTreeMap<String, String> {
        self.namespaces.get(name).cloned().unwrap_or_else(|| {
            BTreeMap::from([(NAMESPACE_NAME_LABEL.to_string(), name.to_string())])
        })
    }
}
