//! get and list.

use std::sync::Arc;

use base64::Engine;
use serde_json::{json, Value};

use super::output::{list_metadata, list_response, object_response};
use super::resource::Target;
use crate::http::response::HttpResponse;
use crate::registry::filter::ObjectFilter;
use crate::registry::keys::collection_prefix;
use crate::registry::store::storage_resource;
use crate::server::{ApiServer, RequestContext};
use crate::status::ApiError;
use crate::watch_cache::CachedObject;

pub async fn get(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
) -> Result<HttpResponse, ApiError> {
    let name = target.name.unwrap_or("");
    let stored = server
        .registry
        .store
        .get(target.info, target.namespace, name)
        .await?;
    Ok(object_response(ctx, target.info, 200, &stored.object))
}

/// A continue token: the revision the first page was read at and the next key.
fn encode_continue(revision: i64, next_key: &str) -> String {
    let token = json!({"v": "meta.k8s.io/v1", "rv": revision, "start": next_key});
    base64::engine::general_purpose::URL_SAFE.encode(token.to_string())
}

fn decode_continue(token: &str, prefix: &str) -> Result<(i64, String), ApiError> {
    let invalid = || ApiError::bad_request(format!("continue key is not valid: {token:?}"));
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(token)
        .map_err(|_| invalid())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let revision = value
        .get("rv")
        .and_then(Value::as_i64)
        .ok_or_else(invalid)?;
    let start = value
        .get("start")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    if !start.starts_with(prefix) {
        return Err(invalid());
    }
    Ok((revision, start.to_string()))
}

/// Objects of one page, the revision read at, the continue token and the remaining count.
type Page = (Vec<Arc<CachedObject>>, i64, Option<String>, Option<i64>);

/// Read a page from storage at a revision, filtering as it goes, until `limit` objects matched.
async fn list_from_storage(
    server: &ApiServer,
    target: &Target<'_>,
    filter: &ObjectFilter,
    prefix: &str,
    mut start: Option<String>,
    limit: i64,
    revision: i64,
) -> Result<Page, ApiError> {
    let mut matched = Vec::new();
    let mut revision = revision;
    loop {
        let want = if limit > 0 {
            limit - i64::try_from(matched.len()).unwrap_or(0)
        } else {
            0
        };
        let (page, more, read_at) = server
            .registry
            .store
            .range(target.info, prefix, start.clone(), want, revision)
            .await?;
        revision = read_at;
        let last_key = page.last().map(|o| o.key.clone());
        for object in page {
            if filter.matches(&object.selectable) {
                matched.push(Arc::new(object));
            }
        }
        let reached = limit > 0 && i64::try_from(matched.len()).unwrap_or(0) >= limit;
        match (more, last_key) {
            (true, Some(last)) if reached => {
                // remainingItemCount is optional; computing it would read the rest of the
                // collection for every page.
                let token = encode_continue(revision, &format!("{last}\u{0}"));
                return Ok((matched, revision, Some(token), None));
            }
            (true, Some(last)) => start = Some(format!("{last}\u{0}")),
            _ => return Ok((matched, revision, None, None)),
        }
    }
}

pub async fn list(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
) -> Result<HttpResponse, ApiError> {
    let info = target.info;
    let filter = ObjectFilter::from_query(info, &ctx.query)?;
    let segment = storage_resource(info)?;
    let prefix = collection_prefix(segment, target.namespace);
    let limit = ctx
        .query
        .int("limit")
        .map_err(ApiError::bad_request)?
        .unwrap_or(0)
        .max(0);
    let resource_version = ctx.query.non_empty("resourceVersion");
    let exact = ctx.query.get("resourceVersionMatch") == Some("Exact");
    let requested_revision = match resource_version {
        Some(rv) => Some(
            rv.parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv:?}")))?,
        ),
        None => None,
    };
    if let Some(token) = ctx.query.non_empty("continue") {
        let (revision, start) = decode_continue(token, &prefix)?;
        let (objects, revision, next, remaining) = list_from_storage(
            server,
            target,
            &filter,
            &prefix,
            Some(start),
            limit,
            revision,
        )
        .await?;
        return Ok(list_response(
            ctx,
            info,
            &objects,
            list_metadata(revision, next, remaining),
        ));
    }
    if exact {
        let at = requested_revision.unwrap_or(0);
        let (objects, revision, next, remaining) =
            list_from_storage(server, target, &filter, &prefix, None, limit, at).await?;
        return Ok(list_response(
            ctx,
            info,
            &objects,
            list_metadata(revision, next, remaining),
        ));
    }
    // A resource the watch cache does not hold (Events): the latest state from storage, which
    // is at least as new as any resourceVersion the client may name.
    if server.registry.cache.resource(segment).is_none() {
        let (objects, revision, next, remaining) =
            list_from_storage(server, target, &filter, &prefix, None, limit, 0).await?;
        return Ok(list_response(
            ctx,
            info,
            &objects,
            list_metadata(revision, next, remaining),
        ));
    }
    // Served from the watch cache, once it has caught up with what the client must see.
    let cache = &server.registry.cache;
    let wait_for = match requested_revision {
        Some(0) => 0,
        Some(rv) => rv,
        None => server.registry.store.current_revision().await?,
    };
    if wait_for > 0
        && !cache
            .wait_for_revision(wait_for, server.registry.store.catch_up_timeout())
            .await
    {
        return Err(ApiError::timeout(format!(
            "Too large resource version: {wait_for}, current: {}",
            cache.revision()
        )));
    }
    let revision = cache.revision();
    let Some(resource_cache) = cache.resource(segment) else {
        return Err(ApiError::internal(format!("no cache for {segment}")));
    };
    let mut objects = if info.is_storage_version() {
        resource_cache.list(&prefix, &|o| filter.matches(&o.selectable))
    } else {
        resource_cache
            .list(&prefix, &|_| true)
            .iter()
            .map(|o| crate::registry::versions::present(info, o))
            .filter(|o| filter.matches(&o.selectable))
            .collect()
    };
    // A first page: the rest is read from storage at this revision through the continue token.
    let mut continue_token = None;
    if limit > 0 && requested_revision != Some(0) {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        if objects.len() > limit {
            objects.truncate(limit);
            if let Some(last) = objects.last() {
                continue_token = Some(encode_continue(revision, &format!("{}\u{0}", last.key)));
            }
        }
    }
    Ok(list_response(
        ctx,
        info,
        &objects,
        list_metadata(revision, continue_token, None),
    ))
}
