//! The pod-template-hash: a stable hash of the template (and collision count) naming the
//! ReplicaSet `<deployment>-<hash>`, and template equality that ignores it.

use k8s_openapi::api::core::v1::PodTemplateSpec;

pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";

/// upstream's rand.SafeEncodeString alphabet: no vowels, no confusable characters.
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

pub fn template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut text = serde_json::to_string(template).unwrap_or_default();
    if let Some(count) = collision_count {
        text.push_str(&count.to_string());
    }
    let hash = fnv1a_32(text.as_bytes());
    hash.to_string()
        .bytes()
        .map(|b| char::from(SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()]))
        .collect()
}

fn fnv1a_32(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in bytes {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// Equal once the pod-template-hash label is dropped from both.
pub fn templates_equal_ignoring_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    without_hash(a) == without_hash(b)
}

fn without_hash(template: &PodTemplateSpec) -> serde_json::Value {
    let mut copy = template.clone();
    if let Some(labels) = copy.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(POD_TEMPLATE_HASH_LABEL);
    }
    serde_json::to_value(copy).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(image: &str) -> PodTemplateSpec {
        serde_json::from_value(serde_json::json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": image}]}
        }))
        .unwrap()
    }

    #[test]
    fn hash_is_stable_safe_and_changes_with_template_and_collisions() {
        let a = template("nginx:1");
        assert_eq!(template_hash(&a, None), template_hash(&a, None));
        assert_ne!(
            template_hash(&a, None),
            template_hash(&template("nginx:2"), None)
        );
        assert_ne!(template_hash(&a, None), template_hash(&a, Some(1)));
        assert!(template_hash(&a, None)
            .bytes()
            .all(|b| SAFE_ALPHABET.contains(&b)));
    }

    #[test]
    fn equality_ignores_the_hash_label() {
        let a = template("nginx:1");
        let mut b = a.clone();
        b.metadata
            .as_mut()
            .unwrap()
            .labels
            .as_mut()
            .unwrap()
            .insert(POD_TEMPLATE_HASH_LABEL.into(), "abc".into());
        assert!(templates_equal_ignoring_hash(&a, &b));
        assert!(!templates_equal_ignoring_hash(&a, &template("nginx:2")));
    }
}
