//! System-owned metadata fields: set on create, carried over on update.

use rand::Rng;
use serde_json::{Map, Value};

/// Characters upstream uses for generated name suffixes (no vowels, no confusable digits).
const NAME_SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `generateName` + five random characters, as upstream's SimpleNameGenerator.
pub fn generated_name(base: &str) -> String {
    let base = if base.len() > 58 { &base[..58] } else { base };
    let mut rng = rand::rng();
    let suffix: String = (0..5)
        .map(|_| NAME_SUFFIX_ALPHABET[rng.random_range(0..NAME_SUFFIX_ALPHABET.len())] as char)
        .collect();
    format!("{base}{suffix}")
}

/// The current time as Kubernetes writes timestamps (RFC 3339, seconds).
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    let secs = now.as_second();
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| now.to_string())
}

/// An RFC 3339 time `seconds` from now.
pub fn rfc3339_after(seconds: i64) -> String {
    let secs = jiff::Timestamp::now().as_second().saturating_add(seconds);
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| now_rfc3339())
}

pub fn metadata_mut(object: &mut Value) -> Option<&mut Map<String, Value>> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object
            .as_object_mut()?
            .insert("metadata".into(), Value::Object(Map::new()));
    }
    object.get_mut("metadata")?.as_object_mut()
}

pub fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object.get("metadata")?.get(field)?.as_str()
}

pub fn name_of(object: &Value) -> &str {
    meta_str(object, "name").unwrap_or("")
}

/// Fill the fields the server owns on create: uid, creationTimestamp, generation; clear the ones a
/// client may not set.
pub fn fill_on_create(object: &mut Value, uses_generation: bool) {
    let Some(meta) = metadata_mut(object) else {
        return;
    };
    meta.insert(
        "uid".into(),
        Value::String(uuid::Uuid::new_v4().to_string()),
    );
    meta.insert("creationTimestamp".into(), Value::String(now_rfc3339()));
    meta.remove("deletionTimestamp");
    meta.remove("deletionGracePeriodSeconds");
    meta.remove("resourceVersion");
    meta.remove("selfLink");
    if uses_generation {
        meta.insert("generation".into(), Value::from(1));
    } else {
        meta.remove("generation");
    }
}

/// Carry the server-owned fields of `old` into `new` on update.
pub fn carry_on_update(new: &mut Value, old: &Value) {
    let Some(old_meta) = old.get("metadata").and_then(Value::as_object) else {
        return;
    };
    let Some(meta) = metadata_mut(new) else {
        return;
    };
    for field in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        match old_meta.get(field) {
            Some(value) => meta.insert(field.into(), value.clone()),
            None => meta.remove(field),
        };
    }
    meta.remove("resourceVersion");
    meta.remove("selfLink");
}

/// Everything but metadata and status: what a spec change is measured on.
pub fn spec_part(object: &Value) -> Map<String, Value> {
    object
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind")
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether two objects agree on everything but metadata, status, apiVersion and kind: what
/// [`spec_part`] compares, without copying either side.
fn spec_parts_equal(a: &Value, b: &Value) -> bool {
    let is_spec = |key: &str| !matches!(key, "metadata" | "status" | "apiVersion" | "kind");
    let empty = Map::new();
    let (a, b) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    let mut a_count = 0;
    for (key, value) in a.iter().filter(|(k, _)| is_spec(k)) {
        a_count += 1;
        if b.get(key) != Some(value) {
            return false;
        }
    }
    a_count == b.keys().filter(|k| is_spec(k)).count()
}

/// Bump metadata.generation when the spec changed.
pub fn bump_generation_if_spec_changed(new: &mut Value, old: &Value) {
    if spec_parts_equal(new, old) {
        return;
    }
    let current = old
        .get("metadata")
        .and_then(|m| m.get("generation"))
        .and_then(Value::as_i64);
    if let (Some(generation), Some(meta)) = (current, metadata_mut(new)) {
        meta.insert("generation".into(), Value::from(generation + 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generated_names_have_five_char_suffix() {
        let name = generated_name("web-");
        assert_eq!(name.len(), 9);
        assert!(name.starts_with("web-"));
    }

    #[test]
    fn generation_moves_only_with_spec() {
        let old = json!({"metadata": {"generation": 1}, "spec": {"replicas": 1}, "status": {}});
        let mut same = json!({"metadata": {"generation": 1, "labels": {"a": "b"}}, "spec": {"replicas": 1}, "status": {"x": 1}});
        bump_generation_if_spec_changed(&mut same, &old);
        assert_eq!(same["metadata"]["generation"], 1);
        let mut changed = json!({"metadata": {"generation": 1}, "spec": {"replicas": 2}});
        bump_generation_if_spec_changed(&mut changed, &old);
        assert_eq!(changed["metadata"]["generation"], 2);
        let mut dropped = json!({"metadata": {"generation": 1}});
        bump_generation_if_spec_changed(&mut dropped, &old);
        assert_eq!(dropped["metadata"]["generation"], 2);
        let mut added =
            json!({"metadata": {"generation": 1}, "spec": {"replicas": 1}, "template": {}});
        bump_generation_if_spec_changed(&mut added, &old);
        assert_eq!(added["metadata"]["generation"], 2);
    }

    #[test]
    fn timestamps_are_whole_seconds() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z'), "{t}");
        assert!(!t.contains('.'), "{t}");
    }
}
