//! The subset of the definitions a document needs: those reachable by `$ref` from its roots.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::definitions::V3_REF_PREFIX;

/// The definitions named in `roots` and every definition they reference, transitively, sorted
/// by name. Unknown root names are skipped.
pub(crate) fn reachable_definitions<'a>(
    all: &Map<String, Value>,
    roots: impl IntoIterator<Item = &'a str>,
) -> Map<String, Value> {
    let mut seen = BTreeSet::new();
    let mut pending: Vec<String> = roots.into_iter().map(str::to_owned).collect();
    while let Some(name) = pending.pop() {
        let Some(definition) = all.get(&name) else {
            continue;
        };
        if !seen.insert(name) {
            continue;
        }
        collect_refs(definition, &mut pending);
    }
    seen.into_iter()
        .filter_map(|name| all.get(&name).cloned().map(|definition| (name, definition)))
        .collect()
}

fn collect_refs(schema: &Value, found: &mut Vec<String>) {
    match schema {
        Value::Object(object) => {
            for (key, value) in object {
                match value.as_str() {
                    Some(reference) if key == "$ref" => {
                        if let Some(name) = reference.strip_prefix(V3_REF_PREFIX) {
                            found.push(name.to_owned());
                        }
                    }
                    _ => collect_refs(value, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, found)),
        _ => {}
    }
}

/// The names of the definitions `value` references directly, in order of appearance, without
/// repeats.
pub(crate) fn referenced_definitions(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    collect_refs(value, &mut found);
    let mut seen = BTreeSet::new();
    found.retain(|name| seen.insert(name.clone()));
    found
}
