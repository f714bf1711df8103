//! What a pod references by name in its own namespace: the edges upstream's node authorizer draws
//! from a pod to secrets, config maps, persistent volume claims and its service account.

use serde::Deserialize;
use serde_json::Value;

/// The kinds of object a pod can reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TargetKind {
    Secret,
    ConfigMap,
    PersistentVolumeClaim,
    ServiceAccount,
}

impl TargetKind {
    /// The kind behind an API resource name.
    pub fn of_resource(resource: &str) -> Option<Self> {
        match resource {
            "secrets" => Some(Self::Secret),
            "configmaps" => Some(Self::ConfigMap),
            "persistentvolumeclaims" => Some(Self::PersistentVolumeClaim),
            "serviceaccounts" => Some(Self::ServiceAccount),
            _ => None,
        }
    }
}

/// Only what the references are read from; serde skips the rest of the pod.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PodView {
    metadata: MetaView,
    spec: SpecView,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MetaView {
    name: String,
    namespace: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SpecView {
    node_name: String,
    service_account_name: String,
    service_account: String,
    image_pull_secrets: Vec<NameView>,
    volumes: Vec<serde_json::Map<String, Value>>,
    containers: Vec<ContainerView>,
    init_containers: Vec<ContainerView>,
    ephemeral_containers: Vec<ContainerView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NameView {
    name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ContainerView {
    env: Vec<Value>,
    env_from: Vec<Value>,
}

/// A pod bound to a node, and what it references (namespace, kind, name).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BoundPod {
    pub node: String,
    pub namespace: String,
    pub references: Vec<(TargetKind, String)>,
}

fn name_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
}

/// The references of a volume's source: secrets and config maps in the projections and the
/// plugins' `secretRef`s, claims, and the claim of an ephemeral volume (`<pod>-<volume>`).
fn volume_references(
    pod_name: &str,
    volume: &serde_json::Map<String, Value>,
    out: &mut Vec<(TargetKind, String)>,
) {
    let volume_name = volume.get("name").and_then(Value::as_str).unwrap_or("");
    for (source_type, source) in volume {
        match source_type.as_str() {
            "name" => {}
            "secret" => out.extend(
                name_at(source, &["secretName"]).map(|n| (TargetKind::Secret, n.to_string())),
            ),
            "configMap" => out
                .extend(name_at(source, &["name"]).map(|n| (TargetKind::ConfigMap, n.to_string()))),
            "persistentVolumeClaim" => out.extend(
                name_at(source, &["claimName"])
                    .map(|n| (TargetKind::PersistentVolumeClaim, n.to_string())),
            ),
            "ephemeral" => out.push((
                TargetKind::PersistentVolumeClaim,
                format!("{pod_name}-{volume_name}"),
            )),
            "projected" => {
                let sources = source.get("sources").and_then(Value::as_array);
                for projection in sources.into_iter().flatten() {
                    out.extend(
                        name_at(projection, &["secret", "name"])
                            .map(|n| (TargetKind::Secret, n.to_string())),
                    );
                    out.extend(
                        name_at(projection, &["configMap", "name"])
                            .map(|n| (TargetKind::ConfigMap, n.to_string())),
                    );
                }
            }
            // Volume plugins that read credentials: cephfs, cinder, flexVolume, iscsi, rbd,
            // scaleIO, storageos (`secretRef`), csi (`nodePublishSecretRef`), azureFile.
            _ => {
                for path in [
                    &["secretRef", "name"][..],
                    &["nodePublishSecretRef", "name"],
                    &["secretName"],
                ] {
                    out.extend(name_at(source, path).map(|n| (TargetKind::Secret, n.to_string())));
                }
            }
        }
    }
}

fn container_references(container: &ContainerView, out: &mut Vec<(TargetKind, String)>) {
    for env in &container.env {
        out.extend(
            name_at(env, &["valueFrom", "secretKeyRef", "name"])
                .map(|n| (TargetKind::Secret, n.to_string())),
        );
        out.extend(
            name_at(env, &["valueFrom", "configMapKeyRef", "name"])
                .map(|n| (TargetKind::ConfigMap, n.to_string())),
        );
    }
    for env_from in &container.env_from {
        out.extend(
            name_at(env_from, &["secretRef", "name"]).map(|n| (TargetKind::Secret, n.to_string())),
        );
        out.extend(
            name_at(env_from, &["configMapRef", "name"])
                .map(|n| (TargetKind::ConfigMap, n.to_string())),
        );
    }
}

/// The pod in `json` when it is bound to a node; `None` for an unbound or unreadable pod.
pub fn bound_pod(json: &[u8]) -> Option<BoundPod> {
    let pod: PodView = serde_json::from_slice(json).ok()?;
    if pod.spec.node_name.is_empty() {
        return None;
    }
    let service_account = [&pod.spec.service_account_name, &pod.spec.service_account]
        .into_iter()
        .find(|name| !name.is_empty())
        .map_or("default", String::as_str);
    let mut references = vec![(TargetKind::ServiceAccount, service_account.to_string())];
    references.extend(object_references(&pod));
    references.sort();
    Some(BoundPod {
        node: pod.spec.node_name,
        namespace: pod.metadata.namespace,
        references,
    })
}

/// The secrets, config maps and claims a pod body names, and its service account when the body
/// names one (nothing is implied): what NodeRestriction refuses in a node's mirror pod.
pub fn named_references(pod: &Value) -> Vec<(TargetKind, String)> {
    let Ok(pod) = PodView::deserialize(pod) else {
        return Vec::new();
    };
    let mut references: Vec<_> = [&pod.spec.service_account_name, &pod.spec.service_account]
        .into_iter()
        .filter(|name| !name.is_empty())
        .map(|name| (TargetKind::ServiceAccount, name.clone()))
        .collect();
    references.extend(object_references(&pod));
    references
}

/// Secrets, config maps and claims, sorted, without repeats.
fn object_references(pod: &PodView) -> Vec<(TargetKind, String)> {
    let spec = &pod.spec;
    let mut references = Vec::new();
    references.extend(
        spec.image_pull_secrets
            .iter()
            .filter(|s| !s.name.is_empty())
            .map(|s| (TargetKind::Secret, s.name.clone())),
    );
    for volume in &spec.volumes {
        volume_references(&pod.metadata.name, volume, &mut references);
    }
    for container in spec
        .containers
        .iter()
        .chain(&spec.init_containers)
        .chain(&spec.ephemeral_containers)
    {
        container_references(container, &mut references);
    }
    references.sort();
    references.dedup();
    references
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_of_reference_is_found() {
        let pod = json!({
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "nodeName": "n1",
                "serviceAccountName": "builder",
                "imagePullSecrets": [{"name": "pull"}],
                "volumes": [
                    {"name": "a", "secret": {"secretName": "tls"}},
                    {"name": "b", "configMap": {"name": "settings"}},
                    {"name": "c", "persistentVolumeClaim": {"claimName": "data"}},
                    {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {}}},
                    {"name": "d", "projected": {"sources": [
                        {"serviceAccountToken": {"path": "token"}},
                        {"configMap": {"name": "kube-root-ca.crt"}},
                        {"secret": {"name": "projected-secret"}}]}},
                    {"name": "e", "csi": {"driver": "x", "nodePublishSecretRef": {"name": "csi-creds"}}},
                    {"name": "f", "rbd": {"monitors": [], "image": "i", "secretRef": {"name": "ceph"}}},
                    {"name": "g", "emptyDir": {}}
                ],
                "initContainers": [{"name": "i", "envFrom": [{"configMapRef": {"name": "init-env"}}]}],
                "containers": [{"name": "m", "env": [
                    {"name": "P", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                    {"name": "L", "valueFrom": {"configMapKeyRef": {"name": "levels", "key": "l"}}},
                    {"name": "V", "value": "plain"}],
                    "envFrom": [{"secretRef": {"name": "bulk"}}]}]
            }
        });
        let bound = bound_pod(&serde_json::to_vec(&pod).unwrap()).unwrap();
        assert_eq!(bound.node, "n1");
        assert_eq!(bound.namespace, "shop");
        let mut expected = vec![
            (TargetKind::ServiceAccount, "builder"),
            (TargetKind::Secret, "pull"),
            (TargetKind::Secret, "tls"),
            (TargetKind::ConfigMap, "settings"),
            (TargetKind::PersistentVolumeClaim, "data"),
            (TargetKind::PersistentVolumeClaim, "web-scratch"),
            (TargetKind::ConfigMap, "kube-root-ca.crt"),
            (TargetKind::Secret, "projected-secret"),
            (TargetKind::Secret, "csi-creds"),
            (TargetKind::Secret, "ceph"),
            (TargetKind::ConfigMap, "init-env"),
            (TargetKind::Secret, "db"),
            (TargetKind::ConfigMap, "levels"),
            (TargetKind::Secret, "bulk"),
        ]
        .into_iter()
        .map(|(k, n)| (k, n.to_string()))
        .collect::<Vec<_>>();
        expected.sort();
        assert_eq!(bound.references, expected);
    }

    #[test]
    fn unbound_pods_reference_nothing_and_the_default_account_is_implied() {
        let unbound =
            json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {"containers": []}});
        assert_eq!(bound_pod(&serde_json::to_vec(&unbound).unwrap()), None);
        let bound = json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {"nodeName": "n"}});
        let bound = bound_pod(&serde_json::to_vec(&bound).unwrap()).unwrap();
        assert_eq!(
            bound.references,
            [(TargetKind::ServiceAccount, "default".to_string())]
        );
    }
}
