//! Upstream's node authorizer graph: a node may read a secret, config map, persistent volume
//! claim, persistent volume or service account only when a pod bound to it references it (for a
//! volume: through a claim), and ask tokens only for its pods' service accounts.
//!
//! The edges are fed from the pods' watch cache by one task. A pod's references are read when it
//! is bound (its spec is immutable after that) and when it goes, so the graph holds only counts
//! per node. A question the graph cannot yet answer (a pod bound a moment ago, while the graph is
//! behind the cache) is checked against the node's pods in the watch cache; once the graph has
//! seen every change the cache has, a miss is final and costs no scan. Because r8s's ingress controller runs on every node, a
//! node also reads the TLS secrets that Ingresses name.

mod edges;
pub(crate) mod pod_references;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use api::selector::Selectable;
use edges::Edges;
use pod_references::{bound_pod, BoundPod, TargetKind};

use super::Attributes;
use crate::registry::keys::{collection_prefix, object_key};
use crate::watch_cache::{CacheEvent, CacheEventKind, CachedObject, WatchCache};

pub struct NodeGraph {
    cache: Arc<WatchCache>,
    edges: RwLock<Edges>,
    /// The pods cache's generation the edges reflect (bumped after each event is applied).
    seen_generation: AtomicU64,
}

fn node_of(object: &CachedObject) -> &str {
    object
        .selectable
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Whether an object's JSON has ephemeral containers, whose env can add references later.
fn has_ephemeral_containers(object: &CachedObject) -> bool {
    memchr::memmem::find(&object.json, b"\"ephemeralContainers\"").is_some()
}

impl NodeGraph {
    /// A graph fed from `cache` until `cancel`.
    pub fn start(cache: Arc<WatchCache>, cancel: CancellationToken) -> Arc<Self> {
        let graph = Arc::new(Self {
            cache,
            edges: RwLock::default(),
            // No pods cache has generation u64::MAX: behind until the first snapshot.
            seen_generation: AtomicU64::new(u64::MAX),
        });
        tokio::spawn(populate(graph.clone(), cancel));
        graph
    }

    /// Whether `node` may do what `a` asks to the object it names (the rule allowed the verb).
    pub fn allows(&self, node: &str, a: &Attributes) -> bool {
        if a.name.is_empty() {
            return false;
        }
        if a.resource == "persistentvolumes" {
            return self.reaches_volume(node, &a.name);
        }
        let Some(kind) = TargetKind::of_resource(&a.resource) else {
            return false;
        };
        if a.namespace.is_empty() {
            return false;
        }
        // Read before the edges: if it is the cache's generation after, the edges read had
        // every pod the cache has.
        let seen = self.seen_generation.load(Ordering::Acquire);
        let known = self
            .edges
            .read()
            .is_ok_and(|edges| edges.reaches(node, kind, &a.namespace, &a.name));
        known
            || (kind == TargetKind::Secret && self.names_ingress_tls(&a.namespace, &a.name))
            || (!self.caught_up_at(seen) && self.live_pods_reach(node, kind, &a.namespace, &a.name))
    }

    /// Whether edges that reflect the pods cache at generation `seen` reflect all of it now.
    fn caught_up_at(&self, seen: u64) -> bool {
        self.cache
            .resource("pods")
            .is_some_and(|pods| pods.generation() == seen)
    }

    /// Whether the pod `namespace/name` is bound to `node` (NodeRestriction for updates,
    /// deletions and evictions of existing pods).
    pub fn pod_is_bound_to(&self, node: &str, namespace: &str, name: &str) -> bool {
        if name.is_empty() {
            return false;
        }
        self.cache
            .resource("pods")
            .and_then(|pods| pods.get(&object_key("pods", Some(namespace), name)))
            .is_some_and(|pod| node_of(&pod) == node)
    }

    /// The node's pods in the watch cache, read directly: for pods the graph has not seen yet.
    fn live_pods_reach(&self, node: &str, kind: TargetKind, namespace: &str, name: &str) -> bool {
        let Some(pods) = self.cache.resource("pods") else {
            return false;
        };
        pods.list(&collection_prefix("pods", Some(namespace)), &|o| {
            node_of(o) == node
        })
        .iter()
        .filter_map(|o| bound_pod(&o.json))
        .any(|pod| pod.references.iter().any(|(k, n)| *k == kind && n == name))
    }

    /// Whether a claim used by a pod of `node` is bound to the volume.
    fn reaches_volume(&self, node: &str, volume: &str) -> bool {
        let claims = match self.edges.read() {
            Ok(edges) => edges.claims_of(node),
            Err(_) => return false,
        };
        let Some(cache) = self.cache.resource("persistentvolumeclaims") else {
            return false;
        };
        claims.iter().any(|(namespace, name)| {
            cache
                .get(&object_key("persistentvolumeclaims", Some(namespace), name))
                .is_some_and(|claim| {
                    claim
                        .value()
                        .pointer("/spec/volumeName")
                        .and_then(Value::as_str)
                        == Some(volume)
                })
        })
    }

    /// Whether an Ingress in `namespace` names the secret for TLS.
    fn names_ingress_tls(&self, namespace: &str, name: &str) -> bool {
        let Some(ingresses) = self.cache.resource("ingress") else {
            return false;
        };
        ingresses
            .list(&collection_prefix("ingress", Some(namespace)), &|_| true)
            .iter()
            .any(|ingress| {
                ingress
                    .value()
                    .pointer("/spec/tls")
                    .and_then(Value::as_array)
                    .is_some_and(|tls| {
                        tls.iter()
                            .any(|t| t.get("secretName").and_then(Value::as_str) == Some(name))
                    })
            })
    }

    fn rebuild(&self, pods: &[Arc<CachedObject>], generation: u64) {
        let bound: Vec<_> = pods
            .iter()
            .filter(|o| !node_of(o).is_empty())
            .filter_map(|o| bound_pod(&o.json))
            .collect();
        if let Ok(mut edges) = self.edges.write() {
            edges.clear();
            for pod in &bound {
                edges.add(pod);
            }
        }
        self.seen_generation.store(generation, Ordering::Release);
    }

    fn apply(&self, event: &CacheEvent) {
        let (removed, added) = edge_changes(event);
        if removed.is_some() || added.is_some() {
            if let Ok(mut edges) = self.edges.write() {
                if let Some(pod) = &removed {
                    edges.remove(pod);
                }
                if let Some(pod) = &added {
                    edges.add(pod);
                }
            }
        }
        self.seen_generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// What one pod event changes in the graph: the bound pod whose edges go, and the one whose
/// edges come. A bound pod's references only change with ephemeral containers.
fn edge_changes(event: &CacheEvent) -> (Option<BoundPod>, Option<BoundPod>) {
    let (previous, current) = match event.kind {
        CacheEventKind::Deleted => (Some(&event.object), None),
        _ => (event.previous.as_ref(), Some(&event.object)),
    };
    let unchanged = match (previous, current) {
        (Some(before), Some(after)) => {
            node_of(before) == node_of(after) && !has_ephemeral_containers(after)
        }
        (None, None) => true,
        _ => false,
    };
    if unchanged {
        return (None, None);
    }
    let bound = |object: Option<&Arc<CachedObject>>| {
        object
            .filter(|o| !node_of(o).is_empty())
            .and_then(|o| bound_pod(&o.json))
    };
    (bound(previous), bound(current))
}

/// Keeps the edges in step with the pods' cache; starts over after a relist or a lag.
async fn populate(graph: Arc<NodeGraph>, cancel: CancellationToken) {
    let prefix = collection_prefix("pods", None);
    loop {
        let snapshot = graph
            .cache
            .resource("pods")
            .and_then(|pods| pods.snapshot_and_subscribe_at(&prefix));
        let Some(((objects, mut live), generation)) = snapshot else {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
            }
        };
        graph.rebuild(&objects, generation);
        drop(objects);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                event = live.recv() => match event {
                    Ok(event) => graph.apply(&event),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "node graph lagged behind the pods; rebuilding");
                        break;
                    }
                    Err(RecvError::Closed) => break,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(node: Option<&str>, extra: Value) -> Arc<CachedObject> {
        let mut pod = json!({"metadata": {"name": "p", "namespace": "ns"},
            "spec": {"containers": [{"name": "c", "envFrom": [{"secretRef": {"name": "s"}}]}]}});
        if let Some(node) = node {
            pod["spec"]["nodeName"] = json!(node);
        }
        if let (Some(spec), Some(extra)) = (pod["spec"].as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        Arc::new(CachedObject::new("/registry/pods/ns/p".into(), 1, pod))
    }

    fn event(
        kind: CacheEventKind,
        object: Arc<CachedObject>,
        previous: Option<Arc<CachedObject>>,
    ) -> CacheEvent {
        CacheEvent {
            kind,
            object,
            previous,
        }
    }

    fn nodes(changes: (Option<BoundPod>, Option<BoundPod>)) -> (Option<String>, Option<String>) {
        (changes.0.map(|p| p.node), changes.1.map(|p| p.node))
    }

    #[test]
    fn edges_change_when_a_pod_is_bound_or_goes() {
        let unbound = pod(None, json!({}));
        let bound = pod(Some("n1"), json!({}));
        let added = event(CacheEventKind::Added, unbound.clone(), None);
        assert_eq!(nodes(edge_changes(&added)), (None, None));
        let binding = event(CacheEventKind::Modified, bound.clone(), Some(unbound));
        assert_eq!(nodes(edge_changes(&binding)), (None, Some("n1".into())));
        let status = event(CacheEventKind::Modified, bound.clone(), Some(bound.clone()));
        assert_eq!(nodes(edge_changes(&status)), (None, None));
        let debugged = pod(
            Some("n1"),
            json!({"ephemeralContainers": [{"name": "d", "env": [
                {"name": "K", "valueFrom": {"configMapKeyRef": {"name": "m", "key": "k"}}}]}]}),
        );
        let (before, after) = edge_changes(&event(
            CacheEventKind::Modified,
            debugged,
            Some(bound.clone()),
        ));
        assert_eq!(before.map(|p| p.references.len()), Some(2));
        assert_eq!(after.map(|p| p.references.len()), Some(3));
        let deleted = event(CacheEventKind::Deleted, bound, None);
        assert_eq!(nodes(edge_changes(&deleted)), (Some("n1".into()), None));
    }
}
