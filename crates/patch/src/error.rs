//! Errors of the three patch formats, with the HTTP status upstream answers for each.

use serde_json::Value;

/// Why a patch could not be applied. `Display` gives a message in upstream's wording;
/// [`PatchError::status_code`] gives the HTTP status upstream's patch handler uses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// The document or the patch is not a JSON object where one is required.
    #[error("invalid JSON document")]
    BadJsonDoc,
    /// A JSON merge patch that is not a JSON object.
    #[error("Invalid JSON Patch")]
    BadMergePatch,
    /// A JSON patch (RFC 6902) that does not decode as a list of operations.
    #[error("{0}")]
    JsonPatchDecode(String),
    /// A JSON patch operation that failed against the document.
    #[error("{0}")]
    JsonPatchApply(String),
    #[error("lists of lists are not supported")]
    NoListOfLists,
    #[error("invalid patch format of primitive list")]
    BadPatchFormatForPrimitiveList,
    #[error("invalid patch format of retainKeys")]
    BadPatchFormatForRetainKeys,
    #[error("invalid patch format of setElementOrder list")]
    BadPatchFormatForSetElementOrderList,
    #[error("map: {map} does not contain declared merge key: {key}")]
    NoMergeKey { map: String, key: String },
    #[error("unknown patch type: {patch_type} in map: {map}")]
    BadPatchType { patch_type: String, map: String },
    #[error("merging lists cannot yet be specified in the patch")]
    MergeListDirective,
    #[error("expected a {expected}, but received a {actual}")]
    BadArgType {
        expected: &'static str,
        actual: &'static str,
    },
    #[error("cannot merge lists without merge key for {0}")]
    MissingMergeKey(String),
    #[error("The order in patch list:\n{patch}\n doesn't match $setElementOrder list:\n{order}\n")]
    SetElementOrderMismatch { patch: String, order: String },
}

impl PatchError {
    /// HTTP status upstream's patch handler answers with for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            PatchError::BadJsonDoc
            | PatchError::BadMergePatch
            | PatchError::JsonPatchDecode(_)
            | PatchError::BadPatchFormatForPrimitiveList
            | PatchError::BadPatchFormatForRetainKeys
            | PatchError::BadPatchFormatForSetElementOrderList => 400,
            PatchError::JsonPatchApply(_) | PatchError::NoListOfLists => 422,
            // Upstream passes the remaining strategic merge errors through unclassified,
            // which ends up as an internal error.
            _ => 500,
        }
    }

    pub(crate) fn no_merge_key(map: &serde_json::Map<String, Value>, key: &str) -> Self {
        PatchError::NoMergeKey {
            map: go_format(&Value::Object(map.clone())),
            key: key.to_string(),
        }
    }

    pub(crate) fn bad_patch_type(patch_type: &Value, map: &serde_json::Map<String, Value>) -> Self {
        let patch_type = match patch_type {
            Value::String(s) => s.clone(),
            other => go_format(other),
        };
        PatchError::BadPatchType {
            patch_type,
            map: go_format(&Value::Object(map.clone())),
        }
    }

    pub(crate) fn bad_arg(expected: &'static str, actual: &Value) -> Self {
        PatchError::BadArgType {
            expected,
            actual: kind_name(actual),
        }
    }
}

/// Name of a JSON value's kind as Go's reflection would print it.
pub(crate) fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "invalid",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "slice",
        Value::Object(_) => "map",
    }
}

/// Render a value the way Go's `%v` renders decoded JSON (`map[a:1 b:[x y]]`).
pub(crate) fn go_format(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_format).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", k, go_format(&map[k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_format_matches_go_percent_v() {
        assert_eq!(
            go_format(&json!({"b": [1, "x"], "a": null})),
            "map[a:<nil> b:[1 x]]"
        );
    }

    #[test]
    fn status_codes() {
        assert_eq!(PatchError::BadPatchFormatForRetainKeys.status_code(), 400);
        assert_eq!(PatchError::NoListOfLists.status_code(), 422);
        assert_eq!(PatchError::JsonPatchApply("x".into()).status_code(), 422);
    }
}
