//! Reading the static pod directory: one pod per valid manifest, keyed by its uid (content hash).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use super::manifest::{is_manifest_name, static_pod_from_manifest, static_pod_hash};

/// The pods the directory describes now. Pods already in `known` are reused as they are (their
/// `config.seen` stays); a name claimed by two files goes to the first file in name order.
/// Invalid manifests are reported once each in `reported`.
pub fn read_static_pods(
    dir: &Path,
    node_name: &str,
    known: &BTreeMap<String, Pod>,
    reported: &mut BTreeSet<String>,
) -> BTreeMap<String, Pod> {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter(|e| e.file_name().to_str().is_some_and(is_manifest_name))
            .map(|e| e.path())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    let mut pods = BTreeMap::new();
    let mut names = BTreeSet::new();
    for path in files {
        let Ok(content) = std::fs::read(&path) else {
            continue;
        };
        let uid = static_pod_hash(node_name, &path, &content);
        let pod = match known.get(&uid) {
            Some(pod) => pod.clone(),
            None => match static_pod_from_manifest(&path, &content, node_name, Timestamp::now()) {
                Ok(pod) => pod,
                Err(e) => {
                    if reported.insert(uid) {
                        tracing::warn!(error = %e, "ignoring a static pod manifest");
                    }
                    continue;
                }
            },
        };
        let name = (
            pod.metadata.namespace.clone().unwrap_or_default(),
            pod.metadata.name.clone().unwrap_or_default(),
        );
        if !names.insert(name) {
            if reported.insert(uid) {
                tracing::warn!(path = %path.display(), "a static pod of this name already exists");
            }
            continue;
        }
        pods.insert(uid, pod);
    }
    pods
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#;

    #[test]
    fn reads_valid_manifests_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("web.json"), POD).unwrap();
        std::fs::write(dir.path().join("copy.yaml"), POD).unwrap();
        std::fs::write(dir.path().join("bad.yaml"), "kind: [").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let mut reported = BTreeSet::new();
        let pods = read_static_pods(dir.path(), "n1", &BTreeMap::new(), &mut reported);
        // copy.yaml sorts first and claims the name; web.json is a duplicate.
        assert_eq!(pods.len(), 1);
        assert_eq!(reported.len(), 2);
        let again = read_static_pods(dir.path(), "n1", &pods, &mut reported);
        assert_eq!(again, pods);
        std::fs::remove_file(dir.path().join("copy.yaml")).unwrap();
        let after = read_static_pods(dir.path(), "n1", &pods, &mut reported);
        assert_eq!(after.len(), 1);
        assert_ne!(after.keys().next(), pods.keys().next());
    }
}
