//! The token half of upstream's ServiceAccount admission: every new pod that automounts its
//! service account token gets a projected `kube-api-access-<suffix>` volume (a bound token, the
//! cluster CA from `kube-root-ca.crt` and the namespace), mounted read-only at
//! `/var/run/secrets/kubernetes.io/serviceaccount` in each container that has nothing there.

use rand::Rng;
use serde_json::{json, Map, Value};

const VOLUME_PREFIX: &str = "kube-api-access-";
pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// Upstream's bound-token lifetime for the default volume (an hour and a few seconds, so that
/// tokens can be told apart from legacy ones).
const TOKEN_EXPIRATION_SECONDS: i64 = 3607;
/// The alphabet of upstream's generated name suffixes (no vowels, no look-alikes).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn random_suffix() -> String {
    let mut rng = rand::rng();
    (0..5)
        .map(|_| char::from(SUFFIX_ALPHABET[rng.random_range(0..SUFFIX_ALPHABET.len())]))
        .collect()
}

fn token_volume(name: &str) -> Value {
    json!({
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ],
        },
    })
}

/// Whether the token is mounted: the pod's `automountServiceAccountToken`, else the account's.
pub fn should_automount(pod: &Value, service_account: Option<&Value>) -> bool {
    let from_pod = pod
        .get("spec")
        .and_then(|s| s.get("automountServiceAccountToken"))
        .and_then(Value::as_bool);
    let from_account = service_account
        .and_then(|a| a.get("automountServiceAccountToken"))
        .and_then(Value::as_bool);
    from_pod.or(from_account).unwrap_or(true)
}

fn mounts_token_path(container: &Value) -> bool {
    container
        .get("volumeMounts")
        .and_then(Value::as_array)
        .is_some_and(|mounts| {
            mounts
                .iter()
                .any(|m| m.get("mountPath").and_then(Value::as_str) == Some(TOKEN_MOUNT_PATH))
        })
}

/// Adds the token volume and its mounts to `spec` (a pod spec object).
pub fn add_token_volume(spec: &mut Map<String, Value>) {
    let volumes: Vec<Value> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let existing = volumes
        .iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .find(|n| n.starts_with(VOLUME_PREFIX))
        .map(str::to_string);
    let name = existing.clone().unwrap_or_else(|| loop {
        let candidate = format!("{VOLUME_PREFIX}{}", random_suffix());
        let taken = volumes
            .iter()
            .any(|v| v.get("name").and_then(Value::as_str) == Some(candidate.as_str()));
        if !taken {
            break candidate;
        }
    });
    let mount = json!({"name": name, "readOnly": true, "mountPath": TOKEN_MOUNT_PATH});
    let mut needs_volume = false;
    for field in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(field).and_then(Value::as_array_mut) else {
            continue;
        };
        for container in containers.iter_mut() {
            if mounts_token_path(container) {
                continue;
            }
            let Some(container) = container.as_object_mut() else {
                continue;
            };
            let mounts = container
                .entry("volumeMounts")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Some(mounts) = mounts.as_array_mut() {
                mounts.push(mount.clone());
                needs_volume = true;
            }
        }
    }
    if existing.is_none() && needs_volume {
        let mut volumes = volumes;
        volumes.push(token_volume(&name));
        spec.insert("volumes".into(), Value::Array(volumes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_container_mounts_one_generated_volume() {
        let mut pod = json!({"spec": {
            "initContainers": [{"name": "i"}],
            "containers": [
                {"name": "a", "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                {"name": "b", "volumeMounts": [{"name": "own", "mountPath": TOKEN_MOUNT_PATH}]},
            ],
            "volumes": [{"name": "data", "emptyDir": {}}],
        }});
        add_token_volume(pod["spec"].as_object_mut().unwrap());
        let volumes = pod["spec"]["volumes"].as_array().unwrap();
        assert_eq!(volumes.len(), 2);
        let name = volumes[1]["name"].as_str().unwrap();
        assert!(name.starts_with(VOLUME_PREFIX) && name.len() == VOLUME_PREFIX.len() + 5);
        assert_eq!(
            volumes[1]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
            3607
        );
        assert_eq!(
            pod["spec"]["initContainers"][0]["volumeMounts"][0]["name"],
            name
        );
        assert_eq!(
            pod["spec"]["containers"][0]["volumeMounts"][1]["readOnly"],
            true
        );
        assert_eq!(
            pod["spec"]["containers"][1]["volumeMounts"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn automount_follows_the_pod_then_the_account() {
        let account = json!({"automountServiceAccountToken": false});
        assert!(should_automount(&json!({"spec": {}}), None));
        assert!(!should_automount(&json!({"spec": {}}), Some(&account)));
        let pod = json!({"spec": {"automountServiceAccountToken": true}});
        assert!(should_automount(&pod, Some(&account)));
    }
}
