//! Field sets of values and the difference between two values, walked against the schema
//! (structured-merge-diff's ToFieldSet and Compare).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fieldset::{FieldSet, Path, PathElement};
use crate::strategic::builtin::{self, S};
use crate::strategic::schema::{Ssa, Ty};

/// Path element naming `item` in a list of type `ssa`, or `None` for atomic lists.
pub(crate) fn item_element(item: &Value, ssa: Ssa, index: usize) -> Option<PathElement> {
    match ssa {
        Ssa::Atomic => None,
        Ssa::Set => Some(PathElement::Value(item.clone())),
        Ssa::Map(keys) => {
            let Value::Object(m) = item else {
                return Some(PathElement::Index(index));
            };
            let mut fields: Vec<(String, Value)> = keys
                .iter()
                .filter_map(|k| {
                    let v = m.get(*k).cloned().or_else(|| key_default(k))?;
                    Some((k.to_string(), v))
                })
                .collect();
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Some(PathElement::Key(fields))
        }
    }
}

/// Defaults of key fields that may be left out (ports' `protocol`).
fn key_default(key: &str) -> Option<Value> {
    (key == "protocol").then(|| Value::String("TCP".to_string()))
}

fn is_granular_list(ty: Ty) -> bool {
    !matches!(ty.list().ssa, Ssa::Atomic)
}

/// Every field set in `value`: leaves, list items, empty or null fields, atomic values.
pub fn to_field_set(value: &Value, ty: Ty) -> FieldSet {
    let mut out = FieldSet::new();
    walk_set(value, ty, &mut Vec::new(), &mut out);
    out
}

fn walk_set(value: &Value, ty: Ty, path: &mut Path, out: &mut FieldSet) {
    match value {
        Value::Object(map) if !ty.is_atomic() => {
            for (k, child) in map {
                path.push(PathElement::Field(k.clone()));
                walk_set(child, ty.field(k), path, out);
                let empty_map = child.as_object().is_some_and(Map::is_empty);
                if child.is_null() || empty_map {
                    out.insert(path);
                }
                path.pop();
            }
        }
        Value::Array(items) if is_granular_list(ty) => {
            let list = ty.list();
            for (i, item) in items.iter().enumerate() {
                let Some(pe) = item_element(item, list.ssa, i) else {
                    continue;
                };
                path.push(pe);
                if matches!(list.ssa, Ssa::Map(_)) {
                    walk_set(item, *list.item, path, out);
                }
                out.insert(path);
                path.pop();
            }
        }
        _ => out.insert(path),
    }
}

/// Fields added, changed and removed between two versions of an object (whose
/// `metadata.managedFields` are not compared).
#[derive(Debug, Default)]
pub struct Comparison {
    pub added: FieldSet,
    pub modified: FieldSet,
    pub removed: FieldSet,
}

pub fn compare(lhs: &Value, rhs: &Value, ty: Ty) -> Comparison {
    walk_compare(Some(lhs), Some(rhs), ty, Level::Root).below
}

/// Where a compared value sits, as far as skipping `metadata.managedFields` needs to know.
#[derive(Clone, Copy, PartialEq)]
enum Level {
    Root,
    RootMetadata,
    Deeper,
}

/// One compared value: how it changed itself, and the changes below it (paths relative to it).
///
/// Sets are built from the leaves up, each level attaching its children's sets under their path
/// element, rather than inserting every full path from the root: a create compares every field
/// of the new object, and walking down from the root for each was most of the comparison.
#[derive(Default)]
struct Compared {
    added: bool,
    modified: bool,
    removed: bool,
    below: Comparison,
}

impl Compared {
    fn is_unchanged(&self) -> bool {
        !self.added
            && !self.modified
            && !self.removed
            && self.below.added.is_empty()
            && self.below.modified.is_empty()
            && self.below.removed.is_empty()
    }

    /// Records `child`, found at `pe` below this value.
    fn attach(&mut self, pe: &PathElement, child: Compared) {
        let sets = [
            (&mut self.below.added, child.added, child.below.added),
            (
                &mut self.below.modified,
                child.modified,
                child.below.modified,
            ),
            (&mut self.below.removed, child.removed, child.below.removed),
        ];
        for (set, is_member, below) in sets {
            if is_member {
                set.add_member(pe.clone());
            }
            set.add_child(pe, below);
        }
    }
}

fn walk_compare<'v>(
    lhs: Option<&'v Value>,
    rhs: Option<&'v Value>,
    ty: Ty,
    level: Level,
) -> Compared {
    // A `null` next to a map or list counts as an empty one, as Go's zero values do.
    let empty_or = |v: Option<&Value>, f: fn(&Value) -> bool| v.is_none_or(|v| v.is_null() || f(v));
    let granular_map = |v: Option<&Value>| empty_or(v, Value::is_object) && !ty.is_atomic();
    let granular_list = |v: Option<&Value>| empty_or(v, Value::is_array) && is_granular_list(ty);
    let both_maps = granular_map(lhs)
        && granular_map(rhs)
        && (lhs.is_some_and(Value::is_object) || rhs.is_some_and(Value::is_object));
    let both_lists = granular_list(lhs)
        && granular_list(rhs)
        && (lhs.is_some_and(Value::is_array) || rhs.is_some_and(Value::is_array));
    let mut out = Compared::default();
    if both_maps {
        let empty = Map::new();
        let l = lhs.and_then(Value::as_object).unwrap_or(&empty);
        let r = rhs.and_then(Value::as_object).unwrap_or(&empty);
        for k in l.keys().chain(r.keys().filter(|k| !l.contains_key(*k))) {
            let child_level = match level {
                Level::Root if k == "metadata" => Level::RootMetadata,
                Level::RootMetadata if k == "managedFields" => continue,
                _ => Level::Deeper,
            };
            let child = walk_compare(l.get(k), r.get(k), ty.field(k), child_level);
            if child.is_unchanged() {
                continue;
            }
            out.attach(&PathElement::Field(k.clone()), child);
        }
    } else if both_lists {
        let list = ty.list();
        let (l, r) = (
            items_by_element(lhs, list.ssa),
            items_by_element(rhs, list.ssa),
        );
        let mut pes: Vec<&PathElement> = l.keys().collect();
        pes.extend(r.keys().filter(|pe| !l.contains_key(*pe)));
        let item_ty = item_type(list);
        for pe in pes {
            let child = walk_compare(
                l.get(pe).copied(),
                r.get(pe).copied(),
                item_ty,
                Level::Deeper,
            );
            if !child.is_unchanged() {
                out.attach(pe, child);
            }
        }
    } else if let (Some(l), Some(r)) = (lhs, rhs) {
        out.modified = l != r;
        return out;
    }
    match (lhs, rhs) {
        (None, Some(_)) => out.added = true,
        (Some(_), None) => out.removed = true,
        _ => {}
    }
    out
}

/// A list's items by the path element that names each (first wins); atomic lists have none.
fn items_by_element(list: Option<&Value>, ssa: Ssa) -> BTreeMap<PathElement, &Value> {
    let mut items = BTreeMap::new();
    for (i, item) in list
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(pe) = item_element(item, ssa, i) {
            items.entry(pe).or_insert(item);
        }
    }
    items
}

/// The type items of `list` are compared as: their own for associative lists, atomic for sets.
fn item_type(list: crate::strategic::schema::ListTy) -> Ty {
    if matches!(list.ssa, Ssa::Map(_)) {
        *list.item
    } else {
        crate::strategic::schema::ATOMIC
    }
}

/// What a freshly created object of this type looks like before its fields are set: the
/// non-pointer structs Go always serializes.
pub fn skeleton(ty: Ty) -> Value {
    let Ty::Struct(s) = ty else {
        return Value::Object(Map::new());
    };
    Value::Object(skeleton_of(s))
}

fn skeleton_of(s: S) -> Map<String, Value> {
    builtin::skeleton_fields(s)
        .iter()
        .map(|(name, child)| {
            let v = child.map_or(Value::Null, |c| Value::Object(skeleton_of(c)));
            (name.to_string(), v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Schema;
    use serde_json::json;

    fn deploy() -> Ty {
        Schema::for_kind("apps/v1", "Deployment").root()
    }

    #[test]
    fn field_set_of_applied_deployment() {
        let applied = json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"app":"web"},"name":"web","namespace":"default"},
            "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
            "spec":{"containers":[{"image":"registry.k8s.io/pause:3.10","name":"web","resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}]}}}});
        let set = to_field_set(&applied, deploy());
        let expected = json!({"f:apiVersion":{},"f:kind":{},"f:metadata":{"f:labels":{"f:app":{}},"f:name":{},"f:namespace":{}},
            "f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},
            "f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"f:resources":{"f:requests":{"f:cpu":{},"f:memory":{}}}}}}}}});
        assert_eq!(set.to_fields_v1(), expected);
    }

    #[test]
    fn sets_and_port_keys() {
        let pod = Schema::for_kind("v1", "Pod").root();
        let v = json!({"metadata": {"finalizers": ["a"]}, "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}], "tolerations": [{"key": "k"}]}});
        let expected = json!({"f:metadata": {"f:finalizers": {"v:\"a\"": {}}},
            "f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:name": {}, "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}}}, "f:tolerations": {}}});
        assert_eq!(to_field_set(&v, pod).to_fields_v1(), expected);
    }

    /// The comparison as a direct reading of structured-merge-diff: every changed path inserted
    /// from the root. The leaves-up [`compare`] must give the same sets.
    fn compare_by_full_paths(lhs: &Value, rhs: &Value, ty: Ty) -> Comparison {
        fn walk(
            l: Option<&Value>,
            r: Option<&Value>,
            ty: Ty,
            path: &mut Path,
            out: &mut Comparison,
        ) {
            let empty_or =
                |v: Option<&Value>, f: fn(&Value) -> bool| v.is_none_or(|v| v.is_null() || f(v));
            let map_like = |v: Option<&Value>| empty_or(v, Value::is_object) && !ty.is_atomic();
            let list_like =
                |v: Option<&Value>| empty_or(v, Value::is_array) && is_granular_list(ty);
            let some = |f: fn(&Value) -> bool| l.is_some_and(f) || r.is_some_and(f);
            if map_like(l) && map_like(r) && some(Value::is_object) {
                let empty = Map::new();
                let (lm, rm) = (
                    l.and_then(Value::as_object).unwrap_or(&empty),
                    r.and_then(Value::as_object).unwrap_or(&empty),
                );
                for k in lm.keys().chain(rm.keys().filter(|k| !lm.contains_key(*k))) {
                    let under_metadata =
                        matches!(path.as_slice(), [PathElement::Field(f)] if f == "metadata");
                    if under_metadata && k == "managedFields" {
                        continue;
                    }
                    path.push(PathElement::Field(k.clone()));
                    walk(lm.get(k), rm.get(k), ty.field(k), path, out);
                    path.pop();
                }
            } else if list_like(l) && list_like(r) && some(Value::is_array) {
                let list = ty.list();
                let (li, ri) = (items_by_element(l, list.ssa), items_by_element(r, list.ssa));
                let item_ty = item_type(list);
                for pe in li
                    .keys()
                    .chain(ri.keys().filter(|pe| !li.contains_key(*pe)))
                {
                    path.push(pe.clone());
                    walk(li.get(pe).copied(), ri.get(pe).copied(), item_ty, path, out);
                    path.pop();
                }
            } else if let (Some(l), Some(r)) = (l, r) {
                if l != r {
                    out.modified.insert(path);
                }
                return;
            }
            match (l, r) {
                (None, Some(_)) => out.added.insert(path),
                (Some(_), None) => out.removed.insert(path),
                _ => {}
            }
        }
        let mut out = Comparison::default();
        walk(Some(lhs), Some(rhs), ty, &mut Vec::new(), &mut out);
        out
    }

    #[test]
    fn leaves_up_comparison_matches_full_paths() {
        let pod = Schema::for_kind("v1", "Pod").root();
        let base = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": ["x"],
                "managedFields": [{"manager": "m"}], "annotations": null},
            "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}],
                "env": [{"name": "E", "value": "1"}], "args": ["a", "b"]}],
                "tolerations": [{"key": "k"}], "nodeSelector": {}, "volumes": null},
            "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]}});
        let changed = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "labels": {"b": "2"}, "finalizers": ["x", "y"],
                "managedFields": [{"manager": "other"}], "annotations": {"n": "v"}},
            "spec": {"containers": [{"name": "c", "image": "j", "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 81}],
                "env": [{"name": "E", "value": "2"}, {"name": "F"}], "args": ["b"]},
                {"name": "d", "image": "i"}],
                "tolerations": [], "nodeName": "n1"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "podIP": "10.0.0.1"}});
        let skeleton_pod = skeleton(pod);
        let pairs = [
            (&base, &changed),
            (&changed, &base),
            (&base, &base),
            (&skeleton_pod, &base),
            (&skeleton_pod, &changed),
            (&base, &skeleton_pod),
        ];
        for (l, r) in pairs {
            let fast = compare(l, r, pod);
            let reference = compare_by_full_paths(l, r, pod);
            assert_eq!(fast.added, reference.added, "added {l} -> {r}");
            assert_eq!(fast.modified, reference.modified, "modified {l} -> {r}");
            assert_eq!(fast.removed, reference.removed, "removed {l} -> {r}");
        }
        assert!(!compare(&base, &changed, pod).modified.is_empty());
    }

    #[test]
    fn compare_marks_new_subtrees() {
        let old = skeleton(deploy());
        let new = json!({"metadata": {"labels": {"app": "a"}}, "spec": {"replicas": 1, "strategy": {"rollingUpdate": {"maxSurge": 1}}, "template": {"metadata": {}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}, "status": {}});
        let cmp = compare(&old, &new, deploy());
        let expected = json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {"f:replicas": {},
            "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}}},
            "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}});
        assert_eq!(cmp.added.to_fields_v1(), expected);
        assert!(cmp.modified.is_empty());

        let changed = compare(
            &new,
            &json!({"metadata": {"labels": {"app": "b"}}, "spec": {"template": {"spec": {"containers": []}}}}),
            deploy(),
        );
        assert_eq!(
            changed.modified.to_fields_v1(),
            json!({"f:metadata": {"f:labels": {"f:app": {}}}})
        );
        assert!(changed.removed.has(&[
            PathElement::Field("spec".into()),
            PathElement::Field("replicas".into())
        ]));
    }
}
