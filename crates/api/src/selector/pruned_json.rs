//! Parsing chosen paths of a JSON document and skipping the rest: what a cache needs to filter an
//! object (its labels and a few fields) without building the whole object as values.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::json_key::JsonKey;

/// The paths to keep, as a tree of object keys (or array indexes). A path's last node keeps its
/// whole value.
#[derive(Debug, Default)]
pub struct PathTree {
    whole: bool,
    children: BTreeMap<String, PathTree>,
}

impl PathTree {
    /// From JSON pointers (`/status/podIPs/0/ip`); tokens are taken literally (no `~` escapes).
    pub fn from_pointers<'a>(pointers: impl IntoIterator<Item = &'a str>) -> Self {
        let mut root = PathTree::default();
        for pointer in pointers {
            let mut node = &mut root;
            for token in pointer.split('/').skip(1) {
                node = node.children.entry(token.to_string()).or_default();
            }
            node.whole = true;
        }
        root
    }
}

/// `json` with only the paths of `tree` in it: objects keep only the keys on a path, arrays the
/// items up to the last index on one (those before it that are not on one become null).
pub fn parse_pruned(json: &[u8], tree: &PathTree) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let value = Pruned(tree).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

struct Pruned<'t>(&'t PathTree);

impl<'de> DeserializeSeed<'de> for Pruned<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.0.whole {
            Value::deserialize(deserializer)
        } else {
            deserializer.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Pruned<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = Map::new();
        while let Some(JsonKey(key)) = map.next_key::<JsonKey<'de>>()? {
            match self.0.children.get(key.as_ref()) {
                Some(child) => {
                    let value = map.next_value_seed(Pruned(child))?;
                    kept.insert(key.into_owned(), value);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(kept))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let last_wanted = self
            .0
            .children
            .keys()
            .filter_map(|key| key.parse::<usize>().ok())
            .max();
        let mut kept = Vec::new();
        let mut index = 0;
        loop {
            let child = last_wanted
                .filter(|last| index <= *last)
                .and_then(|_| self.0.children.get(&index.to_string()));
            let item = match child {
                Some(child) => seq.next_element_seed(Pruned(child))?,
                None => seq.next_element::<IgnoredAny>()?.map(|_| Value::Null),
            };
            let Some(item) = item else { break };
            if last_wanted.is_some_and(|last| index <= last) {
                kept.push(item);
            }
            index += 1;
        }
        Ok(Value::Array(kept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pruned(document: &Value, pointers: &[&str]) -> Value {
        let bytes = serde_json::to_vec(document).expect("json");
        parse_pruned(&bytes, &PathTree::from_pointers(pointers.iter().copied())).expect("parses")
    }

    #[test]
    fn only_the_paths_asked_for_are_kept() {
        let document = json!({
            "metadata": {"name": "n", "labels": {"a": "b"}, "managedFields": [{"x": 1}]},
            "spec": {"nodeName": "node", "containers": [{"name": "c"}], "n": -3, "f": 1.5},
            "status": {"podIPs": [{"ip": "1"}, {"ip": "2"}], "phase": null}
        });
        let kept = pruned(
            &document,
            &[
                "/metadata/name",
                "/metadata/labels",
                "/spec/nodeName",
                "/spec/n",
                "/spec/f",
                "/status/podIPs/0/ip",
                "/status/phase",
                "/absent/too",
            ],
        );
        assert_eq!(
            kept,
            json!({
                "metadata": {"name": "n", "labels": {"a": "b"}},
                "spec": {"nodeName": "node", "n": -3, "f": 1.5},
                "status": {"podIPs": [{"ip": "1"}], "phase": null}
            })
        );
    }

    #[test]
    fn a_path_ending_above_another_keeps_its_whole_value() {
        let document = json!({"involvedObject": {"kind": "Pod", "name": "p"}});
        let kept = pruned(&document, &["/involvedObject", "/involvedObject/name"]);
        assert_eq!(kept, document);
    }

    #[test]
    fn escaped_keys_and_unexpected_shapes_parse() {
        let bytes = br#"{"meta\"data":{"name":1},"spec":"not an object","status":[1,2]}"#;
        let tree = PathTree::from_pointers(["/meta\"data/name", "/spec/nodeName", "/status/x"]);
        let kept = parse_pruned(bytes, &tree).expect("parses");
        assert_eq!(
            kept,
            json!({"meta\"data": {"name": 1}, "spec": "not an object", "status": []})
        );
        assert!(parse_pruned(b"{\"a\":1} trailing", &tree).is_err());
        assert!(parse_pruned(b"{\"a\":", &tree).is_err());
    }
}
