//! JSON objects may not repeat a key: strict field validation reports duplicates (Warn, the
//! default, returns them as warnings), so every JSON body is scanned for them.
//!
//! The scan builds nothing: keys are borrowed from the body where they have no escapes, each
//! object's keys are compared in a small list (a set only for large objects), and a field's path
//! is written out only for a key that repeats.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use api::json_key::JsonKey;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Objects with more keys than this are checked with a hash set instead of a list.
const LIST_LIMIT: usize = 16;

/// The paths (`metadata.name`, `spec.containers[1].name`) of the fields that repeat a key of
/// their object. A body that is not JSON has none (decoding it reports the error).
pub fn duplicate_fields(bytes: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let _ = Walk {
        at: &Step::Root,
        found: &mut found,
    }
    .deserialize(&mut de);
    found
}

/// Where the walk is: a chain of steps from the root, each borrowed from the level above.
enum Step<'a> {
    Root,
    Key(&'a Step<'a>, &'a str),
    Index(&'a Step<'a>, usize),
}

impl Step<'_> {
    fn render(&self, out: &mut String) {
        match self {
            Step::Root => {}
            Step::Key(parent, key) => {
                parent.render(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Step::Index(parent, index) => {
                parent.render(out);
                out.push_str(&format!("[{index}]"));
            }
        }
    }
}

struct Walk<'a, 'f> {
    at: &'a Step<'a>,
    found: &'f mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys: Vec<Cow<'de, str>> = Vec::new();
        let mut large: Option<HashSet<Cow<'de, str>>> = None;
        while let Some(JsonKey(key)) = map.next_key::<JsonKey<'de>>()? {
            let repeated = match &mut large {
                Some(set) => !set.insert(key.clone()),
                None => keys.contains(&key),
            };
            if repeated {
                let mut path = String::new();
                Step::Key(self.at, &key).render(&mut path);
                self.found.push(path);
            }
            map.next_value_seed(Walk {
                at: &Step::Key(self.at, &key),
                found: self.found,
            })?;
            if large.is_none() {
                keys.push(key);
                if keys.len() > LIST_LIMIT {
                    large = Some(keys.drain(..).collect());
                }
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while seq
            .next_element_seed(Walk {
                at: &Step::Index(self.at, index),
                found: self.found,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_duplicate_keys_with_their_paths() {
        let dups = duplicate_fields(br#"{"metadata":{"name":"a","name":"b"},"data":{"x":"1"}}"#);
        assert_eq!(dups, vec!["metadata.name"]);
        let dups = duplicate_fields(
            br#"{"spec":{"containers":[{"name":"a"},{"name":"b","image":"i","image":"j"}]},"spec":{}}"#,
        );
        assert_eq!(dups, vec!["spec.containers[1].image", "spec"]);
    }

    #[test]
    fn escaped_keys_compare_by_their_text() {
        let dups = duplicate_fields(br#"{"data":{"a\u0062":"1","ab":"2"}}"#);
        assert_eq!(dups, vec!["data.ab"]);
    }

    #[test]
    fn large_objects_are_checked_too() {
        let mut body = String::from("{\"data\":{");
        for i in 0..40 {
            body.push_str(&format!("\"k{i}\":\"v\","));
        }
        body.push_str("\"k3\":\"again\",\"k39\":\"again\"}}");
        assert_eq!(
            duplicate_fields(body.as_bytes()),
            vec!["data.k3", "data.k39"]
        );
        assert!(duplicate_fields(b"{\"a\":1,\"b\":[1,{\"c\":2}]}").is_empty());
        assert!(duplicate_fields(b"not json").is_empty());
    }
}
