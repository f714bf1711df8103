//! Discovery: `/api`, `/apis`, `/apis/<group>`, the per-group-version resource lists, and the
//! aggregated discovery documents (apidiscovery.k8s.io/v2) kubectl asks for first.

use http::HeaderMap;
use serde_json::{json, Value};

use api::catalog::{self, GroupInfo};
use api::ResourceInfo;

use crate::http::response::{bytes_response, value_response, HttpResponse};
use crate::server::RequestContext;
use crate::status::ApiError;

const AGGREGATED_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
const AGGREGATED_V2BETA1: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

fn resources_of<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static ResourceInfo> + 'a {
    catalog::all()
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn api_group(group: &GroupInfo) -> Value {
    let versions: Vec<Value> = group
        .versions
        .iter()
        .map(|v| json!({"groupVersion": group_version(group.name, v), "version": v}))
        .collect();
    json!({
        "name": group.name,
        "versions": versions,
        "preferredVersion": {
            "groupVersion": group_version(group.name, group.preferred_version()),
            "version": group.preferred_version(),
        },
    })
}

/// Which aggregated discovery version the Accept header asks for, if any.
fn aggregated(headers: &HeaderMap) -> Option<&'static str> {
    let accept = headers.get(http::header::ACCEPT)?.to_str().ok()?;
    for range in accept.split(',') {
        let params: Vec<&str> = range.split(';').map(str::trim).collect();
        let has = |p: &str| params.contains(&p);
        if has("g=apidiscovery.k8s.io") && has("as=APIGroupDiscoveryList") {
            if has("v=v2") {
                return Some(AGGREGATED_V2);
            }
            if has("v=v2beta1") {
                return Some(AGGREGATED_V2BETA1);
            }
        }
    }
    None
}

fn discovery_resource(info: &ResourceInfo) -> Value {
    let subresources: Vec<Value> = info
        .subresources
        .iter()
        .map(|s| {
            let (g, v, k) = s.kind_for(info);
            json!({
                "subresource": s.name(),
                "responseKind": {"group": g, "version": v, "kind": k},
                "verbs": s.verbs(),
            })
        })
        .collect();
    let mut resource = json!({
        "resource": info.plural,
        "responseKind": {"group": info.group, "version": info.version, "kind": info.kind},
        "scope": if info.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": info.singular,
        "verbs": info.verbs,
    });
    if !info.short_names.is_empty() {
        resource["shortNames"] = json!(info.short_names);
    }
    if !info.categories.is_empty() {
        resource["categories"] = json!(info.categories);
    }
    if !subresources.is_empty() {
        resource["subresources"] = Value::Array(subresources);
    }
    resource
}

fn discovery_group(group: &GroupInfo) -> Value {
    let versions: Vec<Value> = group
        .versions
        .iter()
        .map(|version| {
            let resources: Vec<Value> = resources_of(group.name, version)
                .map(discovery_resource)
                .collect();
            json!({"version": version, "resources": resources, "freshness": "Current"})
        })
        .collect();
    let metadata = if group.name.is_empty() {
        json!({"creationTimestamp": null})
    } else {
        json!({"name": group.name, "creationTimestamp": null})
    };
    json!({"metadata": metadata, "versions": versions})
}

fn aggregated_response(content_type: &'static str, groups: &[GroupInfo]) -> HttpResponse {
    let api_version = if content_type == AGGREGATED_V2 {
        "apidiscovery.k8s.io/v2"
    } else {
        "apidiscovery.k8s.io/v2beta1"
    };
    let list = json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": api_version,
        "metadata": {},
        "items": groups.iter().map(discovery_group).collect::<Vec<_>>(),
    });
    let mut response = bytes_response(
        200,
        content_type,
        bytes::Bytes::from(serde_json::to_vec(&list).unwrap_or_default()),
    );
    response
        .headers_mut()
        .insert(http::header::VARY, http::HeaderValue::from_static("Accept"));
    response
}

/// `GET /api`.
pub fn legacy_versions(ctx: &RequestContext, headers: &HeaderMap) -> HttpResponse {
    if let Some(content_type) = aggregated(headers) {
        let core = catalog::group("").into_iter().collect::<Vec<_>>();
        return aggregated_response(content_type, &core);
    }
    let versions = json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
    });
    value_response(200, &versions, ctx.accept.encoding)
}

/// `GET /apis`.
pub fn groups(ctx: &RequestContext, headers: &HeaderMap) -> Result<HttpResponse, ApiError> {
    if let Some(content_type) = aggregated(headers) {
        return Ok(aggregated_response(content_type, catalog::groups()));
    }
    let list = json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": catalog::groups().iter().map(api_group).collect::<Vec<_>>(),
    });
    Ok(value_response(200, &list, ctx.accept.encoding))
}

/// `GET /apis/<group>`.
pub fn group(ctx: &RequestContext, name: &str) -> Result<HttpResponse, ApiError> {
    let group = catalog::groups()
        .iter()
        .find(|g| g.name == name)
        .ok_or_else(not_found)?;
    let mut body = api_group(group);
    body["kind"] = json!("APIGroup");
    body["apiVersion"] = json!("v1");
    Ok(value_response(200, &body, ctx.accept.encoding))
}

/// `GET /api/v1` and `GET /apis/<group>/<version>`.
pub fn resource_list(
    ctx: &RequestContext,
    group: &str,
    version: &str,
) -> Result<HttpResponse, ApiError> {
    let served = catalog::group(group).is_some_and(|g| g.versions.contains(&version));
    if !served {
        return Err(not_found());
    }
    let mut resources = Vec::new();
    for info in resources_of(group, version) {
        let mut resource = json!({
            "name": info.plural,
            "singularName": info.singular,
            "namespaced": info.namespaced,
            "kind": info.kind,
            "verbs": info.verbs,
        });
        if !info.short_names.is_empty() {
            resource["shortNames"] = json!(info.short_names);
        }
        if !info.categories.is_empty() {
            resource["categories"] = json!(info.categories);
        }
        resources.push(resource);
        for sub in info.subresources {
            let (g, v, k) = sub.kind_for(info);
            let mut entry = json!({
                "name": format!("{}/{}", info.plural, sub.name()),
                "singularName": "",
                "namespaced": info.namespaced,
                "kind": k,
                "verbs": sub.verbs(),
            });
            if (g, v) != (info.group, info.version) {
                entry["group"] = json!(g);
                entry["version"] = json!(v);
            }
            resources.push(entry);
        }
    }
    let list = json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version(group, version),
        "resources": resources,
    });
    Ok(value_response(200, &list, ctx.accept.encoding))
}

fn not_found() -> ApiError {
    ApiError::resource_not_found()
}
