//! Lazily generated, then kept: the definitions, their compiled form, and each serialized
//! document. Pure caches of pure functions of the code and the catalog.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::compiled_schema::CompiledSchemas;
use super::content_hash::content_hash;
use super::definition_index::DefinitionIndex;
use super::v2_document::v2_document;
use super::v3_document::{discovery_document, group_version_document};
use crate::catalog;

/// A serialized OpenAPI document and the fingerprint of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenApiDocument {
    /// The JSON text of the document.
    pub json: Arc<Vec<u8>>,
    /// Upper-case hex fingerprint of `json`, used as the `hash` query value.
    pub hash: String,
}

impl OpenApiDocument {
    fn serialize(document: &Value) -> Self {
        let json = serde_json::to_vec(document).unwrap_or_default();
        let hash = content_hash(&json);
        OpenApiDocument {
            json: Arc::new(json),
            hash,
        }
    }
}

pub(crate) fn definition_index() -> &'static DefinitionIndex {
    static INDEX: OnceLock<DefinitionIndex> = OnceLock::new();
    INDEX.get_or_init(DefinitionIndex::generate)
}

pub(crate) fn compiled_schemas() -> &'static CompiledSchemas {
    static COMPILED: OnceLock<CompiledSchemas> = OnceLock::new();
    COMPILED.get_or_init(|| CompiledSchemas::compile(&definition_index().definitions))
}

pub(crate) fn v2() -> &'static OpenApiDocument {
    static V2: OnceLock<OpenApiDocument> = OnceLock::new();
    V2.get_or_init(|| OpenApiDocument::serialize(&v2_document(&definition_index().definitions)))
}

/// What a `/openapi/v3/<path>` document is made of.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum V3Source {
    GroupVersion {
        group: &'static str,
        version: &'static str,
    },
    /// `api`, `apis` or `apis/<group>`.
    Discovery {
        operation_id: String,
        kind: &'static str,
    },
}

/// Every v3 document path (`api/v1`, `apis/apps/v1`, `api`, `apis`, `apis/apps`), each with its
/// lazily built document.
pub(crate) fn v3_documents() -> &'static BTreeMap<String, (V3SourceCell, OnceLock<OpenApiDocument>)>
{
    static DOCUMENTS: OnceLock<BTreeMap<String, (V3SourceCell, OnceLock<OpenApiDocument>)>> =
        OnceLock::new();
    DOCUMENTS.get_or_init(|| {
        let group_versions: BTreeSet<(&'static str, &'static str)> = catalog::all()
            .iter()
            .map(|resource| (resource.group, resource.version))
            .collect();
        let mut documents = BTreeMap::new();
        let mut add = |path: String, source: V3Source| {
            documents.insert(path, (V3SourceCell(source), OnceLock::new()));
        };
        add(
            "api".into(),
            V3Source::Discovery {
                operation_id: "getCoreAPIVersions".into(),
                kind: "APIVersions",
            },
        );
        add(
            "apis".into(),
            V3Source::Discovery {
                operation_id: "getAPIVersions".into(),
                kind: "APIGroupList",
            },
        );
        for (group, version) in group_versions {
            if group.is_empty() {
                add(
                    format!("api/{version}"),
                    V3Source::GroupVersion { group, version },
                );
                continue;
            }
            add(
                format!("apis/{group}"),
                V3Source::Discovery {
                    operation_id: format!("get{}APIGroup", group.replace('.', "_")),
                    kind: "APIGroup",
                },
            );
            add(
                format!("apis/{group}/{version}"),
                V3Source::GroupVersion { group, version },
            );
        }
        documents
    })
}

/// Where a v3 document comes from (kept opaque outside this file).
#[derive(Debug)]
pub(crate) struct V3SourceCell(V3Source);

/// The document at `path`, built on first use.
pub(crate) fn v3_document(path: &str) -> Option<&'static OpenApiDocument> {
    let (source, cell) = v3_documents().get(path)?;
    Some(cell.get_or_init(|| {
        let document = match &source.0 {
            V3Source::GroupVersion { group, version } => {
                group_version_document(definition_index(), group, version, catalog::all())
            }
            V3Source::Discovery { operation_id, kind } => {
                discovery_document(path, operation_id, kind)
            }
        };
        OpenApiDocument::serialize(&document)
    }))
}
