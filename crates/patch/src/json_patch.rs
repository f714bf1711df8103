//! JSON patch (RFC 6902), as used for `application/json-patch+json`.

use serde_json::Value;

use crate::PatchError;

/// Apply a JSON patch document (a list of operations) to `original`.
///
/// A patch that does not decode is a [`PatchError::JsonPatchDecode`] (400 upstream); an
/// operation that fails is a [`PatchError::JsonPatchApply`] (422 upstream).
pub fn apply_json_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    if !patch.is_array() {
        return Err(PatchError::JsonPatchDecode(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
            json_kind(patch)
        )));
    }
    let ops: ::json_patch::Patch = serde_json::from_value(patch.clone())
        .map_err(|e| PatchError::JsonPatchDecode(format!("invalid JSON patch: {e}")))?;
    let mut doc = original.clone();
    ::json_patch::patch(&mut doc, &ops).map_err(|e| PatchError::JsonPatchApply(e.to_string()))?;
    Ok(doc)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations() {
        let doc = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}});
        let cases = [
            (
                json!([{"op": "replace", "path": "/spec/replicas", "value": 3}]),
                json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}}),
            ),
            (
                json!([{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "y"}]),
                json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a", "image": "y"}]}}}}),
            ),
            (
                json!([{"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "b"}}]),
                json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}}}}),
            ),
            (
                json!([{"op": "test", "path": "/spec/replicas", "value": 1}, {"op": "remove", "path": "/spec/template"}]),
                json!({"spec": {"replicas": 1}}),
            ),
        ];
        for (patch, expected) in cases {
            assert_eq!(
                apply_json_patch(&doc, &patch).unwrap(),
                expected,
                "patch {patch}"
            );
        }
    }

    #[test]
    fn errors() {
        let doc = json!({"a": 1});
        let bad_op = apply_json_patch(&doc, &json!([{"op": "frobnicate", "path": "/a"}]));
        assert!(matches!(bad_op, Err(PatchError::JsonPatchDecode(_))));
        let not_list = apply_json_patch(&doc, &json!({"op": "add"}));
        assert!(matches!(not_list, Err(PatchError::JsonPatchDecode(_))));
        let missing = apply_json_patch(&doc, &json!([{"op": "remove", "path": "/b"}]));
        assert!(matches!(missing, Err(PatchError::JsonPatchApply(_))));
        let failed_test =
            apply_json_patch(&doc, &json!([{"op": "test", "path": "/a", "value": 2}]));
        assert_eq!(failed_test.unwrap_err().status_code(), 422);
    }
}
