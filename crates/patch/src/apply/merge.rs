//! Merging an applied configuration into the live object, and pruning the fields an applier
//! stopped applying (structured-merge-diff's Merge and prune).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::fieldset::{FieldSet, PathElement};
use super::typed::item_element;
use crate::strategic::schema::{Ssa, Ty};

fn without_nulls(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(m) => Some(Value::Object(
            m.iter()
                .filter_map(|(k, v)| without_nulls(v).map(|v| (k.clone(), v)))
                .collect(),
        )),
        Value::Array(items) => Some(Value::Array(
            items.iter().filter_map(without_nulls).collect(),
        )),
        other => Some(other.clone()),
    }
}

/// Merge `rhs` (applied) into `lhs` (live). `null`s in `rhs` remove the field.
pub fn merge(lhs: Option<&Value>, rhs: &Value, ty: Ty) -> Option<Value> {
    if ty.is_atomic() {
        return without_nulls(rhs);
    }
    match (lhs, rhs) {
        (Some(Value::Object(l)), Value::Object(r)) => {
            let mut out = l.clone();
            for (k, rv) in r {
                match merge(l.get(k), rv, ty.field(k)) {
                    Some(v) => out.insert(k.clone(), v),
                    None => out.remove(k),
                };
            }
            Some(Value::Object(out))
        }
        (Some(Value::Array(l)), Value::Array(r)) if !matches!(ty.list().ssa, Ssa::Atomic) => {
            Some(Value::Array(merge_list(l, r, ty)))
        }
        _ => without_nulls(rhs),
    }
}

/// Merge associative lists: live items keep their place, applied items follow the applied
/// order, new applied items land after the applied item before them.
fn merge_list(lhs: &[Value], rhs: &[Value], ty: Ty) -> Vec<Value> {
    let list = ty.list();
    let item_ty = if matches!(list.ssa, Ssa::Map(_)) {
        *list.item
    } else {
        crate::strategic::schema::ATOMIC
    };
    let elements = |items: &[Value]| -> (Vec<PathElement>, BTreeMap<PathElement, Value>) {
        let mut pes = Vec::new();
        let mut seen = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            let pe = item_element(item, list.ssa, i).unwrap_or(PathElement::Index(i));
            seen.entry(pe.clone()).or_insert_with(|| item.clone());
            pes.push(pe);
        }
        (pes, seen)
    };
    let (lpes, lseen) = elements(lhs);
    let (rpes, rseen) = elements(rhs);
    let mut shared = rpes
        .iter()
        .filter(|pe| lseen.contains_key(*pe))
        .cloned()
        .collect::<Vec<_>>()
        .into_iter();
    let mut next_shared = shared.next();
    let mut merged_rhs: BTreeSet<PathElement> = BTreeSet::new();
    let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
    let (mut li, mut ri) = (0, 0);
    while li < lpes.len() || ri < rpes.len() {
        if li < lpes.len() && ri < rpes.len() {
            let pe = &lpes[li];
            if *pe == rpes[ri] {
                merged_rhs.insert(pe.clone());
                out.extend(merge(lseen.get(pe), &rseen[pe], item_ty));
                li += 1;
                ri += 1;
                next_shared = shared.next();
                continue;
            }
            if rseen.contains_key(pe) && next_shared.as_ref().is_some_and(|n| n != pe) {
                li += 1;
                continue;
            }
        }
        if li < lpes.len() {
            let pe = &lpes[li];
            if !rseen.contains_key(pe) {
                out.push(lhs[li].clone());
                li += 1;
                continue;
            }
            if merged_rhs.contains(pe) {
                li += 1;
            }
        }
        if ri < rpes.len() {
            let pe = rpes[ri].clone();
            out.extend(merge(lseen.get(&pe), &rseen[&pe], item_ty));
            ri += 1;
            if next_shared.as_ref() == Some(&pe) {
                next_shared = shared.next();
            }
            merged_rhs.insert(pe);
        }
    }
    out
}

/// Remove from `value` the paths in `last` (what the applier owned before) that nobody owns
/// any more (`owned`), nor anything below them.
pub fn prune(value: &mut Value, ty: Ty, last: &FieldSet, owned: Option<&FieldSet>) {
    let removable = |pe: &PathElement| {
        last.has_member(pe) && !owned.is_some_and(|o| o.has_member(pe) || o.child(pe).is_some())
    };
    match value {
        Value::Object(map) if !ty.is_atomic() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let pe = PathElement::Field(k.clone());
                if removable(&pe) {
                    map.remove(&k);
                    continue;
                }
                let Some(last_child) = last.child(&pe) else {
                    continue;
                };
                let owned_child = owned.and_then(|o| o.child(&pe));
                if let Some(child) = map.get_mut(&k) {
                    let was_empty = is_empty_container(child);
                    prune(child, ty.field(&k), last_child, owned_child);
                    let owned_self = owned.is_some_and(|o| o.has_member(&pe));
                    if !was_empty && is_empty_container(child) && !owned_self {
                        map.remove(&k);
                    }
                }
            }
        }
        Value::Array(items) if !matches!(ty.list().ssa, Ssa::Atomic) => {
            let list = ty.list();
            let item_ty = *list.item;
            let mut kept = Vec::with_capacity(items.len());
            for (i, mut item) in std::mem::take(items).into_iter().enumerate() {
                let Some(pe) = item_element(&item, list.ssa, i) else {
                    kept.push(item);
                    continue;
                };
                if removable(&pe) {
                    continue;
                }
                if let (Some(last_child), Ssa::Map(_)) = (last.child(&pe), list.ssa) {
                    prune(
                        &mut item,
                        item_ty,
                        last_child,
                        owned.and_then(|o| o.child(&pe)),
                    );
                }
                kept.push(item);
            }
            *items = kept;
        }
        _ => {}
    }
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Sort object keys recursively (Go's encoding of maps), for the last-applied annotation.
pub fn sorted_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted_keys(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted_keys).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Schema;
    use serde_json::json;

    fn pod() -> Ty {
        Schema::for_kind("v1", "Pod").root()
    }

    #[test]
    fn merge_cases() {
        let cases = [
            (
                json!({"a": 1, "b": {"c": 1}}),
                json!({"b": {"d": 2}}),
                json!({"a": 1, "b": {"c": 1, "d": 2}}),
            ),
            (json!({"a": 1}), json!({"a": null}), json!({})),
            (
                json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}}),
                json!({"spec": {"containers": [{"name": "b", "image": "y"}, {"name": "c"}]}}),
                json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}, {"name": "c"}]}}),
            ),
            (
                json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}),
                json!({"spec": {"containers": [{"name": "b"}, {"name": "a"}]}}),
                json!({"spec": {"containers": [{"name": "b"}, {"name": "a"}]}}),
            ),
            (
                json!({"spec": {"tolerations": [{"key": "a"}]}}),
                json!({"spec": {"tolerations": [{"key": "b"}]}}),
                json!({"spec": {"tolerations": [{"key": "b"}]}}),
            ),
            (
                json!({"metadata": {"finalizers": ["a", "b"]}}),
                json!({"metadata": {"finalizers": ["c", "a"]}}),
                json!({"metadata": {"finalizers": ["c", "a", "b"]}}),
            ),
            (
                json!({"spec": {"nodeSelector": {"a": "1"}}}),
                json!({"spec": {"nodeSelector": {"b": "2"}}}),
                json!({"spec": {"nodeSelector": {"b": "2"}}}),
            ),
        ];
        for (lhs, rhs, expected) in cases {
            assert_eq!(
                merge(Some(&lhs), &rhs, pod()),
                Some(expected),
                "apply {rhs}"
            );
        }
    }
}
