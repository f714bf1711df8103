//! A static pod manifest file turned into the pod the kubelet runs: upstream's file source plus
//! `applyDefaults` (name suffixed with the node, a content hash as uid, the config annotations).

use std::path::Path;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use sha2::{Digest, Sha256};

pub const CONFIG_SOURCE: &str = "kubernetes.io/config.source";
pub const CONFIG_HASH: &str = "kubernetes.io/config.hash";
pub const CONFIG_SEEN: &str = "kubernetes.io/config.seen";
pub const CONFIG_MIRROR: &str = "kubernetes.io/config.mirror";

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Whether the file name is one the file source reads (`.yaml`, `.yml`, `.json`, no dotfiles).
pub fn is_manifest_name(name: &str) -> bool {
    !name.starts_with('.')
        && [".yaml", ".yml", ".json"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

/// The uid (and config hash) of a static pod: a digest of node, file and content.
pub fn static_pod_hash(node_name: &str, path: &Path, content: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("host:{node_name}").as_bytes());
    hasher.update(format!("file:{}", path.display()).as_bytes());
    hasher.update(content);
    hex::encode(&hasher.finalize()[..16])
}

/// Parses one manifest (YAML or JSON, a single Pod) into the pod this node runs.
pub fn static_pod_from_manifest(
    path: &Path,
    content: &[u8],
    node_name: &str,
    seen: Timestamp,
) -> Result<Pod, ManifestError> {
    let invalid = |message: String| ManifestError::Invalid {
        path: path.display().to_string(),
        message,
    };
    let mut value: serde_json::Value = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_slice(content).map_err(|e| invalid(e.to_string()))?
    } else {
        let text = std::str::from_utf8(content).map_err(|e| invalid(e.to_string()))?;
        serde_saphyr::from_str(text).map_err(|e| invalid(e.to_string()))?
    };
    if value["kind"].as_str() != Some("Pod") {
        return Err(invalid("the manifest is not a Pod".into()));
    }
    let name = value["metadata"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid("metadata.name: Required value".into()))?
        .to_string();
    api::defaults::apply_defaults("", "Pod", &mut value);
    let mut pod: Pod = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
    let hash = static_pod_hash(node_name, path, content);
    let metadata = &mut pod.metadata;
    metadata.name = Some(format!("{name}-{node_name}"));
    if metadata.namespace.as_deref().is_none_or(str::is_empty) {
        metadata.namespace = Some("default".into());
    }
    metadata.uid = Some(hash.clone());
    metadata.resource_version = None;
    let annotations = metadata.annotations.get_or_insert_with(Default::default);
    annotations.insert(CONFIG_HASH.into(), hash);
    annotations.insert(CONFIG_SEEN.into(), seen.to_string());
    annotations.insert(CONFIG_SOURCE.into(), "file".into());
    let spec = pod
        .spec
        .as_mut()
        .ok_or_else(|| invalid("spec: Required value".into()))?;
    spec.node_name = Some(node_name.to_string());
    pod.status = None;
    Ok(pod)
}

/// Whether a pod in the API is a mirror of a static pod.
pub fn is_mirror_pod(pod: &Pod) -> bool {
    mirror_hash(pod).is_some()
}

/// The static pod uid a mirror pod stands for.
pub fn mirror_hash(pod: &Pod) -> Option<&str> {
    pod.metadata
        .annotations
        .as_ref()?
        .get(CONFIG_MIRROR)
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEB: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: busybox\n";

    #[test]
    fn manifest_becomes_a_node_pod() {
        let path = Path::new("/m/web.yaml");
        let pod =
            static_pod_from_manifest(path, WEB.as_bytes(), "n1", Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(pod.metadata.name.as_deref(), Some("web-n1"));
        assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
        let uid = pod.metadata.uid.clone().unwrap();
        assert_eq!(uid, static_pod_hash("n1", path, WEB.as_bytes()));
        let annotations = pod.metadata.annotations.clone().unwrap();
        assert_eq!(annotations[CONFIG_SOURCE], "file");
        assert_eq!(annotations[CONFIG_HASH], uid);
        let spec = pod.spec.unwrap();
        assert_eq!(spec.node_name.as_deref(), Some("n1"));
        assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
    }

    #[test]
    fn hash_follows_content_and_node() {
        let path = Path::new("/m/web.yaml");
        let a = static_pod_hash("n1", path, b"x");
        assert_eq!(a, static_pod_hash("n1", path, b"x"));
        assert_ne!(a, static_pod_hash("n2", path, b"x"));
        assert_ne!(a, static_pod_hash("n1", path, b"y"));
    }

    #[test]
    fn rejects_what_is_not_a_named_pod() {
        let path = Path::new("/m/x.json");
        let not_pod = br#"{"kind":"Service","metadata":{"name":"a"}}"#;
        assert!(static_pod_from_manifest(path, not_pod, "n", Timestamp::UNIX_EPOCH).is_err());
        let no_name = br#"{"kind":"Pod","metadata":{},"spec":{"containers":[]}}"#;
        assert!(static_pod_from_manifest(path, no_name, "n", Timestamp::UNIX_EPOCH).is_err());
        assert!(
            is_manifest_name("a.yml") && !is_manifest_name(".a.yaml") && !is_manifest_name("a.txt")
        );
    }
}
