//! delete, deletecollection and pod eviction.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::{stream, StreamExt};

use serde_json::{json, Value};

use super::decode::is_dry_run;
use super::output::{list_metadata, list_response, object_response};
use super::resource::Target;
use crate::http::response::HttpResponse;
use crate::registry::filter::ObjectFilter;
use crate::registry::keys::collection_prefix;
use crate::registry::object_meta::{metadata_mut, now_rfc3339, rfc3339_after};
use crate::registry::store::storage_resource;
use crate::server::{ApiServer, RequestContext};
use crate::status::ApiError;
use crate::watch_cache::CachedObject;

/// DeleteOptions from the body and the query.
#[derive(Debug, Default, Clone)]
pub(super) struct DeleteOptions {
    grace_period_seconds: Option<i64>,
    propagation: Option<String>,
    precondition_uid: Option<String>,
    precondition_rv: Option<String>,
    dry_run: bool,
}

pub(super) fn delete_options(ctx: &RequestContext, body: &[u8]) -> Result<DeleteOptions, ApiError> {
    let mut options = DeleteOptions {
        grace_period_seconds: ctx
            .query
            .int("gracePeriodSeconds")
            .map_err(ApiError::bad_request)?,
        propagation: ctx.query.non_empty("propagationPolicy").map(str::to_string),
        dry_run: is_dry_run(ctx)?,
        ..DeleteOptions::default()
    };
    if ctx.query.get("orphanDependents") == Some("true") && options.propagation.is_none() {
        options.propagation = Some("Orphan".into());
    }
    if body.iter().any(|b| !b.is_ascii_whitespace()) {
        let value = super::decode::decode_object(ctx, body)?;
        if let Some(g) = value.get("gracePeriodSeconds").and_then(Value::as_i64) {
            options.grace_period_seconds = Some(g);
        }
        if let Some(p) = value.get("propagationPolicy").and_then(Value::as_str) {
            options.propagation = Some(p.to_string());
        }
        if value.get("orphanDependents") == Some(&json!(true)) && options.propagation.is_none() {
            options.propagation = Some("Orphan".into());
        }
        if let Some(pre) = value.get("preconditions") {
            options.precondition_uid = pre.get("uid").and_then(Value::as_str).map(str::to_string);
            options.precondition_rv = pre
                .get("resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        if let Some(dry) = value.get("dryRun").and_then(Value::as_array) {
            options.dry_run |= dry.iter().any(|d| d == "All");
        }
    }
    if let Some(p) = &options.propagation {
        if !matches!(p.as_str(), "Orphan" | "Background" | "Foreground") {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "DeleteOptions",
                "",
                &[api::FieldError::not_supported(
                    "propagationPolicy",
                    json!(p),
                    &["Foreground", "Background", "Orphan"],
                )],
            ));
        }
    }
    Ok(options)
}

fn finalizers(object: &Value) -> Vec<String> {
    object
        .get("metadata")
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Pods bound to a node and still running end gracefully: the kubelet finishes the deletion.
fn graceful_pod_seconds(object: &Value, requested: Option<i64>) -> Option<i64> {
    if object.get("kind").and_then(Value::as_str) != Some("Pod") {
        return None;
    }
    let spec = object.get("spec")?;
    if spec
        .get("nodeName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        return None;
    }
    let phase = object
        .get("status")
        .and_then(|s| s.get("phase"))
        .and_then(Value::as_str);
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return None;
    }
    let seconds = requested
        .or_else(|| {
            spec.get("terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
        })
        .unwrap_or(30);
    (seconds > 0).then_some(seconds)
}

/// Delete one object, honouring finalizers, graceful pod deletion and preconditions. Returns the
/// object as answered: its last state, or the state marked for deletion.
pub(super) async fn delete_object(
    server: &ApiServer,
    target: &Target<'_>,
    name: &str,
    options: &DeleteOptions,
) -> Result<Value, ApiError> {
    let info = target.info;
    loop {
        let current = server
            .registry
            .store
            .get(info, target.namespace, name)
            .await?;
        let object = &current.object;
        super::preconditions::check(
            info,
            name,
            object,
            current.revision,
            options.precondition_uid.as_deref(),
            options.precondition_rv.as_deref(),
        )?;
        if options.dry_run {
            return Ok(object.clone());
        }
        let mut marked = object.clone();
        let mut wanted_finalizers = finalizers(object);
        match options.propagation.as_deref() {
            Some("Foreground") if !wanted_finalizers.iter().any(|f| f == "foregroundDeletion") => {
                wanted_finalizers.push("foregroundDeletion".into());
            }
            Some("Orphan") if !wanted_finalizers.iter().any(|f| f == "orphan") => {
                wanted_finalizers.push("orphan".into());
            }
            _ => {}
        }
        let already_deleting = object
            .get("metadata")
            .and_then(|m| m.get("deletionTimestamp"))
            .is_some();
        let is_namespace = info.group.is_empty() && info.kind == "Namespace";
        let namespace_finalizers = is_namespace
            && object
                .get("spec")
                .and_then(|s| s.get("finalizers"))
                .and_then(Value::as_array)
                .is_some_and(|f| !f.is_empty());
        let graceful = graceful_pod_seconds(object, options.grace_period_seconds);
        let keep = !wanted_finalizers.is_empty() || namespace_finalizers || graceful.is_some();
        if keep {
            if already_deleting && wanted_finalizers == finalizers(object) {
                return Ok(object.clone());
            }
            if let Some(meta) = metadata_mut(&mut marked) {
                if !already_deleting {
                    let (timestamp, grace) = match graceful {
                        Some(seconds) => (rfc3339_after(seconds), seconds),
                        None => (now_rfc3339(), 0),
                    };
                    meta.insert("deletionTimestamp".into(), json!(timestamp));
                    meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
                }
                if !wanted_finalizers.is_empty() {
                    meta.insert("finalizers".into(), json!(wanted_finalizers));
                }
            }
            if is_namespace {
                marked["status"]["phase"] = json!("Terminating");
            }
            match server
                .registry
                .store
                .replace(info, target.namespace, name, marked, current.revision)
                .await
            {
                Ok(updated) => return Ok(updated),
                Err(error) if error.code == 409 && options.precondition_rv.is_none() => continue,
                Err(error) => return Err(error),
            }
        }
        match server
            .registry
            .store
            .delete(info, target.namespace, name, current.revision)
            .await
        {
            Ok(deleted) => {
                if info.group.is_empty() && info.kind == "Service" {
                    server.registry.services().release_all(&deleted).await;
                }
                return Ok(deleted);
            }
            Err(error) if error.code == 409 && options.precondition_rv.is_none() => continue,
            Err(error) => return Err(error),
        }
    }
}

pub async fn delete(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let options = delete_options(ctx, body)?;
    let name = target.name.unwrap_or("");
    let object = delete_object(server, target, name, &options).await?;
    Ok(object_response(ctx, target.info, 200, &object))
}

pub async fn delete_collection(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let info = target.info;
    let options = delete_options(ctx, body)?;
    let filter = ObjectFilter::from_query(info, &ctx.query)?;
    let segment = storage_resource(info)?;
    let prefix = collection_prefix(segment, target.namespace);
    let matching = match server.registry.cache.resource(segment) {
        Some(resource) => {
            let current = server.registry.store.current_revision().await?;
            server
                .registry
                .cache
                .wait_for_revision(current, server.registry.store.catch_up_timeout())
                .await;
            resource.list(&prefix, &|o| filter.matches(&o.selectable))
        }
        // Not in the watch cache (Events): read storage.
        None => {
            let (objects, _, _) = server
                .registry
                .store
                .range(info, &prefix, None, 0, 0)
                .await?;
            objects
                .into_iter()
                .filter(|o| filter.matches(&o.selectable))
                .map(Arc::new)
                .collect()
        }
    };
    // Several deletions in flight share storage commits (`--delete-collection-workers`). As
    // upstream's workers do, a failure stops new deletions but lets those in flight finish, and
    // the first failure is the answer. Each deleted object is kept as its JSON bytes until the
    // answer is written: thousands of decoded objects (a namespace's pods) held at once were the
    // server's peak heap.
    let failed = AtomicBool::new(false);
    let (failed, options) = (&failed, &options);
    // Each outcome: Ok(Some(deleted)), Ok(None) for an object already gone or left alone after a
    // failure, Err for a failure.
    let mut outcomes = stream::iter(matching)
        .map(|object| async move {
            if failed.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let name = object.selectable.name().unwrap_or("");
            let one = Target {
                info,
                namespace: object.selectable.namespace(),
                name: Some(name),
            };
            match delete_object(server, &one, name, options).await {
                Ok(deleted) => Ok(Some(deleted)),
                Err(error) if error.code == 404 => Ok(None),
                Err(error) => {
                    failed.store(true, Ordering::Relaxed);
                    Err(error)
                }
            }
        })
        .buffered(server.config.delete_collection_workers.max(1));
    let mut deleted = Vec::new();
    let mut first_failure = None;
    while let Some(outcome) = outcomes.next().await {
        match outcome {
            Ok(Some(object)) => deleted.push(Arc::new(CachedObject::new(
                String::new(),
                resource_version(&object),
                object,
            ))),
            Ok(None) => {}
            Err(error) => {
                first_failure.get_or_insert(error);
            }
        }
    }
    if let Some(error) = first_failure {
        return Err(error);
    }
    let meta = list_metadata(server.registry.cache.revision(), None, None);
    Ok(list_response(ctx, info, &deleted, meta))
}

/// The resourceVersion the store wrote into `object`.
fn resource_version(object: &Value) -> i64 {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|rv| rv.parse().ok())
        .unwrap_or(0)
}
