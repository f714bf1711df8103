//! A pod with everything the plugins ask of it computed once.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Toleration};

use super::affinity_term::PodAffinity;
use super::node_selector::{preferred_terms, CompiledTerm, RequiredNodeSelector};
use super::resources::PodRequests;

/// A host port a pod asks for (`hostPort` of a container port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub protocol: String,
    pub ip: String,
    pub port: i32,
}

impl HostPort {
    /// Upstream's `HostPortInfo` conflict rule: same protocol and port, and the same IP or
    /// either one the wildcard.
    pub fn conflicts(&self, other: &HostPort) -> bool {
        self.port == other.port
            && self.protocol == other.protocol
            && (self.ip == other.ip || is_wildcard(&self.ip) || is_wildcard(&other.ip))
    }
}

fn is_wildcard(ip: &str) -> bool {
    ip == "0.0.0.0" || ip == "::"
}

/// The pod as the scheduler sees it.
#[derive(Debug, Clone)]
pub struct PodInfo {
    pub pod: Arc<Pod>,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    pub node_name: Option<String>,
    pub scheduler_name: String,
    pub priority: i32,
    pub requests: PodRequests,
    pub host_ports: Vec<HostPort>,
    pub tolerations: Vec<Toleration>,
    pub required_node: RequiredNodeSelector,
    pub preferred_node: Vec<(i64, CompiledTerm)>,
    pub affinity: PodAffinity,
    pub terminating: bool,
    /// `status.startTime` (or creation) in seconds, for ordering preemption victims.
    pub start_seconds: i64,
}

impl PodInfo {
    pub fn new(pod: Pod, priority: i32) -> PodInfo {
        let spec = pod.spec.clone().unwrap_or_default();
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let host_ports = spec
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .filter(|p| p.host_port.is_some_and(|h| h > 0))
            .map(|p| HostPort {
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
                ip: p
                    .host_ip
                    .clone()
                    .filter(|ip| !ip.is_empty())
                    .unwrap_or_else(|| "0.0.0.0".to_string()),
                port: p.host_port.unwrap_or_default(),
            })
            .collect();
        let start = pod
            .status
            .as_ref()
            .and_then(|s| s.start_time.as_ref())
            .or(pod.metadata.creation_timestamp.as_ref())
            .map(|t| t.0.as_second())
            .unwrap_or_default();
        PodInfo {
            name: pod.metadata.name.clone().unwrap_or_default(),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            node_name: spec.node_name.clone().filter(|n| !n.is_empty()),
            scheduler_name: spec
                .scheduler_name
                .clone()
                .unwrap_or_else(|| "default-scheduler".to_string()),
            priority,
            requests: PodRequests::of(&spec),
            host_ports,
            tolerations: spec.tolerations.clone().unwrap_or_default(),
            required_node: RequiredNodeSelector::of(&spec),
            preferred_node: preferred_terms(&spec),
            affinity: PodAffinity::of(&namespace, &spec),
            terminating: pod.metadata.deletion_timestamp.is_some(),
            start_seconds: start,
            namespace,
            pod: Arc::new(pod),
        }
    }

    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// A copy placed on `node` (the assumed pod).
    pub fn assumed_on(&self, node: &str) -> PodInfo {
        let mut assumed = self.clone();
        assumed.node_name = Some(node.to_string());
        assumed
    }

    pub fn scheduling_gates(&self) -> Vec<String> {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduling_gates.as_ref())
            .map(|g| g.iter().map(|g| g.name.clone()).collect())
            .unwrap_or_default()
    }

    pub fn nominated_node_name(&self) -> Option<&str> {
        self.pod
            .status
            .as_ref()
            .and_then(|s| s.nominated_node_name.as_deref())
            .filter(|n| !n.is_empty())
    }

    /// Whether the pod names a controller owner (upstream applies default spreading then).
    pub fn has_controller(&self) -> bool {
        self.pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .any(|o| o.controller == Some(true))
    }

    pub fn preemption_policy_never(&self) -> bool {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.preemption_policy.as_deref())
            == Some("Never")
    }
}
