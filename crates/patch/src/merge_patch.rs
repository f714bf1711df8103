//! JSON merge patch (RFC 7386), as used for `application/merge-patch+json`.

use serde_json::Value;

use crate::PatchError;

/// Apply a JSON merge patch to `original`. The patch must be a JSON object (upstream rejects
/// anything else with 400 "Invalid JSON Patch"); `null` members delete, objects merge
/// recursively, everything else (lists included) replaces.
pub fn merge_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    if !patch.is_object() {
        return Err(PatchError::BadMergePatch);
    }
    let mut doc = original.clone();
    if !doc.is_object() {
        return Err(PatchError::BadJsonDoc);
    }
    ::json_patch::merge(&mut doc, patch);
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc7386_cases() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": "b", "b": "c"}),
                json!({"a": null}),
                json!({"b": "c"}),
            ),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
            (
                json!({"metadata": {"labels": {"app": "web", "tier": "fe"}}}),
                json!({"metadata": {"labels": {"tier": null, "env": "prod"}}}),
                json!({"metadata": {"labels": {"app": "web", "env": "prod"}}}),
            ),
        ];
        for (original, patch, expected) in cases {
            assert_eq!(
                merge_patch(&original, &patch).unwrap(),
                expected,
                "patch {patch}"
            );
        }
    }

    #[test]
    fn rejects_non_object_patch() {
        for patch in [json!(null), json!([1]), json!("x")] {
            assert_eq!(
                merge_patch(&json!({}), &patch),
                Err(PatchError::BadMergePatch)
            );
        }
    }
}
