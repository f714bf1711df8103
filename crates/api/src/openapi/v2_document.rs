//! The Swagger 2.0 document of every built-in kind, served at `/openapi/v2`. It is derived from the
//! v3 definitions: refs point at `#/definitions/`, a `$ref` keeps its description beside it
//! instead of inside `allOf`, and int-or-string types are strings with a format.

use serde_json::{json, Map, Value};

use super::definitions::V3_REF_PREFIX;
use super::special_types::{INT_OR_STRING, QUANTITY};
use super::v3_document::INFO_VERSION;

const V2_REF_PREFIX: &str = "#/definitions/";

/// The v2 document holding `definitions` (v3 form) converted to v2.
pub(crate) fn v2_document(definitions: &Map<String, Value>) -> Value {
    let mut converted: Map<String, Value> = definitions
        .iter()
        .map(|(name, schema)| (name.clone(), to_v2_schema(schema)))
        .collect();
    if let Some(Value::Object(int_or_string)) = converted.get_mut(INT_OR_STRING) {
        int_or_string.remove("oneOf");
        int_or_string.insert("type".into(), "string".into());
        int_or_string.insert("format".into(), "int-or-string".into());
    }
    if let Some(Value::Object(quantity)) = converted.get_mut(QUANTITY) {
        quantity.remove("oneOf");
        quantity.insert("type".into(), "string".into());
    }
    json!({
        "swagger": "2.0",
        "info": { "title": "Kubernetes", "version": INFO_VERSION },
        "paths": {},
        "definitions": converted,
    })
}

fn to_v2_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(object) => {
            let mut converted = Map::new();
            for (key, value) in object {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => {
                        let name = reference.strip_prefix(V3_REF_PREFIX).unwrap_or(reference);
                        converted.insert(key.clone(), format!("{V2_REF_PREFIX}{name}").into());
                    }
                    ("allOf", Value::Array(parts)) if parts.len() == 1 => {
                        if let Value::Object(only) = to_v2_schema(&parts[0]) {
                            converted.extend(only);
                        }
                    }
                    _ => {
                        converted.insert(key.clone(), to_v2_schema(value));
                    }
                }
            }
            Value::Object(converted)
        }
        Value::Array(items) => Value::Array(items.iter().map(to_v2_schema).collect()),
        other => other.clone(),
    }
}
