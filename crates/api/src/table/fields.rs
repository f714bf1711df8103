//! Reading object fields by JSON pointer, the shapes the printers need.

use jiff::Timestamp;
use serde_json::Value;

use super::duration::since;
use crate::selector::LabelSelector;

/// The string at `pointer`, "" when absent.
pub(crate) fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The string at `pointer`, or `fallback` when absent or empty.
pub(crate) fn text_or(object: &Value, pointer: &str, fallback: &str) -> String {
    match text(object, pointer) {
        "" => fallback.to_string(),
        found => found.to_string(),
    }
}

/// The integer at `pointer`, 0 when absent.
pub(crate) fn int(object: &Value, pointer: &str) -> i64 {
    int_or(object, pointer, 0)
}

pub(crate) fn int_or(object: &Value, pointer: &str, fallback: i64) -> i64 {
    object
        .pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(fallback)
}

pub(crate) fn flag(object: &Value, pointer: &str) -> Option<bool> {
    object.pointer(pointer).and_then(Value::as_bool)
}

/// The array at `pointer`, empty when absent.
pub(crate) fn list<'a>(object: &'a Value, pointer: &str) -> &'a [Value] {
    object
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Number of entries of the object or array at `pointer`.
pub(crate) fn entries(object: &Value, pointer: &str) -> i64 {
    let count = match object.pointer(pointer) {
        Some(Value::Object(map)) => map.len(),
        Some(Value::Array(items)) => items.len(),
        _ => 0,
    };
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// A string, an integer or an int-or-string field as text; `fallback` when absent.
pub(crate) fn scalar_text(object: &Value, pointer: &str, fallback: &str) -> String {
    match object.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => fallback.to_string(),
    }
}

pub(crate) fn name(object: &Value) -> String {
    text(object, "/metadata/name").to_string()
}

pub(crate) fn age(object: &Value, now: Timestamp) -> String {
    since(
        object
            .pointer("/metadata/creationTimestamp")
            .and_then(Value::as_str),
        now,
    )
}

pub(crate) fn is_deleting(object: &Value) -> bool {
    object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// "True"/"False" for a boolean field, "<unset>" when absent.
pub(crate) fn bool_text(value: Option<bool>) -> String {
    match value {
        Some(true) => "True".to_string(),
        Some(false) => "False".to_string(),
        None => "<unset>".to_string(),
    }
}

/// Container names and images of a pod spec, each joined by commas.
pub(crate) fn containers_and_images(pod_spec: Option<&Value>) -> (String, String) {
    let containers = pod_spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let names: Vec<&str> = containers.iter().map(|c| text(c, "/name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| text(c, "/image")).collect();
    (names.join(","), images.join(","))
}

/// A `metav1.LabelSelector` as upstream's `FormatLabelSelector` prints it: the selector text,
/// "<none>" when it selects everything or nothing, "<error>" when invalid.
pub(crate) fn formatted_label_selector(selector: Option<&Value>) -> String {
    match LabelSelector::from_label_selector_json(selector) {
        Ok(parsed) => match parsed.to_string() {
            text if text.is_empty() => "<none>".to_string(),
            text => text,
        },
        Err(_) => "<error>".to_string(),
    }
}

/// The object that controls this one (its owner reference with `controller: true`).
pub(crate) fn controller_of(object: &Value) -> Option<&Value> {
    list(object, "/metadata/ownerReferences")
        .iter()
        .find(|r| flag(r, "/controller") == Some(true))
}
