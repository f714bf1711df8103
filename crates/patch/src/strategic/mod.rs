//! Strategic merge patch (`application/strategic-merge-patch+json`) for built-in kinds,
//! following k8s.io/apimachinery's strategicpatch semantics when applying a patch on the
//! server: maps merge recursively, `null` deletes, lists merge by key or union as their
//! schema says, and the `$patch`, `$retainKeys`, `$setElementOrder/` and
//! `$deleteFromPrimitiveList/` directives are honoured.

pub(crate) mod builtin;
mod directives;
mod list_merge;
pub mod schema;

use serde_json::{Map, Value};

use crate::PatchError;
use schema::{Schema, Smp, Ty};

pub(crate) const PATCH_DIRECTIVE: &str = "$patch";
pub(crate) const RETAIN_KEYS: &str = "$retainKeys";
pub(crate) const SET_ELEMENT_ORDER: &str = "$setElementOrder";
pub(crate) const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// Apply a strategic merge patch to `original`.
///
/// For kinds that are not built in ([`Schema::is_builtin`] false) this falls back to JSON merge
/// patch semantics; upstream instead refuses strategic merge patches for custom resources
/// (415), which the caller may prefer to do by checking `is_builtin` first.
pub fn strategic_merge(
    original: &Value,
    patch: &Value,
    schema: &Schema,
) -> Result<Value, PatchError> {
    let Value::Object(patch) = patch else {
        return Err(PatchError::BadJsonDoc);
    };
    let Value::Object(original) = original else {
        return Err(PatchError::BadJsonDoc);
    };
    if !schema.is_builtin() {
        return crate::merge_patch(
            &Value::Object(original.clone()),
            &Value::Object(patch.clone()),
        );
    }
    merge_map(original.clone(), patch.clone(), schema.root()).map(Value::Object)
}

/// Merge `patch` into `original`, both maps of type `ty`.
pub(crate) fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    ty: Ty,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.remove(PATCH_DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => Ok(directives::strip_map(patch)),
            Some("delete") => Ok(Map::new()),
            _ => {
                patch.insert(PATCH_DIRECTIVE.to_string(), directive.clone());
                Err(PatchError::bad_patch_type(&directive, &patch))
            }
        };
    }
    directives::apply_retain_keys(&mut original, &mut patch)?;
    directives::apply_set_element_order(&mut original, &mut patch, ty)?;

    for (key, patch_value) in patch {
        let (key, is_delete_list) = match key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            Some(rest) => match rest.strip_prefix('/') {
                Some(field) => (field.to_string(), true),
                None => return Err(PatchError::BadPatchFormatForPrimitiveList),
            },
            None => (key, false),
        };
        if patch_value.is_null() {
            original.remove(&key);
            continue;
        }
        let field_ty = ty.field(&key);
        let Some(current) = original.remove(&key) else {
            if !is_delete_list {
                if let Some(v) = directives::strip_value(patch_value) {
                    original.insert(key, v);
                }
            }
            continue;
        };
        let merged = match (current, patch_value) {
            (Value::Object(cur), Value::Object(p)) => {
                Some(Value::Object(merge_map(cur, p, field_ty)?))
            }
            (Value::Array(cur), Value::Array(p)) => Some(Value::Array(merge_list_field(
                cur,
                p,
                field_ty,
                is_delete_list,
            )?)),
            (current, _) if is_delete_list => Some(current),
            (_, p) => directives::strip_value(p),
        };
        if let Some(v) = merged {
            original.insert(key, v);
        }
    }
    Ok(original)
}

/// Merge a list-valued field according to its patch strategy.
pub(crate) fn merge_list_field(
    original: Vec<Value>,
    patch: Vec<Value>,
    ty: Ty,
    is_delete_list: bool,
) -> Result<Vec<Value>, PatchError> {
    let list = ty.list();
    match list.smp {
        Smp::MergeKey(key) => {
            list_merge::merge_list(original, patch, Some(key), *list.item, is_delete_list)
        }
        Smp::MergePrimitive => {
            list_merge::merge_list(original, patch, None, *list.item, is_delete_list)
        }
        Smp::Replace if is_delete_list => {
            list_merge::merge_list(original, patch, None, *list.item, true)
        }
        Smp::Replace => Ok(directives::strip_list(patch)),
    }
}

#[cfg(test)]
mod tests;
