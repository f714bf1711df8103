//! Merging of lists under `patchStrategy: merge`: by merge key for lists of maps, by union for
//! lists of scalars, with `$patch: delete|replace` elements and upstream's ordering rules
//! (patch order first, server-only elements kept near their live neighbours).

use serde_json::{Map, Value};

use super::directives::strip_value;
use super::schema::Ty;
use super::{merge_map, PATCH_DIRECTIVE};
use crate::error::go_format;
use crate::PatchError;

/// What a list holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ItemKind {
    Map,
    Scalar,
}

impl ItemKind {
    /// Element kind shared by both lists; `None` when both are empty.
    pub(crate) fn of(a: &[Value], b: &[Value]) -> Result<Option<ItemKind>, PatchError> {
        let mut kind = None;
        for v in a.iter().chain(b) {
            let this = match v {
                Value::Array(_) => return Err(PatchError::NoListOfLists),
                Value::Object(_) => ItemKind::Map,
                _ => ItemKind::Scalar,
            };
            match kind {
                None => kind = Some(this),
                Some(k) if k != this => {
                    let expected = if k == ItemKind::Map { "map" } else { "scalar" };
                    return Err(PatchError::bad_arg(expected, v));
                }
                Some(_) => {}
            }
        }
        Ok(kind)
    }
}

/// Merge `patch` into `original` for a list with merge strategy. `key` is the merge key
/// (required for lists of maps); `is_delete_list` marks a `$deleteFromPrimitiveList/` list.
pub(crate) fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    key: Option<&str>,
    item: Ty,
    is_delete_list: bool,
) -> Result<Vec<Value>, PatchError> {
    let Some(kind) = ItemKind::of(&original, &patch)? else {
        return Ok(original);
    };
    match kind {
        ItemKind::Scalar => {
            if is_delete_list {
                return Ok(original
                    .into_iter()
                    .filter(|v| !patch.contains(v))
                    .collect());
            }
            let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
            for v in original.iter().chain(&patch) {
                if !merged.contains(v) {
                    merged.push(v.clone());
                }
            }
            let (in_patch, server_only) = partition(merged, &patch, None)?;
            normalize_order(in_patch, server_only, &patch, &original, None)
        }
        ItemKind::Map => {
            let key = key.ok_or_else(|| PatchError::MissingMergeKey("list".to_string()))?;
            let (original, patch) = split_special_elements(original, patch, key)?;
            let server_order = original.clone();
            let merged = merge_by_key(original, patch.clone(), key, item)?;
            let (in_patch, server_only) = partition(merged, &patch, Some(key))?;
            normalize_order(in_patch, server_only, &patch, &server_order, Some(key))
        }
    }
}

fn as_map(v: Value) -> Result<Map<String, Value>, PatchError> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(PatchError::bad_arg("map", &other)),
    }
}

/// Handle `$patch` elements: `delete` removes live elements with the same key, `replace`
/// makes the remaining patch elements the whole list. Returns (original, plain patch elements).
fn split_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for v in patch {
        let m = as_map(v)?;
        match m.get(PATCH_DIRECTIVE) {
            None => plain.push(Value::Object(m)),
            Some(d) => match d.as_str() {
                Some("delete") => {
                    let Some(wanted) = m.get(key) else {
                        return Err(PatchError::no_merge_key(&m, key));
                    };
                    original.retain(|o| o.get(key) != Some(wanted));
                }
                Some("replace") => replace = true,
                Some("merge") => return Err(PatchError::MergeListDirective),
                _ => return Err(PatchError::bad_patch_type(d, &m)),
            },
        }
    }
    if replace {
        Ok((plain, Vec::new()))
    } else {
        Ok((original, plain))
    }
}

/// Merge each patch element into the live element with the same key, or append it.
fn merge_by_key(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
    item: Ty,
) -> Result<Vec<Value>, PatchError> {
    for v in patch {
        let m = as_map(v)?;
        let Some(wanted) = m.get(key) else {
            return Err(PatchError::no_merge_key(&m, key));
        };
        match original.iter().position(|o| o.get(key) == Some(wanted)) {
            Some(pos) => {
                let current = as_map(std::mem::take(&mut original[pos]))?;
                original[pos] = Value::Object(merge_map(current, m, item)?);
            }
            None => {
                if let Some(v) = strip_value(Value::Object(m)) {
                    original.push(v);
                }
            }
        }
    }
    Ok(original)
}

fn key_of<'a>(v: &'a Value, key: Option<&str>) -> Result<&'a Value, PatchError> {
    match key {
        None => Ok(v),
        Some(k) => match v {
            Value::Object(m) => m.get(k).ok_or_else(|| PatchError::no_merge_key(m, k)),
            other => Err(PatchError::bad_arg("map", other)),
        },
    }
}

/// Position of the element matching `item` (by merge key, or by value for scalars).
fn index_of(list: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    let wanted = match key {
        None => item,
        Some(k) => item.get(k)?,
    };
    list.iter().position(|v| match key {
        None => v == wanted,
        Some(k) => v.get(k) == Some(wanted),
    })
}

/// Split `merged` into the elements present in `by` and the others, keeping order.
pub(crate) fn partition(
    merged: Vec<Value>,
    by: &[Value],
    key: Option<&str>,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut present = Vec::new();
    let mut absent = Vec::new();
    for v in merged {
        let wanted = key_of(&v, key)?;
        let found = by.iter().any(|b| match key {
            None => b == wanted,
            Some(k) => b.get(k) == Some(wanted),
        });
        if found {
            present.push(v);
        } else {
            absent.push(v);
        }
    }
    Ok((present, absent))
}

fn sort_by_order(
    mut items: Vec<Value>,
    order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, PatchError> {
    for v in items.iter().chain(order) {
        key_of(v, key)?;
    }
    items.sort_by_key(|v| index_of(order, v, key).unwrap_or(usize::MAX));
    Ok(items)
}

/// Order patch elements by `order` and server-only elements by `server_order`, then
/// interleave them: a server-only element goes first only when both are in the live list
/// and it came first there.
pub(crate) fn normalize_order(
    in_patch: Vec<Value>,
    server_only: Vec<Value>,
    order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, PatchError> {
    let right = sort_by_order(in_patch, order, key)?;
    let left = sort_by_order(server_only, server_order, key)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => match (
                index_of(server_order, l, key),
                index_of(server_order, r, key),
            ) {
                (Some(li), Some(ri)) => li < ri,
                _ => false,
            },
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    Ok(out)
}

/// Check that the patch list's elements appear in the `$setElementOrder` list, in order.
pub(crate) fn validate_order(
    patch: &[Value],
    order: &[Value],
    key: Option<&str>,
) -> Result<(), PatchError> {
    if patch.is_empty() || order.is_empty() {
        return Ok(());
    }
    let is_delete = |v: &Value| v.get(PATCH_DIRECTIVE).and_then(Value::as_str) == Some("delete");
    let candidates: Vec<&Value> = match key {
        Some(_) => patch.iter().filter(|v| !is_delete(v)).collect(),
        None => patch.iter().collect(),
    };
    let (mut pi, mut oi) = (0, 0);
    while pi < candidates.len() && oi < order.len() {
        if candidates[pi].get(PATCH_DIRECTIVE).is_some() {
            pi += 1;
            continue;
        }
        if key_of(candidates[pi], key)? == key_of(&order[oi], key)? {
            pi += 1;
        }
        oi += 1;
    }
    if pi < candidates.len() && oi >= order.len() {
        return Err(PatchError::SetElementOrderMismatch {
            patch: go_format(&Value::Array(patch.to_vec())),
            order: go_format(&Value::Array(order.to_vec())),
        });
    }
    Ok(())
}
