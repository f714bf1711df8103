//! The ownership graph: every object's metadata by uid, and who depends on whom.

use std::collections::{HashMap, HashSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

/// One object as the collector knows it.
#[derive(Debug, Clone)]
pub struct Node {
    /// Index into the monitored resources.
    pub resource: usize,
    pub namespace: Option<String>,
    pub name: String,
    pub uid: String,
    pub resource_version: Option<String>,
    pub owners: Vec<OwnerReference>,
    pub deleting: bool,
    pub finalizers: Vec<String>,
}

impl Node {
    pub fn from_meta(resource: usize, meta: &ObjectMeta) -> Option<Self> {
        Some(Self {
            resource,
            namespace: meta.namespace.clone(),
            name: meta.name.clone()?,
            uid: meta.uid.clone()?,
            resource_version: meta.resource_version.clone(),
            owners: meta.owner_references.clone().unwrap_or_default(),
            deleting: meta.deletion_timestamp.is_some(),
            finalizers: meta.finalizers.clone().unwrap_or_default(),
        })
    }
}

#[derive(Default)]
pub struct Graph {
    nodes: HashMap<String, Node>,
    /// owner uid → dependent uids.
    dependents: HashMap<String, HashSet<String>>,
}

impl Graph {
    pub fn node(&self, uid: &str) -> Option<&Node> {
        self.nodes.get(uid)
    }

    pub fn dependents_of(&self, uid: &str) -> Vec<&Node> {
        self.dependents
            .get(uid)
            .map(|set| set.iter().filter_map(|d| self.nodes.get(d)).collect())
            .unwrap_or_default()
    }

    /// Dependents whose reference to `uid` has blockOwnerDeletion.
    pub fn blocking_dependents_of(&self, uid: &str) -> usize {
        self.dependents_of(uid)
            .iter()
            .filter(|d| {
                d.owners
                    .iter()
                    .any(|o| o.uid == uid && o.block_owner_deletion == Some(true))
            })
            .count()
    }

    pub fn has_dependents(&self, uid: &str) -> bool {
        self.dependents
            .get(uid)
            .is_some_and(|set| set.iter().any(|d| self.nodes.contains_key(d)))
    }

    /// Insert or replace a node; returns the uids whose decisions may change. As upstream's
    /// processGraphChanges: the object and its old and new owners when its references change,
    /// its dependents when its deletion state changes; a status update changes nothing here.
    pub fn upsert(&mut self, node: Node) -> Vec<String> {
        let previous = self.nodes.remove(&node.uid);
        let (references_changed, deletion_changed) = match &previous {
            None => (true, true),
            Some(previous) => (
                previous.owners != node.owners,
                previous.deleting != node.deleting || previous.finalizers != node.finalizers,
            ),
        };
        let mut touched = Vec::new();
        if references_changed || deletion_changed {
            touched.push(node.uid.clone());
        }
        if let Some(previous) = previous {
            self.unlink(&previous);
            if references_changed {
                touched.extend(previous.owners.iter().map(|o| o.uid.clone()));
            }
        }
        for owner in &node.owners {
            self.dependents
                .entry(owner.uid.clone())
                .or_default()
                .insert(node.uid.clone());
            if references_changed {
                touched.push(owner.uid.clone());
            }
        }
        if deletion_changed {
            touched.extend(self.dependents_of(&node.uid).iter().map(|d| d.uid.clone()));
        }
        self.nodes.insert(node.uid.clone(), node);
        touched
    }

    /// Remove a node; returns the uids whose decisions may change (its owners and dependents).
    pub fn remove(&mut self, uid: &str) -> Vec<String> {
        let Some(node) = self.nodes.remove(uid) else {
            return Vec::new();
        };
        self.unlink(&node);
        let mut touched: Vec<String> = node.owners.iter().map(|o| o.uid.clone()).collect();
        touched.extend(self.dependents_of(uid).iter().map(|d| d.uid.clone()));
        touched
    }

    /// uids of one resource's nodes.
    pub fn uids_of_resource(&self, resource: usize) -> Vec<String> {
        self.nodes
            .values()
            .filter(|n| n.resource == resource)
            .map(|n| n.uid.clone())
            .collect()
    }

    fn unlink(&mut self, node: &Node) {
        for owner in &node.owners {
            if let Some(set) = self.dependents.get_mut(&owner.uid) {
                set.remove(&node.uid);
                if set.is_empty() {
                    self.dependents.remove(&owner.uid);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(uid: &str, owners: &[(&str, bool)]) -> Node {
        Node {
            resource: 0,
            namespace: Some("ns".into()),
            name: uid.into(),
            uid: uid.into(),
            resource_version: None,
            owners: owners
                .iter()
                .map(|(o, block)| OwnerReference {
                    api_version: "v1".into(),
                    kind: "ConfigMap".into(),
                    name: (*o).into(),
                    uid: (*o).into(),
                    controller: None,
                    block_owner_deletion: Some(*block),
                })
                .collect(),
            deleting: false,
            finalizers: vec![],
        }
    }

    #[test]
    fn dependents_are_indexed_by_owner_and_follow_updates() {
        let mut graph = Graph::default();
        graph.upsert(node("owner", &[]));
        graph.upsert(node("a", &[("owner", true)]));
        let touched = graph.upsert(node("b", &[("owner", false)]));
        assert!(touched.contains(&"owner".to_string()));
        assert_eq!(graph.dependents_of("owner").len(), 2);
        assert_eq!(graph.blocking_dependents_of("owner"), 1);
        graph.upsert(node("a", &[]));
        assert_eq!(graph.blocking_dependents_of("owner"), 0);
        let touched = graph.remove("owner");
        assert_eq!(touched, vec!["b".to_string()]);
        assert!(graph.node("owner").is_none());
    }

    #[test]
    fn only_reference_and_deletion_changes_touch_others() {
        let mut graph = Graph::default();
        graph.upsert(node("owner", &[]));
        graph.upsert(node("a", &[("owner", true)]));
        graph.upsert(node("b", &[("owner", true)]));
        // A status update (same references, not deleting) asks nothing of anyone.
        assert!(graph.upsert(node("a", &[("owner", true)])).is_empty());
        assert!(graph.upsert(node("owner", &[])).is_empty());
        // An owner starting its deletion has every dependent looked at, and itself.
        let mut deleting = node("owner", &[]);
        deleting.deleting = true;
        let mut touched = graph.upsert(deleting);
        touched.sort();
        assert_eq!(touched, vec!["a", "b", "owner"]);
        // A dependent dropping its reference: itself and the owner it left.
        let mut touched = graph.upsert(node("a", &[]));
        touched.sort();
        assert_eq!(touched, vec!["a", "owner"]);
        assert!(graph.has_dependents("owner"));
        graph.remove("b");
        assert!(!graph.has_dependents("owner"));
    }
}
