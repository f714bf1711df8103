//! ControllerRevisions: the history of a StatefulSet's pod template. A revision's name is
//! `<set>-<hash>` where the hash covers the template, as upstream's `controller-revision-hash`.

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use serde_json::json;

use super::error::Error;

pub const REVISION_LABEL: &str = "controller-revision-hash";
const HASH_LABEL: &str = "controller.kubernetes.io/hash";
/// Upstream's alphabet for encoded hashes: no vowels, no look-alike characters.
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

fn safe_encode(text: &str) -> String {
    text.bytes()
        .map(|b| char::from(SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()]))
        .collect()
}

/// The data a revision stores: the template as a replacing patch (upstream's getPatch).
pub fn revision_data(template: &PodTemplateSpec) -> Result<serde_json::Value, Error> {
    let mut template = serde_json::to_value(template)?;
    if let Some(object) = template.as_object_mut() {
        object.insert("$patch".into(), json!("replace"));
    }
    Ok(json!({"spec": {"template": template}}))
}

pub fn revision_hash(data: &serde_json::Value, collision_count: i32) -> String {
    let mut bytes = data.to_string().into_bytes();
    if collision_count > 0 {
        bytes.extend(collision_count.to_le_bytes());
    }
    safe_encode(&fnv1a32(&bytes).to_string())
}

/// The template a revision recorded, for pods that stay at an older revision.
pub fn template_of(revision: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut template = revision.data.as_ref()?.0.pointer("/spec/template")?.clone();
    if let Some(object) = template.as_object_mut() {
        object.remove("$patch");
    }
    serde_json::from_value(template).ok()
}

pub fn same_data(revision: &ControllerRevision, data: &serde_json::Value) -> bool {
    revision.data.as_ref().is_some_and(|d| &d.0 == data)
}

pub fn new_revision(
    set: &StatefulSet,
    data: serde_json::Value,
    number: i64,
) -> Result<ControllerRevision, Error> {
    let name = set
        .metadata
        .name
        .clone()
        .ok_or(Error::MissingField("metadata.name"))?;
    let uid = set
        .metadata
        .uid
        .clone()
        .ok_or(Error::MissingField("metadata.uid"))?;
    let collision_count = set
        .status
        .as_ref()
        .and_then(|s| s.collision_count)
        .unwrap_or(0);
    let hash = revision_hash(&data, collision_count);
    let mut labels = set
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.clone())
        .unwrap_or_default();
    labels.insert(HASH_LABEL.into(), hash.clone());
    Ok(ControllerRevision {
        metadata: ObjectMeta {
            name: Some(format!("{name}-{hash}")),
            namespace: set.metadata.namespace.clone(),
            labels: Some(labels),
            owner_references: Some(vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: "StatefulSet".into(),
                name,
                uid,
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        data: Some(RawExtension(data)),
        revision: number,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_safe_and_change_with_the_template() {
        let a = json!({"spec": {"template": {"spec": {"containers": [{"image": "nginx:1"}]}}}});
        let b = json!({"spec": {"template": {"spec": {"containers": [{"image": "nginx:2"}]}}}});
        assert_eq!(revision_hash(&a, 0), revision_hash(&a, 0));
        assert_ne!(revision_hash(&a, 0), revision_hash(&b, 0));
        assert_ne!(revision_hash(&a, 0), revision_hash(&a, 1));
        assert!(revision_hash(&a, 0)
            .bytes()
            .all(|c| SAFE_ALPHABET.contains(&c)));
    }

    #[test]
    fn the_template_round_trips_through_revision_data() {
        let template: PodTemplateSpec = serde_json::from_value(
            json!({"spec": {"containers": [{"name": "c", "image": "nginx"}]}}),
        )
        .unwrap();
        let data = revision_data(&template).unwrap();
        let revision = ControllerRevision {
            data: Some(RawExtension(data)),
            ..ControllerRevision::default()
        };
        assert_eq!(template_of(&revision), Some(template));
    }
}
