//! The task that keeps every resource cache in step with storage.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use storage::{Backend, EventKind, RangeRequest, StorageError};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::resource_cache::{CacheEventKind, CachedObject, ResourceCache};

/// The root of every key the API server writes.
pub const REGISTRY_ROOT: &str = "/registry/";

/// All resource caches, and the store revision they have all reached.
pub struct WatchCache {
    caches: HashMap<String, Arc<ResourceCache>>,
    revision: watch::Receiver<i64>,
}

impl WatchCache {
    /// The cache for the resource stored under `/registry/<storage_resource>/`.
    pub fn resource(&self, storage_resource: &str) -> Option<&Arc<ResourceCache>> {
        self.caches.get(storage_resource)
    }

    /// The store revision every cache has applied.
    pub fn revision(&self) -> i64 {
        *self.revision.borrow()
    }

    /// Wait until the caches have applied `revision` (false on timeout).
    pub async fn wait_for_revision(&self, revision: i64, timeout: Duration) -> bool {
        let mut rx = self.revision.clone();
        let reached = tokio::time::timeout(timeout, rx.wait_for(|r| *r >= revision)).await;
        matches!(reached, Ok(Ok(_)))
    }

    pub fn watcher_count(&self) -> usize {
        self.caches.values().map(|c| c.watcher_count()).sum()
    }
}

/// Which cache a key belongs to: `/registry/<storage_resource>/...` where storage_resource has one
/// or two segments (`services/specs`).
fn route<'a>(
    caches: &'a HashMap<String, Arc<ResourceCache>>,
    key: &str,
) -> Option<&'a Arc<ResourceCache>> {
    let rest = key.strip_prefix(REGISTRY_ROOT)?;
    let mut segments = rest.splitn(3, '/');
    let first = segments.next()?;
    if let Some(second) = segments.next() {
        if let Some(cache) = caches.get(&format!("{first}/{second}")) {
            return Some(cache);
        }
    }
    caches.get(first)
}

fn decode(key: String, revision: i64, value: &[u8]) -> Option<CachedObject> {
    match CachedObject::from_stored(key.clone(), revision, value) {
        Ok(object) => Some(object),
        Err(error) => {
            tracing::warn!(%key, %error, "skipping undecodable stored object");
            None
        }
    }
}

/// List the whole keyspace into the caches; returns the revision the list was read at.
async fn relist(
    backend: &dyn Backend,
    caches: &HashMap<String, Arc<ResourceCache>>,
) -> Result<i64, StorageError> {
    let response = backend
        .range(RangeRequest {
            prefix: REGISTRY_ROOT.to_string(),
            ..RangeRequest::default()
        })
        .await?;
    let mut per_cache: HashMap<*const ResourceCache, (Arc<ResourceCache>, Vec<CachedObject>)> =
        caches
            .values()
            .map(|c| (Arc::as_ptr(c), (c.clone(), Vec::new())))
            .collect();
    for kv in response.kvs {
        let Some(cache) = route(caches, &kv.key) else {
            continue;
        };
        if let Some(object) = decode(kv.key, kv.mod_revision, &kv.value) {
            if let Some((_, objects)) = per_cache.get_mut(&Arc::as_ptr(cache)) {
                objects.push(object);
            }
        }
    }
    for (cache, objects) in per_cache.into_values() {
        cache.reset(objects, response.revision);
    }
    Ok(response.revision)
}

/// Fill the caches for these storage resources and keep them fed until `cancel`.
pub async fn start_watch_cache(
    backend: Arc<dyn Backend>,
    storage_resources: impl IntoIterator<Item = String>,
    cancel: CancellationToken,
) -> Result<Arc<WatchCache>, StorageError> {
    let caches: HashMap<String, Arc<ResourceCache>> = storage_resources
        .into_iter()
        .map(|r| (r, Arc::new(ResourceCache::new(0))))
        .collect();
    let start = relist(backend.as_ref(), &caches).await?;
    let (tx, rx) = watch::channel(start);
    let cache = Arc::new(WatchCache {
        caches: caches.clone(),
        revision: rx,
    });
    tokio::spawn(feed(backend, caches, tx, start, cancel));
    Ok(cache)
}

async fn feed(
    backend: Arc<dyn Backend>,
    caches: HashMap<String, Arc<ResourceCache>>,
    revision: watch::Sender<i64>,
    mut applied: i64,
    cancel: CancellationToken,
) {
    loop {
        let stream = tokio::select! {
            _ = cancel.cancelled() => return,
            s = backend.watch(REGISTRY_ROOT, applied) => s,
        };
        let mut stream = match stream {
            Ok(stream) => stream,
            Err(error) => {
                applied = recover(backend.as_ref(), &caches, &revision, applied, error).await;
                continue;
            }
        };
        loop {
            let next = tokio::select! {
                _ = cancel.cancelled() => return,
                n = stream.next() => n,
            };
            match next {
                Some(Ok(event)) => {
                    let rev = event.kv.mod_revision;
                    if let Some(cache) = route(&caches, &event.kv.key) {
                        let kind = match event.kind {
                            EventKind::Put => CacheEventKind::Added,
                            EventKind::Delete => CacheEventKind::Deleted,
                        };
                        let value = match (event.kind, &event.prev_kv) {
                            (EventKind::Delete, Some(prev)) if event.kv.value.is_empty() => {
                                prev.value.as_slice()
                            }
                            _ => event.kv.value.as_slice(),
                        };
                        if let Some(object) = decode(event.kv.key.clone(), rev, value) {
                            cache.apply(kind, object);
                        }
                    }
                    applied = rev;
                    revision.send_replace(rev);
                }
                Some(Err(error)) => {
                    applied = recover(backend.as_ref(), &caches, &revision, applied, error).await;
                    break;
                }
                None => break,
            }
        }
    }
}

/// After a failed storage watch: wait a moment, and relist when history was compacted away.
async fn recover(
    backend: &dyn Backend,
    caches: &HashMap<String, Arc<ResourceCache>>,
    revision: &watch::Sender<i64>,
    applied: i64,
    error: StorageError,
) -> i64 {
    tracing::warn!(%error, "watch cache lost its storage watch");
    tokio::time::sleep(Duration::from_millis(100)).await;
    if !matches!(error, StorageError::Compacted { .. }) {
        return applied;
    }
    match relist(backend, caches).await {
        Ok(rev) => {
            revision.send_replace(rev);
            rev
        }
        Err(error) => {
            tracing::warn!(%error, "watch cache relist failed");
            applied
        }
    }
}
