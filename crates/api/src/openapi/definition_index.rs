//! All generated definitions, and which definition holds the schema of each built-in kind.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::definitions::all_definitions;
use super::kind_table::BUILTIN_KINDS;
use super::paths::DefinitionLookup;

/// The definitions of every built-in kind, indexed by (group, version, kind).
pub(crate) struct DefinitionIndex {
    pub definitions: Map<String, Value>,
    by_kind: HashMap<(String, String, String), String>,
}

impl DefinitionIndex {
    /// Generates every definition; tens of milliseconds, so callers cache the result.
    pub(crate) fn generate() -> Self {
        let definitions = all_definitions();
        let mut by_kind = HashMap::new();
        for (name, definition) in &definitions {
            let Some(kinds) = definition
                .get("x-kubernetes-group-version-kind")
                .and_then(Value::as_array)
            else {
                continue;
            };
            for gvk in kinds {
                let field = |key: &str| gvk.get(key).and_then(Value::as_str).unwrap_or_default();
                let key = (
                    field("group").to_owned(),
                    field("version").to_owned(),
                    field("kind").to_owned(),
                );
                let is_builtin = BUILTIN_KINDS
                    .iter()
                    .any(|k| (k.group, k.version, k.kind) == (&key.0, &key.1, &key.2));
                if is_builtin {
                    by_kind.insert(key, name.clone());
                }
            }
        }
        DefinitionIndex {
            definitions,
            by_kind,
        }
    }
}

impl DefinitionLookup for DefinitionIndex {
    fn definition_of(&self, group: &str, version: &str, kind: &str) -> Option<&str> {
        self.by_kind
            .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))
            .map(String::as_str)
    }

    fn has_definition(&self, name: &str) -> bool {
        self.definitions.contains_key(name)
    }
}
