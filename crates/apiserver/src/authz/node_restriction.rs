//! NodeRestriction admission for writes by a node (`system:node:<name>`), as upstream's plugin:
//! a node creates only its own Node, setting only the labels a kubelet may set (and changes no
//! other label and no taint on it later), and only mirror pods bound to itself that reference no
//! other API object and are owned by nothing but its Node. Which existing pods a node may update,
//! delete or evict (only those bound to it) is decided by the authorizer with the graph.

use std::collections::BTreeMap;

use api::kubelet_labels::{forbidden, modified_keys};
use serde_json::Value;

use super::node::node_name;
use super::node_graph::pod_references::{named_references, TargetKind};
use crate::authn::UserInfo;
use crate::status::ApiError;

const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

fn name_of(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Refuses what a node may not create; anyone else passes.
pub fn admit_create(
    user: &UserInfo,
    group: &str,
    kind: &str,
    object: &Value,
) -> Result<(), ApiError> {
    let Some(node) = node_name(user) else {
        return Ok(());
    };
    let refuse = |plural: &str, reason: String| {
        Err(ApiError::forbidden(format!(
            "{plural} \"{}\" is forbidden: {reason}",
            name_of(object)
        )))
    };
    match (group, kind) {
        ("", "Node") if name_of(object) != node => refuse(
            "nodes",
            format!(
                "node \"{node}\" is not allowed to modify node \"{}\"",
                name_of(object)
            ),
        ),
        ("", "Node") => {
            let labels = labels_of(object);
            let refused = forbidden(labels.keys().map(String::as_str));
            if refused.is_empty() {
                Ok(())
            } else {
                refuse(
                    "nodes",
                    format!(
                        "node \"{node}\" is not allowed to set the following labels: {}",
                        refused.join(", ")
                    ),
                )
            }
        }
        ("", "Pod") => match mirror_pod_refusal(node, object) {
            Some(reason) => refuse("pods", reason),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(|labels| serde_json::from_value(labels.clone()).ok())
        .unwrap_or_default()
}

/// Refuses the changes a node may not make to its own Node (any subresource): its taints, and
/// labels outside those a kubelet may set. Anyone else passes.
pub fn admit_update<'a>(
    user: &UserInfo,
    group: &str,
    kind: &str,
    new: &'a Value,
    old: &'a Value,
) -> Result<(), ApiError> {
    let Some(node) = node_name(user) else {
        return Ok(());
    };
    if (group, kind) != ("", "Node") {
        return Ok(());
    }
    let refuse = |reason: String| {
        Err(ApiError::forbidden(format!(
            "nodes \"{}\" is forbidden: {reason}",
            name_of(old)
        )))
    };
    if name_of(old) != node {
        return refuse(format!(
            "node \"{node}\" is not allowed to modify node \"{}\"",
            name_of(old)
        ));
    }
    // An explicit null is the same as no field.
    let at = |object: &'a Value, pointer: &str| object.pointer(pointer).filter(|v| !v.is_null());
    let changed = |pointer: &str| at(new, pointer) != at(old, pointer);
    if changed("/spec/taints") {
        return refuse(format!("node \"{node}\" is not allowed to modify taints"));
    }
    // The kubelet's status updates leave the labels as they are: nothing to decode.
    if !changed("/metadata/labels") {
        return Ok(());
    }
    let (new_labels, old_labels) = (labels_of(new), labels_of(old));
    let refused = forbidden(modified_keys(&new_labels, &old_labels));
    if !refused.is_empty() {
        return refuse(format!(
            "is not allowed to modify labels: {}",
            refused.join(", ")
        ));
    }
    Ok(())
}

/// Why `node` may not create this pod, if it may not.
fn mirror_pod_refusal(node: &str, pod: &Value) -> Option<String> {
    let mirror = pod
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(MIRROR_ANNOTATION))
        .is_some();
    if !mirror {
        return Some(format!(
            "pod does not have \"{MIRROR_ANNOTATION}\" annotation, node \"{node}\" can only create mirror pods"
        ));
    }
    if pod.pointer("/spec/nodeName").and_then(Value::as_str) != Some(node) {
        return Some(format!(
            "node \"{node}\" can only create pods with spec.nodeName set to itself"
        ));
    }
    let owners = pod
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    match owners {
        [] => {}
        [owner] => {
            let is = |key: &str, value: &str| owner.get(key).and_then(Value::as_str) == Some(value);
            if !(is("apiVersion", "v1") && is("kind", "Node") && is("name", node)) {
                return Some(format!(
                    "node \"{node}\" can only create pods with an owner reference set to itself"
                ));
            }
            if owner.get("controller").and_then(Value::as_bool) != Some(true) {
                return Some(format!(
                    "node \"{node}\" can only create pods with a controller owner reference set to itself"
                ));
            }
            if owner.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true) {
                return Some(format!(
                    "node \"{node}\" must not set blockOwnerDeletion on an owner reference"
                ));
            }
        }
        _ => {
            return Some(format!(
                "node \"{node}\" can only create pods with a single owner reference set to itself"
            ))
        }
    }
    let references = named_references(pod);
    let refers_to = |kind: TargetKind| references.iter().any(|(k, _)| *k == kind);
    [
        (TargetKind::ServiceAccount, "a service account"),
        (TargetKind::Secret, "secrets"),
        (TargetKind::ConfigMap, "configmaps"),
        (TargetKind::PersistentVolumeClaim, "persistentvolumeclaims"),
    ]
    .into_iter()
    .find(|(kind, _)| refers_to(*kind))
    .map(|(_, what)| format!("node \"{node}\" can not create pods that reference {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node() -> UserInfo {
        UserInfo {
            name: "system:node:n1".into(),
            uid: String::new(),
            groups: vec!["system:nodes".into()],
        }
    }

    fn mirror(extra_spec: Value) -> Value {
        let mut pod = json!({
            "metadata": {"name": "etcd-n1", "annotations": {MIRROR_ANNOTATION: "h"},
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "u", "controller": true}]},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]}
        });
        if let (Some(spec), Some(extra)) = (pod["spec"].as_object_mut(), extra_spec.as_object()) {
            spec.extend(extra.clone());
        }
        pod
    }

    fn refusal(object: &Value, kind: &str) -> Option<String> {
        admit_create(&node(), "", kind, object)
            .err()
            .map(|e| e.to_status()["message"].as_str().unwrap_or("").to_string())
    }

    #[test]
    fn a_node_creates_only_its_own_node() {
        assert_eq!(refusal(&json!({"metadata": {"name": "n1"}}), "Node"), None);
        assert_eq!(
            refusal(&json!({"metadata": {"name": "n2"}}), "Node").as_deref(),
            Some("nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify node \"n2\"")
        );
        let admin = UserInfo {
            name: "admin".into(),
            uid: String::new(),
            groups: vec!["system:masters".into()],
        };
        assert!(admit_create(&admin, "", "Node", &json!({"metadata": {"name": "n2"}})).is_ok());
    }

    #[test]
    fn a_node_registers_only_with_labels_a_kubelet_may_set() {
        let with = |labels: Value| json!({"metadata": {"name": "n1", "labels": labels}});
        assert_eq!(
            refusal(
                &with(json!({"kubernetes.io/hostname": "n1", "team": "a"})),
                "Node"
            ),
            None
        );
        assert_eq!(
            refusal(
                &with(json!({"node-role.kubernetes.io/control-plane": "true", "kubernetes.io/role": "x"})),
                "Node"
            )
            .as_deref(),
            Some("nodes \"n1\" is forbidden: node \"n1\" is not allowed to set the following labels: kubernetes.io/role, node-role.kubernetes.io/control-plane")
        );
    }

    #[test]
    fn a_node_changes_neither_its_taints_nor_restricted_labels() {
        let old = json!({"metadata": {"name": "n1", "labels": {"node-role.kubernetes.io/control-plane": "true", "a": "1"}},
            "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}});
        let message = |new: &Value| {
            admit_update(&node(), "", "Node", new, &old)
                .err()
                .map(|e| e.to_status()["message"].as_str().unwrap_or("").to_string())
        };
        let mut relabelled = old.clone();
        relabelled["metadata"]["labels"]["a"] = json!("2");
        relabelled["metadata"]["labels"]["topology.kubernetes.io/zone"] = json!("z");
        assert_eq!(message(&relabelled), None);
        let mut unroled = old.clone();
        unroled["metadata"]["labels"] = json!({"a": "1"});
        assert_eq!(
            message(&unroled).as_deref(),
            Some("nodes \"n1\" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/control-plane")
        );
        let mut untainted = old.clone();
        untainted["spec"] = json!({});
        assert_eq!(
            message(&untainted).as_deref(),
            Some("nodes \"n1\" is forbidden: node \"n1\" is not allowed to modify taints")
        );
        let admin = UserInfo {
            name: "admin".into(),
            uid: String::new(),
            groups: vec!["system:masters".into()],
        };
        assert!(admit_update(&admin, "", "Node", &untainted, &old).is_ok());
    }

    #[test]
    fn a_node_creates_only_plain_mirror_pods_of_its_own() {
        assert_eq!(refusal(&mirror(json!({})), "Pod"), None);
        let mut plain = mirror(json!({}));
        plain["metadata"]["annotations"] = json!({});
        assert_eq!(
            refusal(&plain, "Pod").as_deref(),
            Some("pods \"etcd-n1\" is forbidden: pod does not have \"kubernetes.io/config.mirror\" annotation, node \"n1\" can only create mirror pods")
        );
        let elsewhere = mirror(json!({"nodeName": "n2"}));
        assert!(refusal(&elsewhere, "Pod")
            .unwrap()
            .ends_with("node \"n1\" can only create pods with spec.nodeName set to itself"));
        let mut owned = mirror(json!({}));
        owned["metadata"]["ownerReferences"][0]["name"] = json!("n2");
        assert!(refusal(&owned, "Pod")
            .unwrap()
            .ends_with("can only create pods with an owner reference set to itself"));
        let with_secret =
            mirror(json!({"volumes": [{"name": "s", "secret": {"secretName": "x"}}]}));
        assert!(refusal(&with_secret, "Pod")
            .unwrap()
            .ends_with("node \"n1\" can not create pods that reference secrets"));
        let with_account = mirror(json!({"serviceAccountName": "default"}));
        assert!(refusal(&with_account, "Pod")
            .unwrap()
            .ends_with("can not create pods that reference a service account"));
        let with_claim = mirror(
            json!({"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "c"}}]}),
        );
        assert!(refusal(&with_claim, "Pod")
            .unwrap()
            .ends_with("can not create pods that reference persistentvolumeclaims"));
    }
}
