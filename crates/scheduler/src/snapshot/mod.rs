//! The scheduler's view of the cluster: every node with its pods, updated incrementally from
//! watches and from pods assumed on a node before their binding returns.

mod affinity_term;
mod match_counts;
mod node_info;
mod node_selector;
mod pod_info;
mod resources;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Node;

pub use affinity_term::{AffinityTerm, PodAffinity, WeightedAffinityTerm};
pub use match_counts::MatchCounts;
pub use node_info::{normalized_image_name, NodeInfo};
pub use node_selector::{CompiledTerm, RequiredNodeSelector};
pub use pod_info::{HostPort, PodInfo};
pub use resources::{
    is_scalar_resource, PodRequests, Resources, DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST,
};

/// What an upsert of a node changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeChange {
    Added,
    /// Labels, taints, allocatable, schedulability or images changed.
    Relevant,
    Irrelevant,
}

/// Nodes (in a stable order for round-robin sampling) and where each pod sits.
#[derive(Debug, Default)]
pub struct Snapshot {
    nodes: Vec<NodeInfo>,
    index: HashMap<String, usize>,
    /// Nodes known only from their pods (not yet, or no longer, a Node object).
    ghosts: HashMap<String, NodeInfo>,
    /// Pod uid → node name.
    locations: HashMap<String, String>,
    assumed: HashSet<String>,
    /// Normalized image name → number of nodes that have it.
    image_nodes: HashMap<String, usize>,
    /// Placed pods (on nodes and ghosts) with any affinity or anti-affinity term, and with a
    /// required anti-affinity term: when none, InterPodAffinity need not visit every node.
    pods_with_affinity: usize,
    pods_with_required_anti_affinity: usize,
}

impl Snapshot {
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.index.get(name).map(|&i| &self.nodes[i])
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Placed pods with any pod affinity or anti-affinity term.
    pub fn pods_with_affinity(&self) -> usize {
        self.pods_with_affinity
    }

    /// Placed pods with a required pod anti-affinity term.
    pub fn pods_with_required_anti_affinity(&self) -> usize {
        self.pods_with_required_anti_affinity
    }

    fn count_affinity(&mut self, pod: &PodInfo, delta: isize) {
        if !pod.affinity.is_empty() {
            self.pods_with_affinity = self.pods_with_affinity.saturating_add_signed(delta);
        }
        if !pod.affinity.required_anti_affinity.is_empty() {
            self.pods_with_required_anti_affinity = self
                .pods_with_required_anti_affinity
                .saturating_add_signed(delta);
        }
    }

    /// How many nodes have the (normalized) image.
    pub fn image_spread(&self, image: &str) -> usize {
        self.image_nodes.get(image).copied().unwrap_or(0)
    }

    fn count_images(image_nodes: &mut HashMap<String, usize>, info: &NodeInfo, delta: isize) {
        for image in info.images.keys() {
            let count = image_nodes.entry(image.clone()).or_default();
            *count = count.saturating_add_signed(delta);
        }
    }

    pub fn upsert_node(&mut self, node: Node) -> NodeChange {
        let name = node.metadata.name.clone().unwrap_or_default();
        if let Some(&i) = self.index.get(&name) {
            // What set_node replaces, moved out rather than cloning the whole NodeInfo (its pods
            // and images) twice on every Node status update.
            let info = &mut self.nodes[i];
            let old = NodeInfo {
                labels: std::mem::take(&mut info.labels),
                taints: std::mem::take(&mut info.taints),
                images: std::mem::take(&mut info.images),
                allocatable: info.allocatable.clone(),
                unschedulable: info.unschedulable,
                ..NodeInfo::default()
            };
            info.set_node(node);
            Self::count_images(&mut self.image_nodes, &old, -1);
            Self::count_images(&mut self.image_nodes, &self.nodes[i], 1);
            return if node_info::node_change_is_relevant(&old, &self.nodes[i]) {
                NodeChange::Relevant
            } else {
                NodeChange::Irrelevant
            };
        }
        let mut info = self
            .ghosts
            .remove(&name)
            .unwrap_or_else(|| NodeInfo::ghost(&name));
        info.set_node(node);
        Self::count_images(&mut self.image_nodes, &info, 1);
        self.index.insert(name, self.nodes.len());
        self.nodes.push(info);
        NodeChange::Added
    }

    pub fn remove_node(&mut self, name: &str) {
        let Some(i) = self.index.remove(name) else {
            return;
        };
        let mut info = self.nodes.swap_remove(i);
        if let Some(moved) = self.nodes.get(i) {
            self.index.insert(moved.name.clone(), i);
        }
        Self::count_images(&mut self.image_nodes, &info, -1);
        if !info.pods.is_empty() {
            info.node = None;
            self.ghosts.insert(name.to_string(), info);
        }
    }

    fn node_mut(&mut self, name: &str) -> &mut NodeInfo {
        match self.index.get(name) {
            Some(&i) => &mut self.nodes[i],
            None => self
                .ghosts
                .entry(name.to_string())
                .or_insert_with(|| NodeInfo::ghost(name)),
        }
    }

    /// A bound pod observed through the watch; confirms an assumed pod of the same uid.
    pub fn add_pod(&mut self, pod: PodInfo) {
        let Some(node) = pod.node_name.clone() else {
            return;
        };
        self.remove_pod(&pod.uid);
        self.locations.insert(pod.uid.clone(), node.clone());
        self.count_affinity(&pod, 1);
        self.node_mut(&node).add_pod(Arc::new(pod));
    }

    pub fn remove_pod(&mut self, uid: &str) -> Option<Arc<PodInfo>> {
        self.assumed.remove(uid);
        let node = self.locations.remove(uid)?;
        let removed = match self.index.get(&node) {
            Some(&i) => self.nodes[i].remove_pod(uid),
            None => {
                let ghost = self.ghosts.get_mut(&node)?;
                let removed = ghost.remove_pod(uid);
                if ghost.pods.is_empty() {
                    self.ghosts.remove(&node);
                }
                removed
            }
        };
        if let Some(pod) = &removed {
            self.count_affinity(pod, -1);
        }
        removed
    }

    /// Places the pod on `node` before its binding is confirmed.
    pub fn assume(&mut self, pod: &PodInfo, node: &str) {
        self.add_pod(pod.assumed_on(node));
        self.assumed.insert(pod.uid.clone());
    }

    /// Undoes [`Snapshot::assume`] after a failed binding.
    pub fn forget(&mut self, uid: &str) {
        if self.assumed.contains(uid) {
            self.remove_pod(uid);
        }
    }

    pub fn is_assumed(&self, uid: &str) -> bool {
        self.assumed.contains(uid)
    }

    /// Whether the pod (by uid) is placed on some node, assumed or bound.
    pub fn is_placed(&self, uid: &str) -> bool {
        self.locations.contains_key(uid)
    }

    /// Every placed pod with its node, for plugins that count across the cluster.
    pub fn placed_pods(&self) -> impl Iterator<Item = (&NodeInfo, &Arc<PodInfo>)> {
        self.nodes
            .iter()
            .flat_map(|n| n.pods.iter().map(move |p| (n, p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Pod, PodSpec};
    use kube::api::ObjectMeta;

    fn node(name: &str) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn pod(uid: &str, node: Option<&str>) -> PodInfo {
        PodInfo::new(
            Pod {
                metadata: ObjectMeta {
                    name: Some(uid.into()),
                    namespace: Some("default".into()),
                    uid: Some(uid.into()),
                    ..Default::default()
                },
                spec: Some(PodSpec {
                    node_name: node.map(str::to_string),
                    ..Default::default()
                }),
                ..Default::default()
            },
            0,
        )
    }

    #[test]
    fn assume_then_confirm_then_forget() {
        let mut s = Snapshot::new();
        assert_eq!(s.upsert_node(node("a")), NodeChange::Added);
        assert_eq!(s.upsert_node(node("a")), NodeChange::Irrelevant);
        s.assume(&pod("p1", None), "a");
        assert!(s.is_assumed("p1"));
        assert_eq!(s.node("a").map(|n| n.pods.len()), Some(1));
        s.add_pod(pod("p1", Some("a")));
        assert!(!s.is_assumed("p1"));
        assert_eq!(s.node("a").map(|n| n.pods.len()), Some(1));
        s.assume(&pod("p2", None), "a");
        s.forget("p2");
        assert_eq!(s.node("a").map(|n| n.pods.len()), Some(1));
    }

    /// The cluster-wide counts of pods with affinity terms follow pods placed, moved, removed
    /// and left on a deleted node.
    #[test]
    fn counts_pods_with_affinity_terms() {
        use k8s_openapi::api::core::v1::{
            Affinity, PodAffinityTerm, PodAntiAffinity, WeightedPodAffinityTerm,
        };
        let term = PodAffinityTerm {
            topology_key: "kubernetes.io/hostname".into(),
            ..Default::default()
        };
        let with = |uid: &str, node: &str, required: bool| {
            let mut p = pod(uid, Some(node)).pod.as_ref().clone();
            let anti = if required {
                PodAntiAffinity {
                    required_during_scheduling_ignored_during_execution: Some(vec![term.clone()]),
                    ..Default::default()
                }
            } else {
                PodAntiAffinity {
                    preferred_during_scheduling_ignored_during_execution: Some(vec![
                        WeightedPodAffinityTerm {
                            weight: 1,
                            pod_affinity_term: term.clone(),
                        },
                    ]),
                    ..Default::default()
                }
            };
            if let Some(spec) = p.spec.as_mut() {
                spec.affinity = Some(Affinity {
                    pod_anti_affinity: Some(anti),
                    ..Default::default()
                });
            }
            PodInfo::new(p, 0)
        };
        let mut s = Snapshot::new();
        s.upsert_node(node("a"));
        s.upsert_node(node("b"));
        s.add_pod(pod("plain", Some("a")));
        assert_eq!(
            (s.pods_with_affinity(), s.pods_with_required_anti_affinity()),
            (0, 0)
        );
        s.add_pod(with("hard", "a", true));
        s.add_pod(with("soft", "b", false));
        assert_eq!(
            (s.pods_with_affinity(), s.pods_with_required_anti_affinity()),
            (2, 1)
        );
        // The same pod seen again, now elsewhere, counts once.
        s.add_pod(with("hard", "b", true));
        assert_eq!(
            (s.pods_with_affinity(), s.pods_with_required_anti_affinity()),
            (2, 1)
        );
        // A deleted node's pods are still placed (on a ghost) until they go.
        s.remove_node("b");
        assert_eq!(
            (s.pods_with_affinity(), s.pods_with_required_anti_affinity()),
            (2, 1)
        );
        s.remove_pod("hard");
        s.remove_pod("soft");
        assert_eq!(
            (s.pods_with_affinity(), s.pods_with_required_anti_affinity()),
            (0, 0)
        );
    }

    /// A Node update keeps the node's pods, tells whether scheduling may see it differently,
    /// and keeps the image counts right.
    #[test]
    fn node_updates_keep_pods_and_count_images() {
        use k8s_openapi::api::core::v1::{ContainerImage, NodeStatus};
        let with_image = |labels: &[(&str, &str)]| {
            let mut n = node("a");
            n.metadata.labels = Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            );
            n.status = Some(NodeStatus {
                images: Some(vec![ContainerImage {
                    names: Some(vec!["busybox".into()]),
                    size_bytes: Some(1),
                }]),
                ..Default::default()
            });
            n
        };
        let mut s = Snapshot::new();
        assert_eq!(s.upsert_node(with_image(&[])), NodeChange::Added);
        s.add_pod(pod("p1", Some("a")));
        let image = normalized_image_name("busybox");
        assert_eq!(s.image_spread(&image), 1);
        assert_eq!(s.upsert_node(with_image(&[])), NodeChange::Irrelevant);
        assert_eq!(s.image_spread(&image), 1);
        assert_eq!(
            s.upsert_node(with_image(&[("disk", "ssd")])),
            NodeChange::Relevant
        );
        assert_eq!(s.node("a").map(|n| n.labels.len()), Some(1));
        assert_eq!(s.node("a").map(|n| n.pods.len()), Some(1));
        assert_eq!(s.upsert_node(node("a")), NodeChange::Relevant);
        assert_eq!(s.image_spread(&image), 0);
    }

    #[test]
    fn pods_on_unknown_nodes_wait_as_ghosts() {
        let mut s = Snapshot::new();
        s.add_pod(pod("p1", Some("b")));
        assert!(s.is_empty());
        s.upsert_node(node("b"));
        assert_eq!(s.node("b").map(|n| n.pods.len()), Some(1));
        s.upsert_node(node("c"));
        s.remove_node("b");
        assert_eq!(s.len(), 1);
        assert!(s.node("c").is_some());
        s.remove_pod("p1");
        assert!(!s.is_placed("p1"));
    }
}
