//! Shaping answers: the object itself, a Table (server-side printing) or PartialObjectMetadata,
//! and lists built from the cache's pre-serialized objects.

use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use serde_json::{json, Map, Value};

use api::ResourceInfo;

use crate::http::negotiate::{Encoding, Representation};
use crate::http::response::{json_bytes_response, value_response, HttpResponse};
use crate::server::RequestContext;
use crate::watch_cache::CachedObject;

/// PartialObjectMetadata of an object.
pub fn partial_metadata(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn column_definitions(info: &ResourceInfo) -> Value {
    Value::Array(
        api::table::columns(info)
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "type": c.column_type,
                    "format": c.format,
                    "description": c.description,
                    "priority": c.priority,
                })
            })
            .collect(),
    )
}

/// One Table row for an object; `includeObject` decides what rides along.
fn table_row(info: &ResourceInfo, object: &Value, include: &str, now: jiff::Timestamp) -> Value {
    let cells = api::table::row_cells(info, object, now);
    let mut row = Map::new();
    row.insert("cells".into(), Value::Array(cells));
    match include {
        "None" => {}
        "Object" => {
            row.insert("object".into(), object.clone());
        }
        _ => {
            row.insert("object".into(), partial_metadata(object));
        }
    }
    Value::Object(row)
}

/// A Table of objects.
pub fn table(
    info: &ResourceInfo,
    objects: &[&Value],
    include: &str,
    list_meta: Value,
    with_columns: bool,
) -> Value {
    let now = jiff::Timestamp::now();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| table_row(info, o, include, now))
        .collect();
    let mut table = json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "rows": rows,
    });
    if with_columns {
        table["columnDefinitions"] = column_definitions(info);
    } else {
        table["columnDefinitions"] = Value::Array(Vec::new());
    }
    table
}

/// What rides along in each Table row: `includeObject` (Metadata by default).
pub fn include_object(ctx: &RequestContext) -> &str {
    ctx.query.get("includeObject").unwrap_or("Metadata")
}

/// One object, in the representation and encoding the client asked for.
pub fn object_response(
    ctx: &RequestContext,
    info: &ResourceInfo,
    code: u16,
    object: &Value,
) -> HttpResponse {
    let shaped = match ctx.accept.representation {
        Representation::Object => return value_response(code, object, ctx.accept.encoding),
        Representation::PartialObjectMetadata => partial_metadata(object),
        Representation::Table => {
            let rv = object
                .get("metadata")
                .and_then(|m| m.get("resourceVersion"))
                .cloned()
                .unwrap_or(Value::Null);
            table(
                info,
                &[object],
                include_object(ctx),
                json!({"resourceVersion": rv}),
                true,
            )
        }
    };
    value_response(code, &shaped, ctx.accept.encoding)
}

/// The list metadata: resourceVersion, continue, remainingItemCount.
pub fn list_metadata(
    revision: i64,
    continue_token: Option<String>,
    remaining: Option<i64>,
) -> Value {
    let mut meta = Map::new();
    meta.insert("resourceVersion".into(), json!(revision.to_string()));
    if let Some(token) = continue_token {
        meta.insert("continue".into(), json!(token));
    }
    if let Some(remaining) = remaining {
        meta.insert("remainingItemCount".into(), json!(remaining));
    }
    Value::Object(meta)
}

/// A JSON list assembled from items already serialized; `size` is a guess at their total length.
fn json_list<T: AsRef<[u8]>>(
    kind: &str,
    api_version: &str,
    meta: &Value,
    size: usize,
    items: impl Iterator<Item = T>,
) -> HttpResponse {
    let mut out = BytesMut::with_capacity(size + 256);
    out.put_slice(b"{\"kind\":\"");
    out.put_slice(kind.as_bytes());
    out.put_slice(b"\",\"apiVersion\":\"");
    out.put_slice(api_version.as_bytes());
    out.put_slice(b"\",\"metadata\":");
    out.put_slice(&serde_json::to_vec(meta).unwrap_or_default());
    out.put_slice(b",\"items\":[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        out.put_slice(item.as_ref());
    }
    out.put_slice(b"]}");
    json_bytes_response(200, out.freeze())
}

/// A list of objects. JSON object lists are concatenated from the cached bytes.
pub fn list_response(
    ctx: &RequestContext,
    info: &ResourceInfo,
    objects: &[Arc<CachedObject>],
    meta: Value,
) -> HttpResponse {
    match (ctx.accept.representation, ctx.accept.encoding) {
        (Representation::Object, Encoding::Json) => {
            let size: usize = objects.iter().map(|o| o.json.len() + 1).sum();
            let items = objects.iter().map(|o| o.json.clone());
            json_list(&info.list_kind(), &info.api_version(), &meta, size, items)
        }
        (Representation::Object, encoding @ (Encoding::Yaml | Encoding::Protobuf)) => {
            let list = json!({
                "kind": info.list_kind(),
                "apiVersion": info.api_version(),
                "metadata": meta,
                "items": objects.iter().map(|o| o.value()).collect::<Vec<_>>(),
            });
            value_response(200, &list, encoding)
        }
        (Representation::PartialObjectMetadata, Encoding::Json) => {
            let size: usize = objects.iter().map(|o| o.json.len() / 2).sum();
            let items = objects.iter().map(|o| o.partial_metadata_json());
            json_list(
                "PartialObjectMetadataList",
                "meta.k8s.io/v1",
                &meta,
                size,
                items,
            )
        }
        (Representation::PartialObjectMetadata, encoding) => {
            let list = json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": meta,
                "items": objects.iter().map(|o| partial_metadata(&o.value())).collect::<Vec<_>>(),
            });
            value_response(200, &list, encoding)
        }
        (Representation::Table, encoding) => {
            let values: Vec<Value> = objects.iter().map(|o| o.value()).collect();
            let refs: Vec<&Value> = values.iter().collect();
            let with_columns = !ctx.query.flag("noHeaders");
            let shaped = table(info, &refs, include_object(ctx), meta, with_columns);
            value_response(200, &shaped, encoding)
        }
    }
}
