//! The node authorizer's graph, reduced to what it answers: per node, how many of its bound pods
//! reference each object. Counts, not sets, so that one pod going away keeps what others need.

use std::collections::HashMap;

use super::pod_references::{BoundPod, TargetKind};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Target {
    kind: TargetKind,
    namespace: String,
    name: String,
}

#[derive(Debug, Default)]
pub struct Edges {
    nodes: HashMap<String, HashMap<Target, u32>>,
}

impl Edges {
    fn targets(pod: &BoundPod) -> impl Iterator<Item = Target> + '_ {
        pod.references.iter().map(|(kind, name)| Target {
            kind: *kind,
            namespace: pod.namespace.clone(),
            name: name.clone(),
        })
    }

    pub fn add(&mut self, pod: &BoundPod) {
        let node = self.nodes.entry(pod.node.clone()).or_default();
        for target in Self::targets(pod) {
            *node.entry(target).or_default() += 1;
        }
    }

    pub fn remove(&mut self, pod: &BoundPod) {
        let Some(node) = self.nodes.get_mut(&pod.node) else {
            return;
        };
        for target in Self::targets(pod) {
            if let Some(count) = node.get_mut(&target) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    node.remove(&target);
                }
            }
        }
        if node.is_empty() {
            self.nodes.remove(&pod.node);
        }
    }

    pub fn clear(&mut self) {
        self.nodes.clear();
    }

    /// Whether a pod bound to `node` references the object.
    pub fn reaches(&self, node: &str, kind: TargetKind, namespace: &str, name: &str) -> bool {
        let target = Target {
            kind,
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        self.nodes
            .get(node)
            .is_some_and(|targets| targets.contains_key(&target))
    }

    /// The claims `(namespace, name)` that pods bound to `node` use.
    pub fn claims_of(&self, node: &str) -> Vec<(String, String)> {
        self.nodes
            .get(node)
            .into_iter()
            .flatten()
            .filter(|(t, _)| t.kind == TargetKind::PersistentVolumeClaim)
            .map(|(t, _)| (t.namespace.clone(), t.name.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(node: &str, references: &[(TargetKind, &str)]) -> BoundPod {
        BoundPod {
            node: node.into(),
            namespace: "ns".into(),
            references: references
                .iter()
                .map(|(k, n)| (*k, n.to_string()))
                .collect(),
        }
    }

    #[test]
    fn an_object_stays_reachable_while_any_pod_of_the_node_references_it() {
        let mut edges = Edges::default();
        let a = pod(
            "n1",
            &[(TargetKind::ConfigMap, "shared"), (TargetKind::Secret, "a")],
        );
        let b = pod("n1", &[(TargetKind::ConfigMap, "shared")]);
        edges.add(&a);
        edges.add(&b);
        assert!(edges.reaches("n1", TargetKind::Secret, "ns", "a"));
        assert!(!edges.reaches("n2", TargetKind::Secret, "ns", "a"));
        assert!(!edges.reaches("n1", TargetKind::Secret, "other", "a"));
        assert!(!edges.reaches("n1", TargetKind::ConfigMap, "ns", "a"));
        edges.remove(&a);
        assert!(!edges.reaches("n1", TargetKind::Secret, "ns", "a"));
        assert!(edges.reaches("n1", TargetKind::ConfigMap, "ns", "shared"));
        edges.remove(&b);
        assert!(!edges.reaches("n1", TargetKind::ConfigMap, "ns", "shared"));
        assert!(edges.nodes.is_empty());
    }

    #[test]
    fn claims_of_a_node() {
        let mut edges = Edges::default();
        edges.add(&pod(
            "n1",
            &[
                (TargetKind::PersistentVolumeClaim, "data"),
                (TargetKind::Secret, "s"),
            ],
        ));
        assert_eq!(
            edges.claims_of("n1"),
            [("ns".to_string(), "data".to_string())]
        );
        assert!(edges.claims_of("n2").is_empty());
    }
}
