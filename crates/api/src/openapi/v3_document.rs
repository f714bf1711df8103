//! The OpenAPI v3 documents served under `/openapi/v3/<path>`: one per group-version, plus the
//! small discovery documents of `api`, `apis` and `apis/<group>`.

use serde_json::{json, Map, Value};

use super::definition_index::DefinitionIndex;
use super::definitions::V3_REF_PREFIX;
use super::paths::group_version_paths;
use super::reachable::{reachable_definitions, referenced_definitions};
use crate::catalog::ResourceInfo;

/// The Kubernetes version the documents describe.
pub(crate) const INFO_VERSION: &str = "v1.33.0";

/// The v3 document of one group-version: its paths and every schema they reference.
pub(crate) fn group_version_document(
    index: &DefinitionIndex,
    group: &str,
    version: &str,
    resources: &[ResourceInfo],
) -> Value {
    let paths = group_version_paths(group, version, resources, index);
    let roots = referenced_definitions(&Value::Object(paths.clone()));
    let schemas = reachable_definitions(&index.definitions, roots.iter().map(String::as_str));
    document(paths, schemas)
}

/// The v3 document of a discovery endpoint: `api` (APIVersions), `apis` (APIGroupList) or
/// `apis/<group>` (APIGroup). The schemas are described without properties.
pub(crate) fn discovery_document(path: &str, operation_id: &str, kind: &str) -> Value {
    let definition = format!("io.k8s.apimachinery.pkg.apis.meta.v1.{kind}");
    let reference = format!("{V3_REF_PREFIX}{definition}");
    let mut paths = Map::new();
    paths.insert(
        format!("/{path}/"),
        json!({
            "get": {
                "description": "get available API versions",
                "operationId": operation_id,
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": { "schema": { "$ref": reference } },
                            "application/yaml": { "schema": { "$ref": reference } },
                        },
                    },
                    "401": { "description": "Unauthorized" },
                },
            },
        }),
    );
    let mut schemas = Map::new();
    schemas.insert(
        definition,
        json!({ "description": format!("The {kind} discovery document."), "type": "object" }),
    );
    document(paths, schemas)
}

fn document(paths: Map<String, Value>, schemas: Map<String, Value>) -> Value {
    json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes", "version": INFO_VERSION },
        "paths": paths,
        "components": { "schemas": schemas },
    })
}
