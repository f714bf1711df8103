//! Builders for plugin tests.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    Container, Node, NodeSpec, NodeStatus, Pod, PodSpec, ResourceRequirements, Taint,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::ObjectMeta;

use crate::snapshot::{NodeInfo, PodInfo};

pub fn pod(name: &str) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            uid: Some(format!("uid-{name}")),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "c".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A pod whose single container requests `cpu` and `memory` (empty: none).
pub fn pod_requesting(name: &str, cpu: &str, memory: &str) -> Pod {
    let mut p = pod(name);
    let mut requests = BTreeMap::new();
    if !cpu.is_empty() {
        requests.insert("cpu".to_string(), Quantity(cpu.into()));
    }
    if !memory.is_empty() {
        requests.insert("memory".to_string(), Quantity(memory.into()));
    }
    if let Some(spec) = p.spec.as_mut() {
        spec.containers[0].resources = Some(ResourceRequirements {
            requests: Some(requests),
            ..Default::default()
        });
    }
    p
}

pub fn with_labels(mut p: Pod, labels: &[(&str, &str)]) -> Pod {
    p.metadata.labels = Some(
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    p
}

pub fn taint(key: &str, value: &str, effect: &str) -> Taint {
    Taint {
        key: key.into(),
        value: Some(value.into()),
        effect: effect.into(),
        ..Default::default()
    }
}

pub struct NodeBuilder {
    node: Node,
    pods: Vec<Pod>,
}

pub fn node(name: &str) -> NodeBuilder {
    NodeBuilder {
        node: Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some([("kubernetes.io/hostname".to_string(), name.to_string())].into()),
                ..Default::default()
            },
            spec: Some(NodeSpec::default()),
            status: Some(NodeStatus {
                allocatable: Some(
                    [
                        ("cpu".to_string(), Quantity("4".into())),
                        ("memory".to_string(), Quantity("8Gi".into())),
                        ("pods".to_string(), Quantity("110".into())),
                    ]
                    .into(),
                ),
                ..Default::default()
            }),
        },
        pods: Vec::new(),
    }
}

impl NodeBuilder {
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.node
            .metadata
            .labels
            .get_or_insert_default()
            .insert(key.into(), value.into());
        self
    }

    pub fn taint(mut self, taint: Taint) -> Self {
        self.node
            .spec
            .get_or_insert_default()
            .taints
            .get_or_insert_default()
            .push(taint);
        self
    }

    pub fn allocatable(mut self, name: &str, value: &str) -> Self {
        self.node
            .status
            .get_or_insert_default()
            .allocatable
            .get_or_insert_default()
            .insert(name.into(), Quantity(value.into()));
        self
    }

    pub fn unschedulable(mut self) -> Self {
        self.node.spec.get_or_insert_default().unschedulable = Some(true);
        self
    }

    pub fn pod(mut self, pod: Pod) -> Self {
        self.pods.push(pod);
        self
    }

    pub fn node(&self) -> Node {
        self.node.clone()
    }

    pub fn pods(&self) -> Vec<Pod> {
        self.pods.clone()
    }

    pub fn build(self) -> NodeInfo {
        let name = self.node.metadata.name.clone().unwrap_or_default();
        let mut info = NodeInfo::ghost(&name);
        info.set_node(self.node);
        for mut p in self.pods {
            p.spec.get_or_insert_default().node_name = Some(name.clone());
            info.add_pod(Arc::new(PodInfo::new(p, 0)));
        }
        info
    }
}
