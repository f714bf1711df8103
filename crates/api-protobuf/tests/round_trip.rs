//! Typed objects built with k8s-pb's prost structs, encoded by prost, wrapped in the envelope:
//! `decode` must give upstream's JSON, and `encode` of that JSON must give back the same message.

use std::collections::BTreeMap;
use std::fmt::Debug;

use k8s_pb::api::admissionregistration::v1 as admission;
use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::authorization::v1 as authz;
use k8s_pb::api::coordination::v1 as coordination;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{RawExtension, TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;
use serde_json::{json, Value};

fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut body = b"k8s\0".to_vec();
    body.extend(unknown.encode_to_vec());
    body
}

fn unwrap_envelope(body: &[u8]) -> Unknown {
    assert_eq!(&body[..4], b"k8s\0");
    Unknown::decode(&body[4..]).unwrap()
}

/// decode(envelope(message)) == expected, and encode(expected) carries `message` again.
fn check<M: Message + Default + PartialEq + Debug>(
    api_version: &str,
    kind: &str,
    message: &M,
    expected: Value,
) {
    let body = envelope(api_version, kind, message.encode_to_vec());
    let decoded = api_protobuf::decode(&body).unwrap();
    assert_eq!(decoded, expected);
    let encoded = api_protobuf::encode(&decoded).unwrap();
    let unknown = unwrap_envelope(&encoded);
    let type_meta = unknown.type_meta.unwrap();
    assert_eq!(type_meta.api_version.as_deref(), Some(api_version));
    assert_eq!(type_meta.kind.as_deref(), Some(kind));
    assert_eq!(
        &M::decode(unknown.raw.unwrap().as_slice()).unwrap(),
        message
    );
    assert_eq!(api_protobuf::decode(&encoded).unwrap(), expected);
}

fn meta(name: &str, namespace: Option<&str>) -> meta::ObjectMeta {
    meta::ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(Into::into),
        ..Default::default()
    }
}

fn time(seconds: i64) -> meta::Time {
    meta::Time {
        seconds: Some(seconds),
        nanos: Some(0),
    }
}

fn int_or_string_int(value: i32) -> IntOrString {
    IntOrString {
        r#type: Some(0),
        int_val: Some(value),
        str_val: Some(String::new()),
    }
}

fn int_or_string_str(value: &str) -> IntOrString {
    IntOrString {
        r#type: Some(1),
        int_val: Some(0),
        str_val: Some(value.into()),
    }
}

fn quantity(value: &str) -> Quantity {
    Quantity {
        string: Some(value.into()),
    }
}

#[test]
fn secret_with_binary_data() {
    let mut metadata = meta("s", Some("default"));
    metadata.creation_timestamp = Some(time(1_795_384_696));
    metadata.uid = Some("6a3c1f5e-0000-4000-8000-000000000001".into());
    let secret = core::Secret {
        metadata: Some(metadata),
        immutable: Some(false),
        data: BTreeMap::from([
            ("bin".to_string(), vec![0u8, 1, 0xff, 0xfe]),
            ("text".to_string(), b"hello".to_vec()),
        ]),
        string_data: BTreeMap::new(),
        r#type: Some("kubernetes.io/tls".into()),
    };
    check(
        "v1",
        "Secret",
        &secret,
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "s",
                "namespace": "default",
                "uid": "6a3c1f5e-0000-4000-8000-000000000001",
                "creationTimestamp": "2026-11-22T21:58:16Z"
            },
            "immutable": false,
            "data": {"bin": "AAH//g==", "text": "aGVsbG8="},
            "type": "kubernetes.io/tls"
        }),
    );
}

#[test]
fn namespace_with_finalizers_and_phase() {
    let mut metadata = meta("team-a", None);
    metadata.labels = BTreeMap::from([("kubernetes.io/metadata.name".into(), "team-a".into())]);
    metadata.annotations = BTreeMap::from([("note".into(), "ünïcode ✓".into())]);
    metadata.finalizers = vec!["example.com/keep".into()];
    let namespace = core::Namespace {
        metadata: Some(metadata),
        spec: Some(core::NamespaceSpec {
            finalizers: vec!["kubernetes".into()],
        }),
        status: Some(core::NamespaceStatus {
            phase: Some("Active".into()),
            conditions: vec![],
        }),
    };
    check(
        "v1",
        "Namespace",
        &namespace,
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": "team-a",
                "labels": {"kubernetes.io/metadata.name": "team-a"},
                "annotations": {"note": "ünïcode ✓"},
                "finalizers": ["example.com/keep"]
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}
        }),
    );
}

fn nginx_container() -> core::Container {
    core::Container {
        name: Some("nginx".into()),
        image: Some("nginx:1.27".into()),
        ports: vec![core::ContainerPort {
            container_port: Some(80),
            protocol: Some("TCP".into()),
            ..Default::default()
        }],
        resources: Some(core::ResourceRequirements {
            limits: BTreeMap::from([
                ("cpu".into(), quantity("500m")),
                ("memory".into(), quantity("128Mi")),
            ]),
            requests: BTreeMap::from([("cpu".into(), quantity("250m"))]),
            ..Default::default()
        }),
        readiness_probe: Some(core::Probe {
            handler: Some(core::ProbeHandler {
                http_get: Some(core::HttpGetAction {
                    path: Some("/healthz".into()),
                    port: Some(int_or_string_str("http")),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            period_seconds: Some(10),
            ..Default::default()
        }),
        security_context: Some(core::SecurityContext {
            run_as_user: Some(0),
            allow_privilege_escalation: Some(false),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn nginx_container_json() -> Value {
    json!({
        "name": "nginx",
        "image": "nginx:1.27",
        "ports": [{"containerPort": 80, "protocol": "TCP"}],
        "resources": {
            "limits": {"cpu": "500m", "memory": "128Mi"},
            "requests": {"cpu": "250m"}
        },
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": "http"},
            "periodSeconds": 10
        },
        "securityContext": {"runAsUser": 0, "allowPrivilegeEscalation": false}
    })
}

#[test]
fn deployment_with_int_or_string_and_pointer_zero() {
    let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
    let deployment = apps::Deployment {
        metadata: Some(meta("web", Some("default"))),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(0),
            selector: Some(meta::LabelSelector {
                match_labels: labels.clone(),
                ..Default::default()
            }),
            template: Some(core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels,
                    ..Default::default()
                }),
                spec: Some(core::PodSpec {
                    containers: vec![nginx_container()],
                    ..Default::default()
                }),
            }),
            strategy: Some(apps::DeploymentStrategy {
                r#type: Some("RollingUpdate".into()),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_unavailable: Some(int_or_string_int(1)),
                    max_surge: Some(int_or_string_str("25%")),
                }),
            }),
            revision_history_limit: Some(10),
            ..Default::default()
        }),
        status: None,
    };
    check(
        "apps/v1",
        "Deployment",
        &deployment,
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [nginx_container_json()]}
                },
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}
                },
                "revisionHistoryLimit": 10
            }
        }),
    );
}

#[test]
fn service_with_cluster_ip() {
    let service = core::Service {
        metadata: Some(meta("web", Some("default"))),
        spec: Some(core::ServiceSpec {
            ports: vec![core::ServicePort {
                name: Some("http".into()),
                protocol: Some("TCP".into()),
                port: Some(80),
                target_port: Some(int_or_string_int(8080)),
                ..Default::default()
            }],
            selector: BTreeMap::from([("app".into(), "web".into())]),
            cluster_ip: Some("10.96.0.10".into()),
            cluster_ips: vec!["10.96.0.10".into()],
            r#type: Some("ClusterIP".into()),
            ip_families: vec!["IPv4".into()],
            ..Default::default()
        }),
        status: Some(core::ServiceStatus::default()),
    };
    check(
        "v1",
        "Service",
        &service,
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}],
                "selector": {"app": "web"},
                "clusterIP": "10.96.0.10",
                "type": "ClusterIP",
                "clusterIPs": ["10.96.0.10"],
                "ipFamilies": ["IPv4"]
            },
            "status": {}
        }),
    );
}

#[test]
fn pod_with_volumes_inline_members_and_times() {
    let mut metadata = meta("p", Some("default"));
    metadata.creation_timestamp = Some(time(1_700_000_000));
    metadata.deletion_grace_period_seconds = Some(0);
    metadata.owner_references = vec![meta::OwnerReference {
        api_version: Some("apps/v1".into()),
        kind: Some("ReplicaSet".into()),
        name: Some("web-1".into()),
        uid: Some("u-1".into()),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }];
    metadata.managed_fields = vec![meta::ManagedFieldsEntry {
        manager: Some("kubectl".into()),
        operation: Some("Update".into()),
        api_version: Some("v1".into()),
        time: Some(time(1_700_000_000)),
        fields_type: Some("FieldsV1".into()),
        fields_v1: Some(meta::FieldsV1 {
            raw: Some(br#"{"f:spec":{"f:containers":{}}}"#.to_vec()),
        }),
        subresource: None,
    }];
    let pod = core::Pod {
        metadata: Some(metadata),
        spec: Some(core::PodSpec {
            volumes: vec![core::Volume {
                name: Some("cfg".into()),
                volume_source: Some(core::VolumeSource {
                    config_map: Some(core::ConfigMapVolumeSource {
                        local_object_reference: Some(core::LocalObjectReference {
                            name: Some("settings".into()),
                        }),
                        default_mode: Some(0o644),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            }],
            containers: vec![nginx_container()],
            automount_service_account_token: Some(false),
            termination_grace_period_seconds: Some(30),
            ..Default::default()
        }),
        status: Some(core::PodStatus {
            phase: Some("Running".into()),
            start_time: Some(time(1_700_000_001)),
            ..Default::default()
        }),
    };
    check(
        "v1",
        "Pod",
        &pod,
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "p",
                "namespace": "default",
                "creationTimestamp": "2023-11-14T22:13:20Z",
                "deletionGracePeriodSeconds": 0,
                "ownerReferences": [{
                    "kind": "ReplicaSet", "name": "web-1", "uid": "u-1", "apiVersion": "apps/v1",
                    "controller": true, "blockOwnerDeletion": true
                }],
                "managedFields": [{
                    "manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                    "time": "2023-11-14T22:13:20Z", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:containers": {}}}
                }]
            },
            "spec": {
                "volumes": [{"name": "cfg", "configMap": {"name": "settings", "defaultMode": 420}}],
                "containers": [nginx_container_json()],
                "terminationGracePeriodSeconds": 30,
                "automountServiceAccountToken": false
            },
            "status": {"phase": "Running", "startTime": "2023-11-14T22:13:21Z"}
        }),
    );
}

#[test]
fn self_subject_access_review() {
    let review = authz::SelfSubjectAccessReview {
        metadata: Some(meta::ObjectMeta::default()),
        spec: Some(authz::SelfSubjectAccessReviewSpec {
            resource_attributes: Some(authz::ResourceAttributes {
                namespace: Some("default".into()),
                verb: Some("get".into()),
                resource: Some("pods".into()),
                ..Default::default()
            }),
            non_resource_attributes: None,
        }),
        status: Some(authz::SubjectAccessReviewStatus {
            allowed: Some(false),
            ..Default::default()
        }),
    };
    check(
        "authorization.k8s.io/v1",
        "SelfSubjectAccessReview",
        &review,
        json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "metadata": {},
            "spec": {"resourceAttributes": {"namespace": "default", "verb": "get", "resource": "pods"}},
            "status": {"allowed": false}
        }),
    );
}

#[test]
fn lease_with_micro_time() {
    let lease = coordination::Lease {
        metadata: Some(meta("node-1", Some("kube-node-lease"))),
        spec: Some(coordination::LeaseSpec {
            holder_identity: Some("node-1".into()),
            lease_duration_seconds: Some(40),
            renew_time: Some(meta::MicroTime {
                seconds: Some(1_795_384_696),
                nanos: Some(123_456_000),
            }),
            ..Default::default()
        }),
    };
    check(
        "coordination.k8s.io/v1",
        "Lease",
        &lease,
        json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "node-1", "namespace": "kube-node-lease"},
            "spec": {
                "holderIdentity": "node-1",
                "leaseDurationSeconds": 40,
                "renewTime": "2026-11-22T21:58:16.123456Z"
            }
        }),
    );
}

#[test]
fn controller_revision_with_raw_extension() {
    let revision = apps::ControllerRevision {
        metadata: Some(meta("web-5d8f", Some("default"))),
        data: Some(RawExtension {
            raw: Some(br#"{"spec":{"template":{"spec":{"containers":[]}}}}"#.to_vec()),
        }),
        revision: Some(3),
    };
    check(
        "apps/v1",
        "ControllerRevision",
        &revision,
        json!({
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {"name": "web-5d8f", "namespace": "default"},
            "data": {"spec": {"template": {"spec": {"containers": []}}}},
            "revision": 3
        }),
    );
}

#[test]
fn webhook_rules_are_inline() {
    let config = admission::ValidatingWebhookConfiguration {
        metadata: Some(meta("policy", None)),
        webhooks: vec![admission::ValidatingWebhook {
            name: Some("check.example.com".into()),
            client_config: Some(admission::WebhookClientConfig {
                url: Some("https://example.com/check".into()),
                ca_bundle: Some(vec![1, 2, 3]),
                ..Default::default()
            }),
            rules: vec![admission::RuleWithOperations {
                operations: vec!["CREATE".into()],
                rule: Some(admission::Rule {
                    api_groups: vec![String::new()],
                    api_versions: vec!["v1".into()],
                    resources: vec!["pods".into()],
                    scope: Some("*".into()),
                }),
            }],
            side_effects: Some("None".into()),
            admission_review_versions: vec!["v1".into()],
            ..Default::default()
        }],
    };
    check(
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        &config,
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "policy"},
            "webhooks": [{
                "name": "check.example.com",
                "clientConfig": {"url": "https://example.com/check", "caBundle": "AQID"},
                "rules": [{
                    "operations": ["CREATE"],
                    "apiGroups": [""],
                    "apiVersions": ["v1"],
                    "resources": ["pods"],
                    "scope": "*"
                }],
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"]
            }]
        }),
    );
}

#[test]
fn delete_options_and_status() {
    let options = meta::DeleteOptions {
        grace_period_seconds: Some(0),
        propagation_policy: Some("Foreground".into()),
        dry_run: vec!["All".into()],
        ..Default::default()
    };
    check(
        "meta.k8s.io/v1",
        "DeleteOptions",
        &options,
        json!({
            "apiVersion": "meta.k8s.io/v1",
            "kind": "DeleteOptions",
            "gracePeriodSeconds": 0,
            "propagationPolicy": "Foreground",
            "dryRun": ["All"]
        }),
    );
    let status = meta::Status {
        metadata: Some(meta::ListMeta::default()),
        status: Some("Failure".into()),
        message: Some("pods \"x\" not found".into()),
        reason: Some("NotFound".into()),
        details: Some(meta::StatusDetails {
            name: Some("x".into()),
            kind: Some("pods".into()),
            ..Default::default()
        }),
        code: Some(404),
    };
    check(
        "v1",
        "Status",
        &status,
        json!({
            "apiVersion": "v1",
            "kind": "Status",
            "metadata": {},
            "status": "Failure",
            "message": "pods \"x\" not found",
            "reason": "NotFound",
            "details": {"name": "x", "kind": "pods"},
            "code": 404
        }),
    );
}

#[test]
fn config_map_list() {
    let list = core::ConfigMapList {
        metadata: Some(meta::ListMeta {
            resource_version: Some("42".into()),
            ..Default::default()
        }),
        items: vec![core::ConfigMap {
            metadata: Some(meta("a", Some("default"))),
            data: BTreeMap::from([("k".into(), "v".into())]),
            binary_data: BTreeMap::from([("b".into(), vec![0xde, 0xad])]),
            immutable: None,
        }],
    };
    check(
        "v1",
        "ConfigMapList",
        &list,
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMapList",
            "metadata": {"resourceVersion": "42"},
            "items": [{
                "metadata": {"name": "a", "namespace": "default"},
                "data": {"k": "v"},
                "binaryData": {"b": "3q0="}
            }]
        }),
    );
}
