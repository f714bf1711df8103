//! The cached objects and recent events of one resource (one storage prefix).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use api::selector::{parse_pruned, PathTree, SelectionView};
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::broadcast;

/// How many recent events each resource keeps for watches that resume from a resourceVersion; older
/// resumes are served by a storage watch.
pub(crate) const HISTORY_CAPACITY: usize = 4_096;
/// Events a watcher may fall behind before it is closed (it then resumes from its last revision).
const SUBSCRIBER_BUFFER: usize = 4_096;

/// One object as the cache holds it: serialized once for every reader, plus the few fields
/// selectors read. The parsed object is not kept: as a `Value` it is several times the size of
/// its JSON, and most readers only need the bytes.
#[derive(Debug)]
pub struct CachedObject {
    pub key: String,
    /// The object's resourceVersion (mod revision, or the deletion revision for deleted objects).
    pub revision: i64,
    /// The object as JSON, with `metadata.resourceVersion` set.
    pub json: Bytes,
    /// What label and field selectors read of the object.
    pub selectable: SelectionView,
}

impl CachedObject {
    pub fn new(key: String, revision: i64, mut object: Value) -> Self {
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert(
                "resourceVersion".to_string(),
                Value::String(revision.to_string()),
            );
        }
        let mut json = serde_json::to_vec(&object).unwrap_or_default();
        // Kept for the object's life: without this a cached object holds up to twice its size
        // (the serializer grows its buffer by doubling).
        json.shrink_to_fit();
        let json = Bytes::from(json);
        Self {
            key,
            revision,
            selectable: SelectionView::of(&object),
            json,
        }
    }

    /// From an object as storage holds it (JSON without `metadata.resourceVersion`): the
    /// revision is written into the bytes and the selectors' fields are parsed out of them, so
    /// the object is never built as values (each write reaches the cache this way).
    pub fn from_stored(key: String, revision: i64, stored: &[u8]) -> serde_json::Result<Self> {
        let pruned = parse_pruned(stored, stored_paths())?;
        let spliced = pruned
            .get("metadata")
            .filter(|meta| meta.is_object() && meta.get("resourceVersion").is_none())
            .and_then(|_| crate::registry::stored_json::with_resource_version(stored, revision));
        let Some(json) = spliced else {
            // Not the shape storage writes; the long way still gives the same object.
            let object: Value = serde_json::from_slice(stored)?;
            return Ok(Self::new(key, revision, object));
        };
        Ok(Self {
            key,
            revision,
            selectable: SelectionView::of(&pruned),
            json: Bytes::from(json),
        })
    }

    /// The whole object, parsed from its JSON (which this type wrote, so it parses).
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }

    /// The object as PartialObjectMetadata JSON, its metadata copied byte for byte: the rest of
    /// the object is skipped over, never parsed into values (a metadata-only watch of pods, as
    /// the garbage collector keeps, would otherwise parse every pod).
    pub fn partial_metadata_json(&self) -> Vec<u8> {
        #[derive(serde::Deserialize)]
        struct MetadataOnly<'a> {
            #[serde(borrow, default)]
            metadata: Option<&'a serde_json::value::RawValue>,
        }
        let metadata = crate::registry::stored_json::metadata_object(&self.json)
            .or_else(|| {
                serde_json::from_slice::<MetadataOnly<'_>>(&self.json)
                    .ok()
                    .and_then(|object| object.metadata)
                    .map(|raw| raw.get().as_bytes())
            })
            .unwrap_or(b"{}");
        let mut out = Vec::with_capacity(metadata.len() + 64);
        out.extend_from_slice(
            b"{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":",
        );
        out.extend_from_slice(metadata);
        out.push(b'}');
        out
    }
}

/// What [`CachedObject::from_stored`] parses of a stored object: the selectors' paths, and the
/// resourceVersion it must not already have.
fn stored_paths() -> &'static PathTree {
    static PATHS: OnceLock<PathTree> = OnceLock::new();
    PATHS.get_or_init(|| {
        PathTree::from_pointers(
            SelectionView::read_pointers().chain(std::iter::once("/metadata/resourceVersion")),
        )
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheEventKind {
    Added,
    Modified,
    Deleted,
}

impl CacheEventKind {
    pub fn as_watch_type(self) -> &'static str {
        match self {
            CacheEventKind::Added => "ADDED",
            CacheEventKind::Modified => "MODIFIED",
            CacheEventKind::Deleted => "DELETED",
        }
    }
}

/// One change to one object. For deletions `object` is the last state, at the deletion revision.
#[derive(Debug, Clone)]
pub struct CacheEvent {
    pub kind: CacheEventKind,
    pub object: Arc<CachedObject>,
    /// The state before this change, for selector transitions (an object leaving a selector is
    /// reported as DELETED to that watcher).
    pub previous: Option<Arc<CachedObject>>,
}

struct State {
    objects: BTreeMap<String, Arc<CachedObject>>,
    history: VecDeque<Arc<CacheEvent>>,
    /// Every event with revision > this is in `history`.
    history_complete_after: i64,
    /// Created with the first subscriber: a channel's buffer is allocated up front, and most
    /// resources are never watched.
    sender: Option<broadcast::Sender<Arc<CacheEvent>>>,
}

impl State {
    fn sender(&mut self) -> &broadcast::Sender<Arc<CacheEvent>> {
        self.sender
            .get_or_insert_with(|| broadcast::channel(SUBSCRIBER_BUFFER).0)
    }
}

/// The objects under a prefix, and every change after them.
pub type Snapshot = (Vec<Arc<CachedObject>>, broadcast::Receiver<Arc<CacheEvent>>);

/// A live subscription: events with revision > `after` that were not in the replayed history.
pub struct Subscription {
    pub replay: Vec<Arc<CacheEvent>>,
    pub live: broadcast::Receiver<Arc<CacheEvent>>,
}

pub struct ResourceCache {
    state: RwLock<State>,
    /// Bumped on every load and change: readers that derive data from the objects (RBAC's index)
    /// rebuild when it moves.
    generation: AtomicU64,
}

impl ResourceCache {
    pub fn new(start_revision: i64) -> Self {
        Self {
            state: RwLock::new(State {
                objects: BTreeMap::new(),
                history: VecDeque::new(),
                history_complete_after: start_revision,
                sender: None,
            }),
            generation: AtomicU64::new(0),
        }
    }

    /// A number that changes whenever the cached objects do.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Load an object during the initial list (no event is produced).
    pub fn load(&self, object: CachedObject) {
        if let Ok(mut state) = self.state.write() {
            state.objects.insert(object.key.clone(), Arc::new(object));
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Apply one change from storage and tell every subscriber.
    pub fn apply(&self, kind: CacheEventKind, object: CachedObject) {
        let Ok(mut state) = self.state.write() else {
            return;
        };
        let object = Arc::new(object);
        self.generation.fetch_add(1, Ordering::AcqRel);
        let previous = match kind {
            CacheEventKind::Deleted => state.objects.remove(&object.key),
            _ => state.objects.insert(object.key.clone(), object.clone()),
        };
        let kind = match (kind, &previous) {
            (CacheEventKind::Deleted, _) => CacheEventKind::Deleted,
            (_, Some(_)) => CacheEventKind::Modified,
            (_, None) => CacheEventKind::Added,
        };
        let event = Arc::new(CacheEvent {
            kind,
            object,
            previous,
        });
        if state.history.len() >= HISTORY_CAPACITY {
            if let Some(evicted) = state.history.pop_front() {
                state.history_complete_after = evicted.object.revision;
            }
        }
        state.history.push_back(event.clone());
        if let Some(sender) = &state.sender {
            // No receivers is fine: nobody is watching this resource now.
            let _ = sender.send(event);
        }
    }

    /// Objects whose key starts with `prefix`, in key order, that pass `filter`.
    pub fn list(
        &self,
        prefix: &str,
        filter: &dyn Fn(&CachedObject) -> bool,
    ) -> Vec<Arc<CachedObject>> {
        let Ok(state) = self.state.read() else {
            return Vec::new();
        };
        state
            .objects
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(_, o)| filter(o))
            .map(|(_, o)| o.clone())
            .collect()
    }

    pub fn get(&self, key: &str) -> Option<Arc<CachedObject>> {
        self.state.read().ok()?.objects.get(key).cloned()
    }

    pub fn len(&self) -> usize {
        self.state.read().map(|s| s.objects.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Subscribe to changes after revision `after`. None when the cache no longer holds every event
    /// since then (the caller falls back to a storage watch).
    /// Whether every event after `revision` is still in the history.
    pub fn has_history_after(&self, revision: i64) -> bool {
        self.state
            .read()
            .is_ok_and(|state| revision >= state.history_complete_after)
    }

    pub fn subscribe_after(&self, after: i64) -> Option<Subscription> {
        let mut state = self.state.write().ok()?;
        if after < state.history_complete_after {
            return None;
        }
        let replay = state
            .history
            .iter()
            .filter(|e| e.object.revision > after)
            .cloned()
            .collect();
        Some(Subscription {
            replay,
            live: state.sender().subscribe(),
        })
    }

    /// Subscribe to live changes and take a snapshot of the current objects at the same instant.
    pub fn snapshot_and_subscribe(&self, prefix: &str) -> Option<Snapshot> {
        self.snapshot_and_subscribe_at(prefix)
            .map(|(snapshot, _)| snapshot)
    }

    /// As [`Self::snapshot_and_subscribe`], with the [`Self::generation`] the snapshot is at:
    /// every later change bumps it by one and sends one event.
    pub fn snapshot_and_subscribe_at(&self, prefix: &str) -> Option<(Snapshot, u64)> {
        let mut state = self.state.write().ok()?;
        let generation = self.generation();
        let objects = state
            .objects
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, o)| o.clone())
            .collect();
        let receiver = state.sender().subscribe();
        Some(((objects, receiver), generation))
    }

    pub fn watcher_count(&self) -> usize {
        self.state
            .read()
            .map(|s| s.sender.as_ref().map_or(0, |t| t.receiver_count()))
            .unwrap_or(0)
    }
}

impl ResourceCache {
    /// Replace everything after a relist; current watchers are closed and resume on their own.
    pub fn reset(&self, objects: Vec<CachedObject>, revision: i64) {
        let Ok(mut state) = self.state.write() else {
            return;
        };
        state.objects = objects
            .into_iter()
            .map(|o| (o.key.clone(), Arc::new(o)))
            .collect();
        self.generation.fetch_add(1, Ordering::AcqRel);
        state.history.clear();
        state.history_complete_after = revision;
        // Dropping the sender closes every current watcher.
        state.sender = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(name: &str, revision: i64) -> CachedObject {
        CachedObject::new(
            format!("/registry/configmaps/default/{name}"),
            revision,
            json!({"metadata": {"name": name}}),
        )
    }

    /// The object as storage keeps it: without its resourceVersion.
    fn stored(object: &Value) -> Vec<u8> {
        serde_json::to_vec(object).unwrap()
    }

    #[test]
    fn a_stored_object_is_cached_as_the_parsed_object_would_be() {
        let objects = [
            json!({"kind": "Pod", "apiVersion": "v1",
                   "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "web"},
                                "managedFields": [{"manager": "m", "fieldsV1": {"f:spec": {}}}]},
                   "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]},
                   "status": {"phase": "Running", "podIPs": [{"ip": "10.42.0.9"}]}}),
            json!({"kind": "Event", "metadata": {}, "involvedObject": {"kind": "Pod", "name": "p"},
                   "reason": "Started", "message": "text with \"quotes\" and \u{e9}"}),
            json!({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}),
        ];
        for object in objects {
            let from_stored =
                CachedObject::from_stored("/registry/x/ns/p".into(), 42, &stored(&object)).unwrap();
            let from_value = CachedObject::new("/registry/x/ns/p".into(), 42, object.clone());
            assert_eq!(from_stored.selectable, from_value.selectable, "{object}");
            assert_eq!(from_stored.value(), from_value.value(), "{object}");
            assert_eq!(from_stored.value()["metadata"]["resourceVersion"], "42");
            assert_eq!(from_stored.revision, 42);
        }
    }

    #[test]
    fn stored_objects_of_other_shapes_take_the_long_way() {
        // No metadata, metadata that is not an object, a resourceVersion already stored.
        let objects = [
            json!({"kind": "X"}),
            json!({"kind": "X", "metadata": "odd"}),
            json!({"kind": "X", "metadata": {"name": "x", "resourceVersion": "3"}}),
        ];
        for object in objects {
            let from_stored = CachedObject::from_stored("/k".into(), 7, &stored(&object)).unwrap();
            let from_value = CachedObject::new("/k".into(), 7, object.clone());
            assert_eq!(from_stored.value(), from_value.value(), "{object}");
        }
        assert!(CachedObject::from_stored("/k".into(), 7, b"{\"kind\":").is_err());
    }

    #[test]
    fn partial_metadata_copies_the_metadata_and_nothing_else() {
        let cached = CachedObject::new(
            "/registry/pods/default/p".into(),
            9,
            json!({"kind": "Pod", "apiVersion": "v1",
                   "metadata": {"name": "p", "labels": {"a": "b\"c"}},
                   "spec": {"containers": [{"name": "c"}]}}),
        );
        let partial: Value = serde_json::from_slice(&cached.partial_metadata_json()).unwrap();
        assert_eq!(
            partial,
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                   "metadata": {"name": "p", "labels": {"a": "b\"c"}, "resourceVersion": "9"}})
        );
        let bare = CachedObject::new("/registry/x/y".into(), 1, json!({"kind": "X"}));
        let partial: Value = serde_json::from_slice(&bare.partial_metadata_json()).unwrap();
        assert_eq!(partial["metadata"], json!({}));
    }

    #[test]
    fn events_are_classified_and_replayed_after_a_revision() {
        let cache = ResourceCache::new(1);
        cache.apply(CacheEventKind::Added, object("a", 2));
        cache.apply(CacheEventKind::Added, object("a", 3));
        cache.apply(CacheEventKind::Deleted, object("a", 4));
        let sub = cache.subscribe_after(2).expect("history covers revision 2");
        let kinds: Vec<_> = sub
            .replay
            .iter()
            .map(|e| (e.kind, e.object.revision))
            .collect();
        assert_eq!(
            kinds,
            vec![(CacheEventKind::Modified, 3), (CacheEventKind::Deleted, 4)]
        );
        assert!(cache.is_empty());
        assert!(
            cache.subscribe_after(0).is_none(),
            "before the cache started"
        );
    }

    #[test]
    fn snapshot_and_live_events_do_not_overlap() {
        let cache = ResourceCache::new(0);
        cache.apply(CacheEventKind::Added, object("a", 1));
        let (objects, mut live) = cache
            .snapshot_and_subscribe("/registry/configmaps/")
            .unwrap();
        cache.apply(CacheEventKind::Added, object("b", 2));
        assert_eq!(objects.len(), 1);
        let next = live.try_recv().unwrap();
        assert_eq!(next.object.revision, 2);
        assert!(live.try_recv().is_err());
        assert_eq!(cache.list("/registry/configmaps/", &|_| true).len(), 2);
        assert_eq!(object("x", 7).value()["metadata"]["resourceVersion"], "7");
    }

    #[test]
    fn each_live_event_after_a_snapshot_is_one_generation() {
        let cache = ResourceCache::new(0);
        cache.apply(CacheEventKind::Added, object("a", 1));
        let ((_, mut live), at) = cache
            .snapshot_and_subscribe_at("/registry/configmaps/")
            .unwrap();
        assert_eq!(at, cache.generation());
        cache.apply(CacheEventKind::Added, object("b", 2));
        cache.apply(CacheEventKind::Deleted, object("a", 3));
        let mut seen = at;
        while live.try_recv().is_ok() {
            seen += 1;
        }
        assert_eq!(seen, cache.generation());
        // A relist sends nothing: whoever counts events is behind from then on.
        cache.reset(Vec::new(), 4);
        assert_ne!(seen, cache.generation());
    }
}
