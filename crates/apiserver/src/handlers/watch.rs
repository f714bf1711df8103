//! watch: a stream of JSON events, served from the watch cache (or from storage for revisions the
//! cache no longer holds, such as after a restart).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::{BufMut, Bytes, BytesMut};
use futures::StreamExt;
use rand::Rng;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use api::ResourceInfo;
use storage::EventKind;

use super::output::table;
use super::resource::Target;
use crate::http::negotiate::Representation;
use crate::http::response::HttpResponse;
use crate::registry::filter::ObjectFilter;
use crate::registry::keys::collection_prefix;
use crate::registry::storage_errors::api_error;
use crate::registry::store::storage_resource;
use crate::registry::versions::present;
use crate::server::{ApiServer, RequestContext};
use crate::status::ApiError;
use crate::watch_cache::{CacheEvent, CacheEventKind, CachedObject, Subscription};

const BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);
/// How often a watch served from storage looks whether the cache's history has caught up.
const HANDOVER_CHECK: Duration = Duration::from_secs(1);

/// How events are written for this watcher.
struct Encoder {
    info: &'static ResourceInfo,
    representation: Representation,
    include_object: String,
    sent_columns: bool,
}

impl Encoder {
    fn event(&mut self, kind: &str, object: &CachedObject) -> Bytes {
        let mut out = BytesMut::with_capacity(object.json.len() + 32);
        out.put_slice(b"{\"type\":\"");
        out.put_slice(kind.as_bytes());
        out.put_slice(b"\",\"object\":");
        match self.representation {
            Representation::Object => out.put_slice(&object.json),
            Representation::PartialObjectMetadata => out.put_slice(&object.partial_metadata_json()),
            Representation::Table => {
                let include = self.include_object.clone();
                let rv = object.revision.to_string();
                let value = object.value();
                let shaped = table(
                    self.info,
                    &[&value],
                    &include,
                    json!({"resourceVersion": rv}),
                    !self.sent_columns,
                );
                self.sent_columns = true;
                out.put_slice(&serde_json::to_vec(&shaped).unwrap_or_default());
            }
        }
        out.put_slice(b"}\n");
        out.freeze()
    }

    fn bookmark(&self, revision: i64, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": revision.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let (kind, api_version) = match self.representation {
            Representation::Object => (self.info.kind.to_string(), self.info.api_version()),
            Representation::Table => ("Table".to_string(), "meta.k8s.io/v1".to_string()),
            Representation::PartialObjectMetadata => (
                "PartialObjectMetadata".to_string(),
                "meta.k8s.io/v1".to_string(),
            ),
        };
        let event = json!({
            "type": "BOOKMARK",
            "object": {"kind": kind, "apiVersion": api_version, "metadata": metadata},
        });
        let mut bytes = serde_json::to_vec(&event).unwrap_or_default();
        bytes.push(b'\n');
        Bytes::from(bytes)
    }

    fn error(error: &ApiError) -> Bytes {
        let event = json!({"type": "ERROR", "object": error.to_status()});
        let mut bytes = serde_json::to_vec(&event).unwrap_or_default();
        bytes.push(b'\n');
        Bytes::from(bytes)
    }
}

/// The event in the watched resource's version.
fn presented(info: &ResourceInfo, event: Arc<CacheEvent>) -> Arc<CacheEvent> {
    if info.is_storage_version() {
        return event;
    }
    Arc::new(CacheEvent {
        kind: event.kind,
        object: present(info, &event.object),
        previous: event.previous.as_ref().map(|p| present(info, p)),
    })
}

/// The event a watcher sees for a change, given its filter: objects entering the selection are
/// ADDED, objects leaving it are DELETED.
fn visible_event<'a>(
    event: &'a CacheEvent,
    filter: &ObjectFilter,
    prefix: &str,
) -> Option<(&'static str, &'a CachedObject)> {
    if !event.object.key.starts_with(prefix) {
        return None;
    }
    let now = filter.matches(&event.object.selectable);
    let before = event
        .previous
        .as_ref()
        .is_some_and(|p| filter.matches(&p.selectable));
    let kind = match (event.kind, before, now) {
        (CacheEventKind::Deleted, _, true) => "DELETED",
        (CacheEventKind::Deleted, true, _) => "DELETED",
        (CacheEventKind::Deleted, false, false) => return None,
        (_, true, true) => "MODIFIED",
        (_, false, true) => "ADDED",
        (_, true, false) => "DELETED",
        (_, false, false) => return None,
    };
    Some((kind, &event.object))
}

struct WatchPlan {
    encoder: Encoder,
    filter: ObjectFilter,
    prefix: String,
    segment: &'static str,
    start: Option<i64>,
    send_initial: bool,
    bookmarks: bool,
    timeout: Duration,
}

pub async fn watch(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
) -> Result<HttpResponse, ApiError> {
    let info = target.info;
    // Watch streams are newline-delimited JSON events.
    if ctx.accept.encoding != crate::http::negotiate::Encoding::Json {
        return Err(ApiError::not_acceptable());
    }
    let filter = ObjectFilter::from_query(info, &ctx.query)?;
    let segment = storage_resource(info)?;
    let mut prefix = collection_prefix(segment, target.namespace);
    // A single-object watch (kubectl wait, rollout status) narrows the prefix to the object's key;
    // across all namespaces a name is not one key.
    let spans_namespaces = info.namespaced && target.namespace.is_none();
    if let Some(name) = filter.pinned_name().filter(|_| !spans_namespaces) {
        prefix = crate::registry::keys::object_key(segment, target.namespace, &name);
    }
    let start = match ctx.query.non_empty("resourceVersion") {
        None => None,
        Some(rv) => Some(
            rv.parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv:?}")))?,
        ),
    };
    let timeout = match ctx
        .query
        .int("timeoutSeconds")
        .map_err(ApiError::bad_request)?
    {
        Some(seconds) if seconds > 0 => Duration::from_secs(seconds.unsigned_abs()),
        _ => Duration::from_secs(1800 + rand::rng().random_range(0..1800)),
    };
    let plan = WatchPlan {
        encoder: Encoder {
            info,
            representation: ctx.accept.representation,
            include_object: ctx
                .query
                .get("includeObject")
                .unwrap_or("Metadata")
                .to_string(),
            sent_columns: false,
        },
        filter,
        prefix,
        segment,
        start,
        send_initial: ctx.query.get("sendInitialEvents") == Some("true"),
        bookmarks: ctx.query.flag("allowWatchBookmarks"),
        timeout,
    };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let registry_cache = server.registry.cache.clone();
    let backend = server.registry.store.backend.clone();
    tokio::spawn(async move {
        let deadline = tokio::time::sleep(plan.timeout);
        tokio::pin!(deadline);
        tokio::select! {
            _ = &mut deadline => {}
            _ = run_watch(plan, registry_cache, backend, tx) => {}
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, std::convert::Infallible>(bytes), rx))
    });
    let mut response = http::Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache, private"),
    );
    Ok(response)
}

async fn run_watch(
    mut plan: WatchPlan,
    cache: Arc<crate::watch_cache::WatchCache>,
    backend: Arc<dyn storage::Backend>,
    tx: mpsc::Sender<Bytes>,
) {
    let initial = plan.send_initial || matches!(plan.start, None | Some(0));
    let Some(resource) = cache.resource(plan.segment).cloned() else {
        watch_uncached(plan, backend, initial, tx).await;
        return;
    };
    let live: broadcast::Receiver<Arc<CacheEvent>>;
    let mut last_sent;
    if initial {
        if let Some(rv) = plan.start.filter(|rv| *rv > 0) {
            cache.wait_for_revision(rv, Duration::from_secs(3)).await;
        }
        // Every event up to this revision is in the snapshot; later ones arrive on the receiver.
        let applied_before_snapshot = cache.revision();
        let Some((objects, receiver)) = resource.snapshot_and_subscribe(&plan.prefix) else {
            return;
        };
        last_sent = objects
            .iter()
            .map(|o| o.revision)
            .fold(applied_before_snapshot, i64::max);
        let info = plan.encoder.info;
        let objects: Vec<Arc<CachedObject>> = objects.iter().map(|o| present(info, o)).collect();
        for object in objects
            .iter()
            .filter(|o| plan.filter.matches(&o.selectable))
        {
            if tx.send(plan.encoder.event("ADDED", object)).await.is_err() {
                return;
            }
        }
        if plan.send_initial
            && plan.bookmarks
            && tx
                .send(plan.encoder.bookmark(last_sent, true))
                .await
                .is_err()
        {
            return;
        }
        live = receiver;
    } else {
        let after = plan.start.unwrap_or(0);
        if !cache.wait_for_revision(after, Duration::from_secs(3)).await {
            let error = ApiError::timeout(format!(
                "Too large resource version: {after}, current: {}",
                cache.revision()
            ));
            let _ = tx.send(Encoder::error(&error)).await;
            return;
        }
        let (subscription, after) = match resource.subscribe_after(after) {
            Some(subscription) => (subscription, after),
            // Older than the history: storage first, the cache once storage has caught up.
            None => match watch_from_storage(&mut plan, backend, after, &tx, Some(&resource)).await
            {
                Some(handover) => handover,
                None => return,
            },
        };
        last_sent = after;
        for event in &subscription.replay {
            let event = &presented(plan.encoder.info, event.clone());
            if let Some((kind, object)) = visible_event(event, &plan.filter, &plan.prefix) {
                if tx.send(plan.encoder.event(kind, object)).await.is_err() {
                    return;
                }
            }
            last_sent = last_sent.max(event.object.revision);
        }
        live = subscription.live;
    }
    stream_live(&mut plan, &cache, live, last_sent, &tx).await;
}

async fn stream_live(
    plan: &mut WatchPlan,
    cache: &crate::watch_cache::WatchCache,
    mut live: broadcast::Receiver<Arc<CacheEvent>>,
    mut last_sent: i64,
    tx: &mpsc::Sender<Bytes>,
) {
    let mut bookmark_timer = tokio::time::interval(BOOKMARK_INTERVAL);
    bookmark_timer.tick().await;
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(event) => {
                    if event.object.revision <= last_sent {
                        continue;
                    }
                    let event = presented(plan.encoder.info, event);
                    if let Some((kind, object)) = visible_event(&event, &plan.filter, &plan.prefix) {
                        if tx.send(plan.encoder.event(kind, object)).await.is_err() {
                            return;
                        }
                    }
                    last_sent = event.object.revision;
                }
                // Lagging or a cache reset: end the watch; the client resumes from its last revision.
                Err(_) => return,
            },
            _ = bookmark_timer.tick(), if plan.bookmarks => {
                let revision = cache.revision();
                if live.is_empty() && revision > last_sent {
                    if tx.send(plan.encoder.bookmark(revision, false)).await.is_err() {
                        return;
                    }
                    last_sent = revision;
                }
            }
            _ = tx.closed() => return,
        }
    }
}

/// A stored object as this watch's version presents it; None when it does not decode.
fn decode_stored(info: &'static ResourceInfo, bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| crate::registry::versions::from_storage(info, v).ok())
}

/// A resource the watch cache does not hold (Events): the initial state read from storage,
/// then storage's watch from that revision.
async fn watch_uncached(
    mut plan: WatchPlan,
    backend: Arc<dyn storage::Backend>,
    initial: bool,
    tx: mpsc::Sender<Bytes>,
) {
    let info = plan.encoder.info;
    if !initial {
        let after = plan.start.unwrap_or(0);
        watch_from_storage(&mut plan, backend, after, &tx, None).await;
        return;
    }
    let listed = match backend
        .range(storage::RangeRequest {
            prefix: plan.prefix.clone(),
            ..storage::RangeRequest::default()
        })
        .await
    {
        Ok(listed) => listed,
        Err(error) => {
            let _ = tx.send(Encoder::error(&api_error(info, "", error))).await;
            return;
        }
    };
    for kv in listed.kvs {
        let Some(value) = decode_stored(info, &kv.value) else {
            continue;
        };
        let object = CachedObject::new(kv.key, kv.mod_revision, value);
        if plan.filter.matches(&object.selectable)
            && tx.send(plan.encoder.event("ADDED", &object)).await.is_err()
        {
            return;
        }
    }
    if plan.send_initial
        && plan.bookmarks
        && tx
            .send(plan.encoder.bookmark(listed.revision, true))
            .await
            .is_err()
    {
        return;
    }
    watch_from_storage(&mut plan, backend, listed.revision, &tx, None).await;
}

/// For revisions older than the cache's history: replay and follow storage directly. With a
/// `handover` cache, return a subscription to it (and the revision sent so far) as soon as its
/// history reaches back to what was sent: a storage watch decodes every event for itself, a
/// cache subscription shares the cache's.
async fn watch_from_storage(
    plan: &mut WatchPlan,
    backend: Arc<dyn storage::Backend>,
    after: i64,
    tx: &mpsc::Sender<Bytes>,
    handover: Option<&Arc<crate::watch_cache::ResourceCache>>,
) -> Option<(Subscription, i64)> {
    let info = plan.encoder.info;
    let mut stream = match backend.watch(&plan.prefix, after).await {
        Ok(stream) => stream,
        Err(error) => {
            let _ = tx.send(Encoder::error(&api_error(info, "", error))).await;
            return None;
        }
    };
    let mut last_sent = after;
    let mut handover_check = tokio::time::interval(HANDOVER_CHECK);
    loop {
        if let Some(cache) = handover.filter(|c| c.has_history_after(last_sent)) {
            if let Some(subscription) = cache.subscribe_after(last_sent) {
                return Some((subscription, last_sent));
            }
        }
        let item = tokio::select! {
            item = stream.next() => item?,
            _ = handover_check.tick() => continue,
            _ = tx.closed() => return None,
        };
        let event = match item {
            Ok(event) => event,
            Err(error) => {
                let _ = tx.send(Encoder::error(&api_error(info, "", error))).await;
                return None;
            }
        };
        let revision = event.kv.mod_revision;
        let decode = |bytes: &[u8]| decode_stored(info, bytes);
        let (kind, value) = match event.kind {
            EventKind::Put => (
                if event.prev_kv.is_some() {
                    CacheEventKind::Modified
                } else {
                    CacheEventKind::Added
                },
                decode(&event.kv.value),
            ),
            EventKind::Delete => (
                CacheEventKind::Deleted,
                event
                    .prev_kv
                    .as_ref()
                    .and_then(|p| decode(&p.value))
                    .or_else(|| decode(&event.kv.value)),
            ),
        };
        last_sent = last_sent.max(revision);
        let Some(value) = value else { continue };
        let previous = event.prev_kv.as_ref().and_then(|p| {
            decode(&p.value).map(|v| Arc::new(CachedObject::new(p.key.clone(), p.mod_revision, v)))
        });
        let cache_event = CacheEvent {
            kind,
            object: Arc::new(CachedObject::new(event.kv.key.clone(), revision, value)),
            previous,
        };
        if let Some((kind, object)) = visible_event(&cache_event, &plan.filter, &plan.prefix) {
            if tx.send(plan.encoder.event(kind, object)).await.is_err() {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::query::Query;
    use crate::watch_cache::{start_watch_cache, HISTORY_CAPACITY};
    use storage::{Backend, Precondition};
    use tokio_util::sync::CancellationToken;

    async fn put(backend: &Arc<dyn Backend>, name: String, generation: usize) -> i64 {
        let object = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"},
            "data": {"generation": generation.to_string()}});
        let key = format!("/registry/configmaps/default/{name}");
        let written = backend
            .put(
                &key,
                object.to_string().into_bytes(),
                Precondition::None,
                None,
            )
            .await
            .unwrap();
        written.mod_revision
    }

    fn plan(start: i64) -> WatchPlan {
        let info = api::catalog::find("", "v1", "configmaps").unwrap();
        WatchPlan {
            encoder: Encoder {
                info,
                representation: Representation::Object,
                include_object: "Metadata".into(),
                sent_columns: false,
            },
            filter: ObjectFilter::from_query(info, &Query::parse(None)).unwrap(),
            prefix: "/registry/configmaps/".into(),
            segment: "configmaps",
            start: Some(start),
            send_initial: false,
            bookmarks: false,
            timeout: Duration::from_secs(60),
        }
    }

    /// A watch from a revision the cache's history no longer holds is served from storage,
    /// then moves to a cache subscription without losing or repeating an event.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_watch_from_storage_moves_to_the_cache_once_caught_up() {
        let dir = tempfile::tempdir().unwrap();
        let backend: Arc<dyn Backend> = Arc::new(
            storage::embedded::EmbeddedBackend::open(dir.path().join("db"))
                .await
                .unwrap(),
        );
        let cancel = CancellationToken::new();
        let cache = start_watch_cache(backend.clone(), ["configmaps".to_string()], cancel.clone())
            .await
            .unwrap();
        let start = put(&backend, "old".into(), 0).await;
        let changes = HISTORY_CAPACITY + 50;
        for batch in (1..=changes).collect::<Vec<_>>().chunks(256) {
            futures::future::join_all(batch.iter().map(|i| put(&backend, format!("cm{i}"), *i)))
                .await;
        }
        let current = backend.current_revision().await.unwrap();
        assert!(
            cache
                .wait_for_revision(current, Duration::from_secs(10))
                .await
        );
        let resource = cache.resource("configmaps").unwrap().clone();
        assert!(!resource.has_history_after(start));

        let (tx, mut rx) = mpsc::channel(256);
        tokio::spawn(run_watch(plan(start), cache.clone(), backend.clone(), tx));
        let mut revisions = Vec::new();
        while revisions.len() < changes {
            let line = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .unwrap()
                .unwrap();
            let event: Value = serde_json::from_slice(&line).unwrap();
            let rv = event["object"]["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .unwrap();
            revisions.push(rv);
        }
        // Caught up: the watch now listens to the cache.
        let mut waited = 0;
        while resource.watcher_count() == 0 && waited < 50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            waited += 1;
        }
        assert_eq!(resource.watcher_count(), 1);
        let last = put(&backend, "after-handover".into(), 1).await;
        let line = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        let event: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(event["object"]["metadata"]["name"], "after-handover");
        revisions.push(last);
        let mut sorted = revisions.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, revisions, "events in order, none repeated");
        assert_eq!(revisions.len(), changes + 1);
        cancel.cancel();
    }
}
