//! The map-level directives of strategic merge patch: `$retainKeys`, `$setElementOrder/`, and
//! the clean-up of directives and `null`s from patch values that are copied in as they are.

use serde_json::{Map, Value};

use super::list_merge::{self, ItemKind};
use super::schema::{Smp, Ty};
use super::{
    merge_list_field, DELETE_FROM_PRIMITIVE_LIST, PATCH_DIRECTIVE, RETAIN_KEYS, SET_ELEMENT_ORDER,
};
use crate::PatchError;

fn is_directive_key(key: &str) -> bool {
    key == RETAIN_KEYS
        || key.starts_with(SET_ELEMENT_ORDER)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
}

/// A patch value copied in where the original has nothing to merge with: `null`s are dropped,
/// maps marked `$patch: delete` vanish, other directives are removed.
pub(crate) fn strip_value(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(mut map) => match map.remove(PATCH_DIRECTIVE) {
            Some(d) if d.as_str() == Some("delete") => None,
            Some(_) | None => Some(Value::Object(strip_map(map))),
        },
        Value::Array(items) => Some(Value::Array(strip_list(items))),
        other => Some(other),
    }
}

pub(crate) fn strip_map(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .filter(|(k, _)| !is_directive_key(k) && k != PATCH_DIRECTIVE)
        .filter_map(|(k, v)| strip_value(v).map(|v| (k, v)))
        .collect()
}

/// List elements that are directive markers (`{"$patch": ...}`) are dropped.
pub(crate) fn strip_list(items: Vec<Value>) -> Vec<Value> {
    items
        .into_iter()
        .filter(|v| {
            !v.as_object()
                .is_some_and(|m| m.contains_key(PATCH_DIRECTIVE))
        })
        .filter_map(strip_value)
        .collect()
}

/// `$retainKeys`: drop every key of `original` not listed.
pub(crate) fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), PatchError> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(PatchError::BadPatchFormatForRetainKeys);
    };
    let listed = |k: &str| retain.iter().any(|r| r.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || k.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if !listed(k) {
            return Err(PatchError::BadPatchFormatForRetainKeys);
        }
    }
    original.retain(|k, _| listed(k));
    Ok(())
}

/// `$setElementOrder/<field>`: merge the field's patch list (if any) and order the result as
/// the directive lists, server-only elements keeping their place relative to the live order.
/// The directive and the field's patch list are removed from `patch`.
pub(crate) fn apply_set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    ty: Ty,
) -> Result<(), PatchError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive_key in keys {
        let Some(order) = patch.remove(&directive_key) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(PatchError::bad_arg("slice", &order));
        };
        let field = directive_key
            .strip_prefix(SET_ELEMENT_ORDER)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or(PatchError::BadPatchFormatForSetElementOrderList)?
            .to_string();
        let field_ty = ty.field(&field);
        let merge_key = match field_ty.list().smp {
            Smp::MergeKey(k) => Some(k),
            _ => None,
        };
        let original_list = match original.get(&field) {
            Some(Value::Array(items)) => Some(items.clone()),
            Some(other) => return Err(PatchError::bad_arg("slice", other)),
            None => None,
        };
        let patch_list = match patch.remove(&field) {
            Some(Value::Array(items)) => Some(items),
            Some(other) => return Err(PatchError::bad_arg("slice", &other)),
            None => None,
        };
        list_merge::validate_order(patch_list.as_deref().unwrap_or(&[]), &order, merge_key)?;

        let kind = ItemKind::of(
            original_list.as_deref().unwrap_or(&[]),
            patch_list.as_deref().unwrap_or(&[]),
        )?;
        let server_order = original_list.clone().unwrap_or_default();
        let merged = match (original_list, patch_list) {
            (Some(cur), None) => cur,
            (None, Some(p)) => strip_list(p),
            (Some(cur), Some(p)) => merge_list_field(cur, p, field_ty, false)?,
            (None, None) => continue,
        };
        let Some(kind) = kind else {
            original.insert(field, Value::Array(merged));
            continue;
        };
        let key = if kind == ItemKind::Map {
            merge_key
        } else {
            None
        };
        let (in_order, server_only) = list_merge::partition(merged, &order, key)?;
        let ordered =
            list_merge::normalize_order(in_order, server_only, &order, &server_order, key)?;
        original.insert(field, Value::Array(ordered));
    }
    Ok(())
}
