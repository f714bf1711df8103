//! Validation of objects on create and update, as upstream's `pkg/apis/*/validation`: every error
//! is collected with its full field path and upstream's wording. Objects are validated after
//! defaulting (see `crate::defaults`), as upstream does.

mod apps;
mod container;
mod identifiers;
mod json_diff;
mod label_selector;
mod object_meta;
mod pod;
mod resources;
mod volume;

use serde_json::Value;

use crate::field_error::FieldError;
pub use object_meta::{validate_object_meta, validate_object_meta_update, NameFormat};

type SpecRule = fn(&Value) -> Vec<FieldError>;
type UpdateRule = fn(&Value, &Value) -> Vec<FieldError>;

/// What upstream checks for one kind, beyond its metadata.
struct KindRules {
    name: NameFormat,
    /// The object's own fields, checked on create and update.
    spec: Option<SpecRule>,
    /// What may not change on update (and other update-only rules).
    update: Option<UpdateRule>,
}

impl KindRules {
    const fn named(name: NameFormat) -> KindRules {
        KindRules { name, spec: None, update: None }
    }

    const fn with(name: NameFormat, spec: SpecRule) -> KindRules {
        KindRules { name, spec: Some(spec), update: None }
    }

    const fn updated(name: NameFormat, spec: SpecRule, update: UpdateRule) -> KindRules {
        KindRules { name, spec: Some(spec), update: Some(update) }
    }
}

fn rules(group: &str, kind: &str) -> KindRules {
    use NameFormat::{Dns1035Label, Dns1123Label, Dns1123Subdomain, PathSegment};
    match (group, kind) {
        ("", "Pod") => KindRules::updated(Dns1123Subdomain, pod::validate_pod, pod::validate_pod_update),
        ("", "PodTemplate") => KindRules::with(Dns1123Subdomain, validate_pod_template_object),
        ("", "ReplicationController") => KindRules::with(Dns1123Subdomain, apps::validate_replication_controller),
        ("", "Service") => KindRules::named(Dns1035Label),
        ("", "Namespace") => KindRules::named(Dns1123Label),
        ("", "PersistentVolume") => KindRules::named(PathSegment),
        ("apps", "Deployment") => {
            KindRules::updated(Dns1123Subdomain, apps::validate_deployment, apps::validate_selector_update)
        }
        ("apps", "ReplicaSet") => {
            KindRules::updated(Dns1123Subdomain, apps::validate_replica_set, apps::validate_selector_update)
        }
        ("apps", "DaemonSet") => {
            KindRules::updated(Dns1123Subdomain, apps::validate_daemon_set, apps::validate_selector_update)
        }
        ("apps", "StatefulSet") => {
            KindRules::updated(Dns1123Subdomain, apps::validate_stateful_set, apps::validate_stateful_set_update)
        }
        ("rbac.authorization.k8s.io", _) | ("flowcontrol.apiserver.k8s.io", _) => KindRules::named(PathSegment),
        _ => KindRules::named(Dns1123Subdomain),
    }
}

fn validate_pod_template_object(obj: &Value) -> Vec<FieldError> {
    pod::validate_pod_template(&obj["template"], &crate::field_error::Path::new("template"))
}

/// Cluster-scoped kinds, for when the catalog does not know a kind.
const CLUSTER_SCOPED: [(&str, &str); 24] = [
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
];

/// Whether objects of the kind live in a namespace (the catalog decides; unknown kinds: whether
/// the object names one).
fn is_namespaced(group: &str, kind: &str, obj: &Value) -> bool {
    if let Some(info) = crate::catalog::all().iter().find(|r| r.group == group && r.kind == kind) {
        return info.namespaced;
    }
    if CLUSTER_SCOPED.contains(&(group, kind)) || group == "flowcontrol.apiserver.k8s.io" {
        return false;
    }
    let known_group = matches!(
        group,
        "" | "apps" | "batch" | "autoscaling" | "policy" | "networking.k8s.io" | "rbac.authorization.k8s.io"
            | "coordination.k8s.io" | "discovery.k8s.io" | "events.k8s.io" | "storage.k8s.io"
            | "scheduling.k8s.io"
    );
    known_group || obj["metadata"]["namespace"].as_str().is_some_and(|n| !n.is_empty())
}

/// Every error of an object about to be created (already defaulted).
pub fn validate_create(group: &str, kind: &str, obj: &Value) -> Vec<FieldError> {
    let rules = rules(group, kind);
    let mut errors = validate_object_meta(obj, is_namespaced(group, kind, obj), rules.name);
    if let Some(spec) = rules.spec {
        errors.extend(spec(obj));
    }
    errors
}

/// Every error of an update from `old` to `new` (already defaulted): metadata identity, the
/// object's own rules, and the fields that may not change.
pub fn validate_update(group: &str, kind: &str, new: &Value, old: &Value) -> Vec<FieldError> {
    let rules = rules(group, kind);
    let mut errors = validate_object_meta_update(new, old);
    match rules.update {
        Some(update) => {
            if let Some(spec) = rules.spec.filter(|_| !has_own_spec_check(group, kind)) {
                errors.extend(spec(new));
            }
            errors.extend(update(new, old));
        }
        None => {
            if let Some(spec) = rules.spec {
                errors.extend(spec(new));
            }
        }
    }
    errors
}

/// Kinds whose update rule validates the new spec itself.
fn has_own_spec_check(group: &str, kind: &str) -> bool {
    matches!((group, kind), ("", "Pod"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_with_three_bad_fields_yields_three_messages() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "Bad_Name", "namespace": "default"},
            "spec": {
                "containers": [{"name": "web", "image": "", "terminationMessagePolicy": "File", "imagePullPolicy": "Always"}],
                "restartPolicy": "Sometimes", "dnsPolicy": "ClusterFirst",
            },
        });
        let got = crate::field_error::invalid_message("", "Pod", "Bad_Name", &validate_create("", "Pod", &pod));
        assert_eq!(
            got,
            "Pod \"Bad_Name\" is invalid: [metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'), spec.containers[0].image: Required value, spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"]"
        );
    }

    #[test]
    fn cluster_scoped_kinds_refuse_a_namespace() {
        let role = json!({"metadata": {"name": "admin", "namespace": "x"}, "rules": []});
        let got: Vec<String> = validate_create("rbac.authorization.k8s.io", "ClusterRole", &role)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(got, vec!["metadata.namespace: Forbidden: not allowed on this type"]);
    }
}
