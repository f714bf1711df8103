//! One watch per widely watched resource (Pods, Nodes), shared by every controller.
//!
//! Each [`SharedInformer`] runs a single watch that fills one [`Store`] and fans every change out
//! to its subscribers, so a pod change is decoded and cached once, not once per controller.
//! Unlike kube-runtime's shared reflector, deletions reach subscribers too, and a subscriber that
//! joins late (a restarted controller) first sees every object already in the store.
//!
//! The cached objects carry no `metadata.managedFields`: no controller reads them, they are a
//! large part of every object, and an update that omits them keeps the stored ones. They are
//! skipped while the watch is decoded ([`WithoutManagedFields`]), not parsed and dropped. Cached Pods
//! carry no `spec.volumes` either ([`WithoutManagedFieldsOrVolumes`]): as typed structs a pod's
//! volumes take more memory than the rest of its spec (every volume source is an inline field of
//! `Volume`), about 5 KB of the 15 KB a typical pod takes for the service account token volume
//! alone, and no controller reads them from the store (the StatefulSet controller writes volumes
//! into the pods it creates from its template, it does not compare them). A controller that
//! needs a pod's volumes reads the pod from the API or runs its own watch.

use std::fmt::Debug;
use std::sync::Arc;

use async_broadcast::{InactiveReceiver, Sender};
use futures::{stream, Stream, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use api::without_managed_fields::{Decoded, WithoutManagedFields, WithoutManagedFieldsOrVolumes};

use crate::owner_index::OwnerIndex;

/// How many changes may wait for the slowest subscriber before the watch pauses.
const CHANGE_BUFFER: usize = 1024;

/// How often [`wait_until_listed`] looks at a store again.
const LISTED_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// Waits until `store` holds its first complete list; Err when its writer is gone.
///
/// kube-runtime's `Store::wait_until_ready` wakes only the most recent of several concurrent
/// waiters (a oneshot channel underneath), and shared stores have several: so look again every
/// so often rather than trusting a wake-up.
pub async fn wait_until_listed<K>(store: &Store<K>) -> Result<(), reflector::store::WriterDropped>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    loop {
        if let Ok(ready) = tokio::time::timeout(LISTED_POLL, store.wait_until_ready()).await {
            return ready;
        }
    }
}

/// The shared informers every controller reads Pods and Nodes from.
#[derive(Clone)]
pub struct Informers {
    pub pods: SharedInformer<Pod>,
    /// The cached pods' controllers (see [`OwnerIndex`]); Nodes have none to index.
    pub pod_owners: Arc<OwnerIndex>,
    pub nodes: SharedInformer<Node>,
}

impl Informers {
    /// Start watching all Pods and Nodes; the watches stop when `cancel` fires.
    pub fn spawn(client: Client, cancel: &CancellationToken) -> Self {
        let pod_owners = Arc::new(OwnerIndex::default());
        Self {
            pods: SharedInformer::spawn(
                Api::<WithoutManagedFieldsOrVolumes<Pod>>::all(client.clone()),
                Some(pod_owners.clone()),
                cancel.clone(),
            ),
            pod_owners,
            nodes: SharedInformer::spawn(
                Api::<WithoutManagedFields<Node>>::all(client),
                None,
                cancel.clone(),
            ),
        }
    }
}

/// One object changing in the watched collection.
#[derive(Clone)]
enum Change<K> {
    Applied(Arc<K>),
    Deleted(Arc<K>),
}

/// A single watch of one resource kind: its cache and a feed of its changes.
pub struct SharedInformer<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    store: Store<K>,
    changes: InactiveReceiver<Change<K>>,
}

impl<K> Clone for SharedInformer<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            changes: self.changes.clone(),
        }
    }
}

impl<K> SharedInformer<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Default + Send + Sync,
{
    /// Start the watch of `api` as its own task; it runs until `cancel` fires. `api` decodes
    /// into a wrapper that leaves out what no subscriber reads; `owners`, when given, indexes the
    /// cached objects by controller.
    pub fn spawn<W>(api: Api<W>, owners: Option<Arc<OwnerIndex>>, cancel: CancellationToken) -> Self
    where
        W: Decoded<Object = K> + Resource + Clone + DeserializeOwned + Debug + Send + 'static,
        W::DynamicType: Default,
    {
        let (store, writer) = reflector::store();
        let (mut sender, receiver) = async_broadcast::broadcast(CHANGE_BUFFER);
        sender.set_await_active(false);
        let watch = watcher(api, watcher::Config::default())
            .default_backoff()
            .map_ok(unwrap_event)
            .reflect(writer);
        let index = Indexing {
            store: store.clone(),
            owners,
        };
        tokio::spawn(async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                () = fan_out(watch, sender, index) => {}
            }
        });
        Self {
            store,
            changes: receiver.deactivate(),
        }
    }

    /// The shared cache of every watched object.
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// Every object created or updated (and, on subscribing, every object already cached).
    pub fn applied_objects(&self) -> impl Stream<Item = Arc<K>> + Send + 'static {
        self.subscribe().filter_map(|change| async move {
            match change {
                Change::Applied(object) => Some(object),
                Change::Deleted(_) => None,
            }
        })
    }

    /// Every object created, updated or deleted (and, on subscribing, every object cached).
    pub fn touched_objects(&self) -> impl Stream<Item = Arc<K>> + Send + 'static {
        self.subscribe().map(|change| match change {
            Change::Applied(object) | Change::Deleted(object) => object,
        })
    }

    /// The cached objects as they are now, then every later change.
    fn subscribe(&self) -> impl Stream<Item = Change<K>> + Send + 'static {
        let live = self.changes.activate_cloned();
        let cached = self.store.state().into_iter().map(Change::Applied);
        stream::iter(cached).chain(live)
    }
}

/// The watch event of a decoded object.
fn unwrap_event<W: Decoded>(event: watcher::Event<W>) -> watcher::Event<W::Object> {
    match event {
        watcher::Event::Apply(object) => watcher::Event::Apply(object.into_object()),
        watcher::Event::Delete(object) => watcher::Event::Delete(object.into_object()),
        watcher::Event::Init => watcher::Event::Init,
        watcher::Event::InitApply(object) => watcher::Event::InitApply(object.into_object()),
        watcher::Event::InitDone => watcher::Event::InitDone,
    }
}

/// The store the reflector fills and the owner index kept beside it, if any.
struct Indexing<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    store: Store<K>,
    owners: Option<Arc<OwnerIndex>>,
}

/// Index every change the reflected watch yields and pass it on to the subscribers.
async fn fan_out<K>(
    watch: impl Stream<Item = Result<watcher::Event<K>, watcher::Error>>,
    sender: Sender<Change<K>>,
    index: Indexing<K>,
) where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    let mut watch = std::pin::pin!(watch);
    while let Some(event) = watch.next().await {
        let change = match event {
            Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object)) => {
                if let Some(owners) = &index.owners {
                    owners.apply(object.meta());
                }
                Change::Applied(Arc::new(object))
            }
            Ok(watcher::Event::Delete(object)) => {
                if let Some(owners) = &index.owners {
                    owners.delete(object.meta());
                }
                Change::Deleted(Arc::new(object))
            }
            // A (re-)list reports no deletions: the store now holds exactly what is listed.
            Ok(watcher::Event::InitDone) => {
                if let Some(owners) = &index.owners {
                    let listed = index.store.state();
                    owners.rebuild(listed.iter().map(|object| object.meta()));
                }
                continue;
            }
            Ok(watcher::Event::Init) => continue,
            Err(error) => {
                tracing::debug!(%error, "shared watch");
                continue;
            }
        };
        // Fails only when nobody subscribes yet; late subscribers start from the store.
        let _ = sender.broadcast_direct(change).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn watched_pods_are_decoded_without_volumes() {
        let event = json!({"type": "ADDED", "object": {"metadata": {"name": "p",
            "managedFields": [{"manager": "m"}]},
            "spec": {"nodeName": "n1", "volumes": [{"name": "data", "emptyDir": {}}],
                "containers": [{"name": "c", "volumeMounts": [{"name": "data", "mountPath": "/d"}]}]}}});
        let decoded: kube::api::WatchEvent<WithoutManagedFieldsOrVolumes<Pod>> =
            serde_json::from_value(event).unwrap();
        let kube::api::WatchEvent::Added(decoded) = decoded else {
            panic!("an added pod")
        };
        let watcher::Event::Apply(pod) = unwrap_event(watcher::Event::Apply(decoded)) else {
            panic!("an applied pod")
        };
        assert!(pod.metadata.managed_fields.is_none());
        let spec = pod.spec.expect("spec stays");
        assert!(spec.volumes.is_none());
        assert_eq!(spec.node_name.as_deref(), Some("n1"));
        assert!(spec.containers[0].volume_mounts.is_some());
    }
}
