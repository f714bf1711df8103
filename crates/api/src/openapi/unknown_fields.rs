//! Strict field validation of built-in kinds: the paths of the fields of an object that its
//! kind's schema does not define, formatted as upstream reports them (`spec.replicaz`,
//! `spec.template.spec.containers[0].imagee`).

use serde_json::Value;

use super::compiled_schema::{CompiledSchemas, FieldShape, NodeId};

/// The paths of the unknown fields of `object`, whose shape is node `root`, in document order.
pub(crate) fn unknown_field_paths(
    schemas: &CompiledSchemas,
    root: NodeId,
    object: &Value,
) -> Vec<String> {
    let mut found = Vec::new();
    let mut path = String::new();
    walk(schemas, root, object, &mut path, &mut found);
    found
}

fn walk(
    schemas: &CompiledSchemas,
    node: NodeId,
    value: &Value,
    path: &mut String,
    found: &mut Vec<String>,
) {
    match (schemas.nodes.get(node), value) {
        (
            Some(FieldShape::Object {
                properties,
                map_values,
            }),
            Value::Object(fields),
        ) => {
            for (name, field) in fields {
                let parent_len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
                match properties.get(name).copied().or(*map_values) {
                    Some(child) => walk(schemas, child, field, path, found),
                    None => found.push(path.clone()),
                }
                path.truncate(parent_len);
            }
        }
        (Some(FieldShape::Array(items)), Value::Array(elements)) => {
            for (index, element) in elements.iter().enumerate() {
                let parent_len = path.len();
                path.push_str(&format!("[{index}]"));
                walk(schemas, *items, element, path, found);
                path.truncate(parent_len);
            }
        }
        _ => {}
    }
}
