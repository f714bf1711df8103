//! Validation of objects on create and update, as upstream's `pkg/apis/*/validation`: every error
//! is collected with its full field path and upstream's wording. Objects are validated after
//! defaulting (see `crate::defaults`), as upstream does.

mod apiextensions;
mod apps;
mod batch;
mod certificates;
mod cluster_policy;
mod config_data;
mod container;
mod core_cluster;
mod cron_schedule;
mod identifiers;
mod int_or_percent;
mod json_diff;
mod label_selector;
mod networking;
mod object_meta;
mod persistent_volume;
mod pod;
mod rbac;
mod resources;
mod service;
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
        KindRules {
            name,
            spec: None,
            update: None,
        }
    }

    const fn with(name: NameFormat, spec: SpecRule) -> KindRules {
        KindRules {
            name,
            spec: Some(spec),
            update: None,
        }
    }

    const fn updated(name: NameFormat, spec: SpecRule, update: UpdateRule) -> KindRules {
        KindRules {
            name,
            spec: Some(spec),
            update: Some(update),
        }
    }
}

fn rules(group: &str, kind: &str) -> KindRules {
    use NameFormat::{Dns1035Label, Dns1123Label, Dns1123Subdomain, PathSegment};
    const RBAC: &str = "rbac.authorization.k8s.io";
    match (group, kind) {
        ("", "Pod") => KindRules::updated(
            Dns1123Subdomain,
            pod::validate_pod,
            pod::validate_pod_update,
        ),
        ("", "PodTemplate") => KindRules::with(Dns1123Subdomain, validate_pod_template_object),
        ("", "ReplicationController") => {
            KindRules::with(Dns1123Subdomain, apps::validate_replication_controller)
        }
        ("", "Service") => KindRules::updated(
            Dns1035Label,
            service::validate_service,
            service::validate_service_update,
        ),
        ("", "ConfigMap") => KindRules::updated(
            Dns1123Subdomain,
            config_data::validate_config_map,
            config_data::validate_config_map_update,
        ),
        ("", "Secret") => KindRules::updated(
            Dns1123Subdomain,
            config_data::validate_secret,
            config_data::validate_secret_update,
        ),
        ("", "Namespace") => KindRules::with(Dns1123Label, core_cluster::validate_namespace),
        ("", "Node") => KindRules::with(Dns1123Subdomain, core_cluster::validate_node),
        ("", "Event") => KindRules::with(Dns1123Subdomain, core_cluster::validate_event),
        ("", "PersistentVolume") => {
            KindRules::with(PathSegment, persistent_volume::validate_persistent_volume)
        }
        ("", "PersistentVolumeClaim") => KindRules::updated(
            Dns1123Subdomain,
            persistent_volume::validate_persistent_volume_claim,
            persistent_volume::validate_persistent_volume_claim_update,
        ),
        ("apps", "Deployment") => KindRules::updated(
            Dns1123Subdomain,
            apps::validate_deployment,
            apps::validate_selector_update,
        ),
        ("apps", "ReplicaSet") => KindRules::updated(
            Dns1123Subdomain,
            apps::validate_replica_set,
            apps::validate_selector_update,
        ),
        ("apps", "DaemonSet") => KindRules::updated(
            Dns1123Subdomain,
            apps::validate_daemon_set,
            apps::validate_selector_update,
        ),
        ("apps", "StatefulSet") => KindRules::updated(
            Dns1123Subdomain,
            apps::validate_stateful_set,
            apps::validate_stateful_set_update,
        ),
        ("batch", "Job") => KindRules::updated(
            Dns1123Subdomain,
            batch::validate_job,
            batch::validate_job_update,
        ),
        ("batch", "CronJob") => KindRules::updated(
            Dns1123Subdomain,
            batch::validate_cron_job,
            batch::validate_cron_job_update,
        ),
        ("autoscaling", "HorizontalPodAutoscaler") => KindRules::with(
            Dns1123Subdomain,
            cluster_policy::validate_horizontal_pod_autoscaler,
        ),
        ("policy", "PodDisruptionBudget") => KindRules::with(
            Dns1123Subdomain,
            cluster_policy::validate_pod_disruption_budget,
        ),
        ("coordination.k8s.io", "Lease") => {
            KindRules::with(Dns1123Subdomain, cluster_policy::validate_lease)
        }
        ("scheduling.k8s.io", "PriorityClass") => KindRules::updated(
            Dns1123Subdomain,
            cluster_policy::validate_priority_class,
            cluster_policy::validate_priority_class_update,
        ),
        ("storage.k8s.io", "StorageClass") => KindRules::updated(
            Dns1123Subdomain,
            cluster_policy::validate_storage_class,
            cluster_policy::validate_storage_class_update,
        ),
        ("networking.k8s.io", "Ingress") => {
            KindRules::with(Dns1123Subdomain, networking::validate_ingress)
        }
        ("networking.k8s.io", "IngressClass") => {
            KindRules::with(Dns1123Subdomain, networking::validate_ingress_class)
        }
        ("networking.k8s.io", "NetworkPolicy") => {
            KindRules::with(Dns1123Subdomain, networking::validate_network_policy)
        }
        (RBAC, "Role") => KindRules::with(PathSegment, rbac::validate_role),
        (RBAC, "ClusterRole") => KindRules::with(PathSegment, rbac::validate_cluster_role),
        (RBAC, "RoleBinding") => KindRules::updated(
            PathSegment,
            rbac::validate_role_binding,
            rbac::validate_binding_update,
        ),
        (RBAC, "ClusterRoleBinding") => KindRules::updated(
            PathSegment,
            rbac::validate_cluster_role_binding,
            rbac::validate_binding_update,
        ),
        ("certificates.k8s.io", "CertificateSigningRequest") => KindRules::updated(
            Dns1123Subdomain,
            certificates::validate_certificate_signing_request,
            certificates::validate_certificate_signing_request_update,
        ),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => KindRules::with(
            Dns1123Subdomain,
            apiextensions::validate_custom_resource_definition,
        ),
        (RBAC, _) | ("flowcontrol.apiserver.k8s.io", _) => KindRules::named(PathSegment),
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
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
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
    if let Some(info) = crate::catalog::all()
        .iter()
        .find(|r| r.group == group && r.kind == kind)
    {
        return info.namespaced;
    }
    if CLUSTER_SCOPED.contains(&(group, kind)) || group == "flowcontrol.apiserver.k8s.io" {
        return false;
    }
    let known_group = matches!(
        group,
        "" | "apps"
            | "batch"
            | "autoscaling"
            | "policy"
            | "networking.k8s.io"
            | "rbac.authorization.k8s.io"
            | "coordination.k8s.io"
            | "discovery.k8s.io"
            | "events.k8s.io"
            | "storage.k8s.io"
            | "scheduling.k8s.io"
    );
    known_group
        || obj["metadata"]["namespace"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
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
        let got = crate::field_error::invalid_message(
            "",
            "Pod",
            "Bad_Name",
            &validate_create("", "Pod", &pod),
        );
        assert_eq!(
            got,
            "Pod \"Bad_Name\" is invalid: [metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'), spec.containers[0].image: Required value, spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"]"
        );
    }

    #[test]
    fn defaulted_everyday_manifests_are_valid() {
        let pod_template = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
             "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
             "livenessProbe": {"httpGet": {"port": 80}}, "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
            "volumes": [{"name": "data", "emptyDir": {}}]}});
        let mut job_template = pod_template.clone();
        job_template["spec"]["restartPolicy"] = json!("Never");
        let cases = [
            (
                "",
                "Pod",
                json!({"metadata": {"name": "p", "namespace": "default"}, "spec": pod_template["spec"].clone()}),
            ),
            (
                "apps",
                "Deployment",
                json!({"metadata": {"name": "web", "namespace": "default"},
                "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": pod_template.clone()}}),
            ),
            (
                "apps",
                "StatefulSet",
                json!({"metadata": {"name": "db", "namespace": "default"},
                "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "web"}}, "template": pod_template.clone()}}),
            ),
            (
                "apps",
                "DaemonSet",
                json!({"metadata": {"name": "agent", "namespace": "default"},
                "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": pod_template.clone()}}),
            ),
            (
                "batch",
                "CronJob",
                json!({"metadata": {"name": "tick", "namespace": "default"},
                "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": job_template.clone()}}}}),
            ),
            (
                "",
                "Service",
                json!({"metadata": {"name": "web", "namespace": "default"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
            ),
            (
                "",
                "ConfigMap",
                json!({"metadata": {"name": "cfg", "namespace": "default"}, "data": {"a.conf": "x"}}),
            ),
            (
                "",
                "Secret",
                json!({"metadata": {"name": "s", "namespace": "default"}, "stringData": {"password": "x"}}),
            ),
            ("", "Namespace", json!({"metadata": {"name": "dev"}})),
            (
                "",
                "PersistentVolumeClaim",
                json!({"metadata": {"name": "c", "namespace": "default"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
            ),
            (
                "rbac.authorization.k8s.io",
                "RoleBinding",
                json!({"metadata": {"name": "rb", "namespace": "default"},
                "roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "User", "name": "jane"}]}),
            ),
            (
                "rbac.authorization.k8s.io",
                "Role",
                json!({"metadata": {"name": "r", "namespace": "default"},
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
            ),
            (
                "networking.k8s.io",
                "Ingress",
                json!({"metadata": {"name": "i", "namespace": "default"}, "spec": {"rules": [
                {"host": "example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
            ),
        ];
        for (group, kind, mut obj) in cases {
            crate::defaults::apply_defaults(group, kind, &mut obj);
            let errors: Vec<String> = validate_create(group, kind, &obj)
                .iter()
                .map(ToString::to_string)
                .collect();
            assert_eq!(errors, Vec::<String>::new(), "{kind}");
        }
        let mut job = json!({"metadata": {"name": "pi", "namespace": "default", "uid": "u"}, "spec": {"template": job_template}});
        crate::defaults::apply_defaults("batch", "Job", &mut job);
        crate::defaults::generate_job_selector(&mut job);
        assert!(validate_create("batch", "Job", &job).is_empty());
    }

    #[test]
    fn cluster_scoped_kinds_refuse_a_namespace() {
        let role = json!({"metadata": {"name": "admin", "namespace": "x"}, "rules": []});
        let got: Vec<String> = validate_create("rbac.authorization.k8s.io", "ClusterRole", &role)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            got,
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );
    }
}
