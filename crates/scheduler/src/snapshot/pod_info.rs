//! A pod with everything the plugins ask of it computed once.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, PodSpec, PodStatus, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

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

/// Name, namespace, uid, owners, deletion, node, priority and phase of `pod`.
fn identity_of(pod: &Pod) -> Pod {
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    Pod {
        metadata: ObjectMeta {
            name: meta.name.clone(),
            namespace: meta.namespace.clone(),
            uid: meta.uid.clone(),
            owner_references: meta.owner_references.clone(),
            creation_timestamp: meta.creation_timestamp.clone(),
            deletion_timestamp: meta.deletion_timestamp.clone(),
            ..ObjectMeta::default()
        },
        spec: spec.map(|spec| PodSpec {
            node_name: spec.node_name.clone(),
            priority: spec.priority,
            scheduler_name: spec.scheduler_name.clone(),
            ..PodSpec::default()
        }),
        status: status.map(|status| PodStatus {
            phase: status.phase.clone(),
            start_time: status.start_time.clone(),
            nominated_node_name: status.nominated_node_name.clone(),
            ..PodStatus::default()
        }),
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
        // Borrowed, not copied: only the parts kept below are cloned out of it.
        let no_spec;
        let spec = match &pod.spec {
            Some(spec) => spec,
            None => {
                no_spec = PodSpec::default();
                &no_spec
            }
        };
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
            requests: PodRequests::of(spec),
            host_ports,
            tolerations: spec.tolerations.clone().unwrap_or_default(),
            required_node: RequiredNodeSelector::of(spec),
            preferred_node: preferred_terms(spec),
            affinity: PodAffinity::of(&namespace, spec),
            terminating: pod.metadata.deletion_timestamp.is_some(),
            start_seconds: start,
            namespace,
            pod: Arc::new(pod),
        }
    }

    /// The pod as a node's snapshot keeps it once it is bound: what filters and scores read of
    /// pods already on a node (requests, ports, labels, inter-pod affinity terms, priority and
    /// start for preemption) is in the computed fields, so the object keeps only its identity
    /// and phase. The full object of every bound pod was most of the scheduler's memory.
    pub fn placed(mut self) -> PodInfo {
        self.pod = Arc::new(identity_of(&self.pod));
        self.tolerations = Vec::new();
        self.required_node = RequiredNodeSelector::default();
        self.preferred_node = Vec::new();
        self
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

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, ContainerPort, ResourceRequirements, Volume};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn bound_pod() -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("web-1".into()),
                namespace: Some("default".into()),
                uid: Some("u1".into()),
                labels: Some([("app".to_string(), "web".to_string())].into()),
                annotations: Some([("note".to_string(), "x".repeat(1000))].into()),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                node_name: Some("n1".into()),
                containers: vec![Container {
                    name: "c".into(),
                    ports: Some(vec![ContainerPort {
                        container_port: 80,
                        host_port: Some(8080),
                        ..ContainerPort::default()
                    }]),
                    resources: Some(ResourceRequirements {
                        requests: Some([("cpu".to_string(), Quantity("250m".into()))].into()),
                        ..ResourceRequirements::default()
                    }),
                    ..Container::default()
                }],
                tolerations: Some(vec![Toleration {
                    key: Some("k".into()),
                    operator: Some("Exists".into()),
                    ..Toleration::default()
                }]),
                volumes: Some(vec![Volume {
                    name: "v".into(),
                    ..Volume::default()
                }]),
                ..PodSpec::default()
            }),
            status: Some(PodStatus {
                phase: Some("Running".into()),
                pod_ip: Some("10.42.0.5".into()),
                ..PodStatus::default()
            }),
        }
    }

    #[test]
    fn placed_pods_keep_what_filters_read_and_drop_the_rest() {
        let full = PodInfo::new(bound_pod(), 7);
        let placed = full.clone().placed();
        assert_eq!(placed.requests, full.requests);
        assert_eq!(placed.host_ports, full.host_ports);
        assert_eq!(placed.labels, full.labels);
        assert_eq!(placed.priority, 7);
        assert_eq!(placed.node_name.as_deref(), Some("n1"));
        assert_eq!(placed.key(), "default/web-1");
        assert!(placed.tolerations.is_empty());
        let pod = &placed.pod;
        assert_eq!(pod.metadata.uid.as_deref(), Some("u1"));
        assert!(pod.metadata.annotations.is_none());
        let spec = pod.spec.as_ref().expect("spec");
        assert_eq!(spec.node_name.as_deref(), Some("n1"));
        assert!(spec.containers.is_empty() && spec.volumes.is_none());
        let status = pod.status.as_ref().expect("status");
        assert_eq!(status.phase.as_deref(), Some("Running"));
        assert!(status.pod_ip.is_none());
    }
}
