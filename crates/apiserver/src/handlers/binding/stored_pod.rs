//! A stored pod opened only as far as a binding needs it.
//!
//! The top level, `metadata` and `spec` are maps of raw JSON members; only `status` (and the
//! annotations, when a Binding carries some) become values. The containers, volumes and managed
//! fields, most of a pod's bytes, are copied back as they were read. Members keep their order,
//! and a new member goes last, as when the whole pod is a `serde_json::Value`: the bytes written
//! are the same either way.

use indexmap::IndexMap;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// An object's members, each still the JSON text it was read as.
type Members = IndexMap<String, Box<RawValue>>;

pub(super) struct StoredPod {
    top: Members,
    metadata: Members,
    spec: Members,
    /// Set once `metadata` has changed and must be written back.
    metadata_changed: bool,
}

impl StoredPod {
    /// Opens a pod as storage holds it (a JSON object).
    pub fn parse(bytes: &[u8]) -> serde_json::Result<Self> {
        let top: Members = serde_json::from_slice(bytes)?;
        let metadata = members_of(member(&top, "metadata"))?;
        let spec = members_of(member(&top, "spec"))?;
        Ok(Self {
            top,
            metadata,
            spec,
            metadata_changed: false,
        })
    }

    /// A string member of `metadata` (None when absent, null or not a string).
    pub fn meta_str(&self, field: &str) -> Option<String> {
        string_member(&self.metadata, field)
    }

    /// Whether `metadata` has `field` set to something other than null.
    pub fn has_meta(&self, field: &str) -> bool {
        self.metadata
            .get(field)
            .is_some_and(|raw| raw.get().trim() != "null")
    }

    /// `spec.nodeName`, empty when unset.
    pub fn node_name(&self) -> String {
        string_member(&self.spec, "nodeName").unwrap_or_default()
    }

    pub fn set_node_name(&mut self, node: &str) -> serde_json::Result<()> {
        self.spec.insert(
            "nodeName".to_string(),
            serde_json::value::to_raw_value(node)?,
        );
        Ok(())
    }

    /// Adds `annotations` to the pod's, replacing those with the same keys.
    pub fn merge_annotations(
        &mut self,
        annotations: &Map<String, Value>,
    ) -> serde_json::Result<()> {
        if annotations.is_empty() {
            return Ok(());
        }
        let mut merged = object_member(member(&self.metadata, "annotations"))?;
        for (key, value) in annotations {
            merged.insert(key.clone(), value.clone());
        }
        self.metadata.insert(
            "annotations".to_string(),
            serde_json::value::to_raw_value(&merged)?,
        );
        self.metadata_changed = true;
        Ok(())
    }

    /// Changes `status` (an empty object when the pod has none) through `change`.
    pub fn update_status(
        &mut self,
        change: impl FnOnce(&mut Map<String, Value>),
    ) -> serde_json::Result<()> {
        let mut status = object_member(member(&self.top, "status"))?;
        change(&mut status);
        self.top.insert(
            "status".to_string(),
            serde_json::value::to_raw_value(&status)?,
        );
        Ok(())
    }

    /// The pod's bytes, with what changed written back in place.
    pub fn into_bytes(mut self) -> serde_json::Result<Vec<u8>> {
        if self.metadata_changed {
            self.top.insert(
                "metadata".to_string(),
                serde_json::value::to_raw_value(&self.metadata)?,
            );
        }
        if !self.top.contains_key("spec") {
            self.top.insert(
                "spec".to_string(),
                serde_json::value::to_raw_value(&self.spec)?,
            );
        }
        // The spec is written in its place directly, not encoded apart and copied; the buffer
        // starts at the size of what was read, not growing through several copies on the way.
        let size: usize = [&self.top, &self.spec]
            .iter()
            .flat_map(|members| members.iter())
            .map(|(key, raw)| key.len() + raw.get().len() + 4)
            .sum();
        let mut out = Vec::with_capacity(size + 16);
        serde_json::to_writer(
            &mut out,
            &WithSpec {
                top: &self.top,
                spec: &self.spec,
            },
        )?;
        Ok(out)
    }
}

/// The top level of a pod with its `spec` member written from `spec`'s members.
struct WithSpec<'a> {
    top: &'a Members,
    spec: &'a Members,
}

impl serde::Serialize for WithSpec<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.top.len()))?;
        for (key, raw) in self.top {
            if key == "spec" {
                map.serialize_entry(key, self.spec)?;
            } else {
                map.serialize_entry(key, raw)?;
            }
        }
        map.end()
    }
}

/// The member named `key`, as its JSON text.
fn member<'a>(members: &'a Members, key: &str) -> Option<&'a RawValue> {
    members.get(key).map(|raw| &**raw)
}

/// A member parsed as an object; empty when it is absent or not an object.
fn object_member(raw: Option<&RawValue>) -> serde_json::Result<Map<String, Value>> {
    match raw {
        Some(raw) => match serde_json::from_str(raw.get())? {
            Value::Object(members) => Ok(members),
            _ => Ok(Map::new()),
        },
        None => Ok(Map::new()),
    }
}

/// The members of an object member; none when it is absent or null.
fn members_of(raw: Option<&RawValue>) -> serde_json::Result<Members> {
    match raw {
        Some(raw) if raw.get().trim() != "null" => serde_json::from_str(raw.get()),
        _ => Ok(Members::new()),
    }
}

fn string_member(members: &Members, field: &str) -> Option<String> {
    let raw = members.get(field)?;
    serde_json::from_str::<Option<String>>(raw.get())
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(pod: &Value) -> Vec<u8> {
        serde_json::to_vec(pod).unwrap()
    }

    #[test]
    fn reads_metadata_and_the_node() {
        let pod = StoredPod::parse(&stored(&json!({
            "metadata": {"name": "p", "uid": "u1", "deletionTimestamp": null},
            "spec": {"nodeName": "n0"}})))
        .unwrap();
        assert_eq!(pod.meta_str("uid").as_deref(), Some("u1"));
        assert_eq!(pod.meta_str("generateName"), None);
        assert!(!pod.has_meta("deletionTimestamp"));
        assert_eq!(pod.node_name(), "n0");
    }

    #[test]
    fn writes_the_same_bytes_as_the_whole_value_would() {
        let original = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "annotations": {"a": "1"},
                "managedFields": [{"manager": "m", "fieldsV1": {"f:spec": {"f:containers": {}}}}]},
            "spec": {"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "1"}}}],
                "schedulerName": "default-scheduler"},
            "status": {"phase": "Pending", "qosClass": "Burstable"}});
        let mut pod = StoredPod::parse(&stored(&original)).unwrap();
        pod.set_node_name("n1").unwrap();
        let mut extra = Map::new();
        extra.insert("b".into(), json!("2"));
        pod.merge_annotations(&extra).unwrap();
        pod.update_status(|status| {
            status.insert("conditions".into(), json!([{"type": "PodScheduled"}]));
        })
        .unwrap();
        let written = pod.into_bytes().unwrap();

        let mut expected = original;
        expected["spec"]["nodeName"] = json!("n1");
        expected["metadata"]["annotations"]["b"] = json!("2");
        expected["status"]["conditions"] = json!([{"type": "PodScheduled"}]);
        assert_eq!(String::from_utf8(written).unwrap(), expected.to_string());
    }

    #[test]
    fn a_pod_without_spec_or_status_gets_them() {
        let mut pod = StoredPod::parse(br#"{"metadata":{"name":"p"},"status":null}"#).unwrap();
        pod.set_node_name("n1").unwrap();
        pod.update_status(|status| {
            status.insert("phase".into(), json!("Pending"));
        })
        .unwrap();
        let written: Value = serde_json::from_slice(&pod.into_bytes().unwrap()).unwrap();
        assert_eq!(
            written,
            json!({"metadata": {"name": "p"}, "status": {"phase": "Pending"}, "spec": {"nodeName": "n1"}})
        );
    }

    #[test]
    fn refuses_what_is_not_an_object() {
        assert!(StoredPod::parse(b"[1]").is_err());
        assert!(StoredPod::parse(br#"{"spec": 3}"#).is_err());
    }
}
