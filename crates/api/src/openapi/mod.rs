//! The OpenAPI documents of the built-in kinds (v3 per group-version, and v2), generated from the
//! k8s-openapi types, and strict field validation against those schemas.
//!
//! Documents are generated on first request and kept serialized.

mod cache;
mod compiled_schema;
mod content_hash;
mod definition_index;
mod definitions;
mod kind_table;
mod list_behavior;
mod operations;
mod parameters;
mod paths;
mod reachable;
mod special_types;
mod unknown_fields;
mod v2_document;
mod v3_document;

#[cfg(test)]
mod tests;

use serde_json::{json, Map, Value};

pub use cache::OpenApiDocument;

use paths::DefinitionLookup;

/// The body of `GET /openapi/v3`: every document path with its URL under `url_prefix` (normally
/// `/openapi/v3`) carrying the document's hash. Builds every document on first call.
pub fn v3_index(url_prefix: &str) -> Value {
    let prefix = url_prefix.trim_end_matches('/');
    let paths: Map<String, Value> = cache::v3_documents()
        .keys()
        .filter_map(|path| {
            let document = cache::v3_document(path)?;
            let url = format!("{prefix}/{path}?hash={}", document.hash);
            Some((path.clone(), json!({ "serverRelativeURL": url })))
        })
        .collect();
    json!({ "paths": paths })
}

/// The document served at `/openapi/v3/<path>`: `api/v1`, `apis/<group>/<version>`, `api`, `apis`
/// or `apis/<group>`. `None` for a path the catalog does not serve.
pub fn v3_document(path: &str) -> Option<OpenApiDocument> {
    cache::v3_document(path.trim_matches('/')).cloned()
}

/// The v3 document of one group-version (`group == ""` for the core group).
pub fn v3_group_version(group: &str, version: &str) -> Option<OpenApiDocument> {
    if group.is_empty() {
        v3_document(&format!("api/{version}"))
    } else {
        v3_document(&format!("apis/{group}/{version}"))
    }
}

/// The Swagger 2.0 document of every built-in kind, served at `/openapi/v2` (JSON).
pub fn v2() -> OpenApiDocument {
    cache::v2().clone()
}

/// The paths of the fields of `object` that the schema of the built-in kind does not define
/// (upstream reports each as `unknown field "<path>"`). Empty for kinds without a built-in
/// schema, such as custom resources.
pub fn unknown_fields(group: &str, version: &str, kind: &str, object: &Value) -> Vec<String> {
    let Some(definition) = cache::definition_index().definition_of(group, version, kind) else {
        return Vec::new();
    };
    let schemas = cache::compiled_schemas();
    match schemas.by_definition.get(definition) {
        Some(root) => unknown_fields::unknown_field_paths(schemas, *root, object),
        None => Vec::new(),
    }
}
