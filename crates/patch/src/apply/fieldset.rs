//! Sets of field paths, as structured-merge-diff models them, and their `FieldsV1` encoding
//! (`{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}}}}`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

/// One step of a field path.
#[derive(Clone, Debug)]
pub enum PathElement {
    /// A struct field or map key (`f:name`, printed `.name`).
    Field(String),
    /// A list item identified by its key fields, sorted by name (`k:{...}`, `[name="x"]`).
    Key(Vec<(String, Value)>),
    /// A set item identified by its value (`v:...`, `[="x"]`).
    Value(Value),
    /// A list item identified by position (`i:0`, `[0]`).
    Index(usize),
}

pub type Path = Vec<PathElement>;

fn rank(v: &Value) -> u8 {
    match v {
        Value::Number(_) => 0,
        Value::String(_) => 1,
        Value::Bool(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}

/// Total order over JSON values (numbers, strings, bools, lists, maps, null).
pub fn value_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => {
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (l, r) in x.iter().zip(y) {
                let c = value_cmp(l, r);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            let sorted = |m: &Map<String, Value>| {
                let mut v: Vec<(String, Value)> =
                    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                v.sort_by(|a, b| a.0.cmp(&b.0));
                v
            };
            fields_cmp(&sorted(x), &sorted(y))
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

fn fields_cmp(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for ((ka, va), (kb, vb)) in a.iter().zip(b) {
        let c = ka.cmp(kb).then_with(|| value_cmp(va, vb));
        if c != Ordering::Equal {
            return c;
        }
    }
    a.len().cmp(&b.len())
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        use PathElement::*;
        let kind = |p: &PathElement| match p {
            Field(_) => 0,
            Key(_) => 1,
            Value(_) => 2,
            Index(_) => 3,
        };
        match (self, other) {
            (Field(a), Field(b)) => a.cmp(b),
            (Key(a), Key(b)) => fields_cmp(a, b),
            (Value(a), Value(b)) => value_cmp(a, b),
            (Index(a), Index(b)) => a.cmp(b),
            _ => kind(self).cmp(&kind(other)),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

/// A value as structured-merge-diff prints it in paths (strings quoted).
fn value_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(value_string).collect::<Vec<_>>().join(",")
        ),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", value_string(v)))
            .collect(),
        other => other.to_string(),
    }
}

impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}={}", value_string(v)))
                    .collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={}]", value_string(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// Print a path as upstream does in conflict messages (`.spec.containers[name="web"].image`).
pub fn path_string(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

impl PathElement {
    /// The `FieldsV1` key of this element.
    pub fn serialize(&self) -> String {
        match self {
            // The common case, without the formatting machinery.
            PathElement::Field(name) => ["f:", name.as_str()].concat(),
            PathElement::Key(fields) => {
                let map: Map<String, Value> = fields.iter().cloned().collect();
                // Writing a map of JSON values cannot fail.
                let json = serde_json::to_string(&map).unwrap_or_default();
                ["k:", json.as_str()].concat()
            }
            PathElement::Value(v) => format!("v:{v}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parse a `FieldsV1` key.
    pub fn parse(s: &str) -> Result<PathElement, String> {
        let (kind, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("missing colon: {s}"))?;
        match kind {
            "f" => Ok(PathElement::Field(rest.to_string())),
            "v" => serde_json::from_str(rest)
                .map(PathElement::Value)
                .map_err(|e| e.to_string()),
            "k" => {
                let Value::Object(map) = serde_json::from_str(rest).map_err(|e| e.to_string())?
                else {
                    return Err(format!("key is not an object: {s}"));
                };
                let mut fields: Vec<(String, Value)> = map.into_iter().collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(PathElement::Key(fields))
            }
            "i" => rest
                .parse()
                .map(PathElement::Index)
                .map_err(|e| e.to_string()),
            _ => Err(format!("unknown path element type: {s}")),
        }
    }
}

/// A set of paths: `members` are paths ending here, `children` hold longer paths.
/// Children are never empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                if !self.members.contains(last) {
                    self.members.insert(last.clone());
                }
            }
            // Paths share their prefixes: clone an element only where it starts a new branch.
            [first, rest @ ..] => match self.children.get_mut(first) {
                Some(child) => child.insert(rest),
                None => self.children.entry(first.clone()).or_default().insert(rest),
            },
        }
    }

    /// Adds the one-element path `pe`.
    pub(crate) fn add_member(&mut self, pe: PathElement) {
        self.members.insert(pe);
    }

    /// Adds `below`'s paths under `pe` (nothing when `below` is empty).
    pub(crate) fn add_child(&mut self, pe: &PathElement, below: FieldSet) {
        if below.is_empty() {
            return;
        }
        match self.children.get_mut(pe) {
            Some(mine) => mine.union_with(below),
            None => {
                self.children.insert(pe.clone(), below);
            }
        }
    }

    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.has(rest)),
        }
    }

    pub fn has_member(&self, pe: &PathElement) -> bool {
        self.members.contains(pe)
    }

    pub fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children.get(pe)
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, child) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    /// [`FieldSet::union`] into `self`, moving `other`'s paths instead of copying them.
    pub fn union_with(&mut self, other: FieldSet) {
        self.members.extend(other.members);
        for (pe, child) in other.children {
            match self.children.entry(pe) {
                std::collections::btree_map::Entry::Occupied(mut mine) => {
                    mine.get_mut().union_with(child)
                }
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(child);
                }
            }
        }
    }

    /// [`FieldSet::difference`] in place.
    pub fn subtract(&mut self, other: &FieldSet) {
        if !other.members.is_empty() {
            self.members.retain(|pe| !other.members.contains(pe));
        }
        if !other.children.is_empty() {
            self.children.retain(|pe, child| {
                if let Some(o) = other.children.get(pe) {
                    child.subtract(o);
                }
                !child.is_empty()
            });
        }
    }

    /// [`FieldSet::recursive_difference`] in place.
    pub fn subtract_recursive(&mut self, other: &FieldSet) {
        self.members.retain(|pe| !other.members.contains(pe));
        self.children.retain(|pe, child| {
            if other.members.contains(pe) {
                return false;
            }
            if let Some(o) = other.children.get(pe) {
                child.subtract_recursive(o);
            }
            !child.is_empty()
        });
    }

    /// Paths of `self` that are not paths of `other` (prefixes do not count).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, child)| {
                let rest = match other.children.get(pe) {
                    Some(o) => child.difference(o),
                    None => child.clone(),
                };
                (!rest.is_empty()).then(|| (pe.clone(), rest))
            })
            .collect();
        FieldSet { members, children }
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, child)| {
                let both = child.intersection(other.children.get(pe)?);
                (!both.is_empty()).then(|| (pe.clone(), both))
            })
            .collect();
        FieldSet { members, children }
    }

    /// Paths of `self` that neither are in `other` nor lie below one of its paths.
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter(|(pe, _)| !other.members.contains(pe))
            .filter_map(|(pe, child)| {
                let rest = match other.children.get(pe) {
                    Some(o) => child.recursive_difference(o),
                    None => child.clone(),
                };
                (!rest.is_empty()).then(|| (pe.clone(), rest))
            })
            .collect();
        FieldSet { members, children }
    }

    /// The subset of paths that start with `pe` (kept with their prefix).
    pub fn only(&self, pe: &PathElement) -> FieldSet {
        let mut out = FieldSet::new();
        if self.members.contains(pe) {
            out.members.insert(pe.clone());
        }
        if let Some(child) = self.children.get(pe) {
            out.children.insert(pe.clone(), child.clone());
        }
        out
    }

    /// Every path in the set, members of a level before the levels below it.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        for pe in &self.members {
            let mut p = prefix.clone();
            p.push(pe.clone());
            out.push(p);
        }
        for (pe, child) in &self.children {
            prefix.push(pe.clone());
            child.collect(prefix, out);
            prefix.pop();
        }
    }

    /// Encode as a `fieldsV1` object.
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.emit(false))
    }

    fn emit(&self, include_self: bool) -> Map<String, Value> {
        let mut out = Map::new();
        if include_self {
            out.insert(".".to_string(), Value::Object(Map::new()));
        }
        // Members and children are both sorted: merge them in one pass.
        let mut members = self.members.iter().peekable();
        let mut children = self.children.iter().peekable();
        loop {
            let next_member = members.peek().copied();
            let next_child = children.peek().map(|(pe, _)| *pe);
            let (pe, body) = match (next_member, next_child) {
                (None, None) => break,
                (Some(member), None) => {
                    members.next();
                    (member, Map::new())
                }
                (Some(member), Some(child)) if member < child => {
                    members.next();
                    (member, Map::new())
                }
                (member, Some(_)) => {
                    let Some((pe, child)) = children.next() else {
                        break;
                    };
                    let is_member = member == Some(pe);
                    if is_member {
                        members.next();
                    }
                    (pe, child.emit(is_member))
                }
            };
            out.insert(pe.serialize(), Value::Object(body));
        }
        out
    }

    /// Decode a `fieldsV1` object.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, String> {
        let Value::Object(map) = v else {
            return Err("fieldsV1 is not an object".to_string());
        };
        let mut out = FieldSet::new();
        for (k, body) in map {
            if k == "." {
                continue;
            }
            let pe = PathElement::parse(k)?;
            let Value::Object(inner) = body else {
                return Err(format!("fieldsV1 entry {k} is not an object"));
            };
            if inner.is_empty() || inner.contains_key(".") {
                out.members.insert(pe.clone());
            }
            let child = FieldSet::from_fields_v1(body)?;
            if !child.is_empty() {
                out.children.insert(pe, child);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(name: &str) -> PathElement {
        PathElement::Field(name.to_string())
    }

    #[test]
    fn in_place_set_operations_agree_with_the_copying_ones() {
        let sets = [
            json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {"f:replicas": {}}}),
            json!({"f:metadata": {"f:labels": {"f:app": {}, "f:tier": {}}}, "f:status": {"f:x": {}}}),
            json!({"f:spec": {".": {}, "f:replicas": {}, "f:template": {"f:spec": {"f:a": {}}}}}),
            json!({"f:metadata": {}, "f:spec": {"f:template": {}}}),
            json!({}),
        ]
        .map(|v| FieldSet::from_fields_v1(&v).unwrap());
        for a in &sets {
            for b in &sets {
                let mut union = a.clone();
                union.union_with(b.clone());
                assert_eq!(union, a.union(b));
                let mut difference = a.clone();
                difference.subtract(b);
                assert_eq!(difference, a.difference(b));
                let mut recursive = a.clone();
                recursive.subtract_recursive(b);
                assert_eq!(recursive, a.recursive_difference(b));
            }
        }
    }

    #[test]
    fn fields_v1_round_trip() {
        let cases = [
            json!({"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:replicas": {}, "f:selector": {}}}),
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}}),
            json!({"f:metadata": {"f:finalizers": {".": {}, "v:\"a\"": {}, "v:\"b\"": {}}}}),
            json!({"f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}}}}),
            json!({"f:x": {"i:0": {}, "i:1": {"f:y": {}}}}),
            json!({"f:a": {}, "f:b": {"f:x": {}}, "f:c": {".": {}, "f:y": {}}, "f:d": {}, "f:e": {"f:z": {}}}),
        ];
        for v in cases {
            let set = FieldSet::from_fields_v1(&v).unwrap();
            assert_eq!(set.to_fields_v1(), v);
        }
    }

    #[test]
    fn serialization_sorts_and_marks_self() {
        let mut set = FieldSet::new();
        set.insert(&[f("spec"), f("b")]);
        set.insert(&[f("spec"), f("a")]);
        set.insert(&[f("metadata"), f("labels")]);
        set.insert(&[f("metadata"), f("labels"), f("app")]);
        let encoded = serde_json::to_string(&set.to_fields_v1()).unwrap();
        assert_eq!(
            encoded,
            r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:a":{},"f:b":{}}}"#
        );
    }

    #[test]
    fn path_printing() {
        let key = PathElement::Key(vec![("name".into(), json!("web"))]);
        let path = vec![f("spec"), f("containers"), key, f("image")];
        assert_eq!(path_string(&path), ".spec.containers[name=\"web\"].image");
        assert_eq!(
            path_string(&[f("finalizers"), PathElement::Value(json!("x"))]),
            ".finalizers[=\"x\"]"
        );
        let ports = PathElement::Key(vec![
            ("containerPort".into(), json!(80)),
            ("protocol".into(), json!("TCP")),
        ]);
        assert_eq!(ports.to_string(), "[containerPort=80,protocol=\"TCP\"]");
    }

    #[test]
    fn set_algebra() {
        let mk = |paths: &[&[&str]]| {
            let mut s = FieldSet::new();
            for p in paths {
                s.insert(&p.iter().map(|n| f(n)).collect::<Vec<_>>());
            }
            s
        };
        let a = mk(&[
            &["spec", "replicas"],
            &["spec", "template", "x"],
            &["metadata"],
        ]);
        let b = mk(&[&["spec", "replicas"], &["spec", "template"]]);
        assert_eq!(
            a.difference(&b),
            mk(&[&["spec", "template", "x"], &["metadata"]])
        );
        assert_eq!(a.recursive_difference(&b), mk(&[&["metadata"]]));
        assert_eq!(a.intersection(&b), mk(&[&["spec", "replicas"]]));
        assert_eq!(a.union(&b).paths().len(), 4);
        assert!(a.has(&[f("spec"), f("template"), f("x")]));
        assert!(!a.has(&[f("spec"), f("template")]));
    }
}
