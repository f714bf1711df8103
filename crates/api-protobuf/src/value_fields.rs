//! Go fields that are plain values (no pointer) tagged `omitempty`.
//!
//! Go's protobuf marshalling writes such a field even when it holds its zero value ("", 0,
//! false), while Go's JSON marshalling leaves it out. A pointer field, by contrast, is written
//! only when set, and a zero it holds means something (`replicas: 0`, `runAsUser: 0`). The
//! wire format cannot tell the two apart, so decoding keeps every zero it reads (the JSON then
//! means what the Go object means) except for the fields listed here, known to be plain
//! `omitempty` values, whose zeros are dropped as Go's JSON drops them. A field missing from
//! this list therefore never loses meaning; it only shows its zero explicitly.

/// (message, JSON field names) whose zero values Go's JSON omits.
const VALUE_FIELDS: &[(&str, &[&str])] = &[
    (
        "apimachinery.pkg.apis.meta.v1.ObjectMeta",
        &[
            "name",
            "generateName",
            "namespace",
            "selfLink",
            "uid",
            "resourceVersion",
            "generation",
        ],
    ),
    (
        "apimachinery.pkg.apis.meta.v1.ListMeta",
        &["selfLink", "resourceVersion", "continue"],
    ),
    (
        "apimachinery.pkg.apis.meta.v1.Status",
        &["status", "message", "reason", "code"],
    ),
    (
        "apimachinery.pkg.apis.meta.v1.StatusDetails",
        &["name", "group", "kind", "uid", "retryAfterSeconds"],
    ),
    (
        "apimachinery.pkg.apis.meta.v1.StatusCause",
        &["reason", "message", "field"],
    ),
    ("api.core.v1.Secret", &["type"]),
    ("api.core.v1.NamespaceStatus", &["phase"]),
    ("api.core.v1.LocalObjectReference", &["name"]),
    (
        "api.core.v1.Container",
        &[
            "image",
            "workingDir",
            "terminationMessagePath",
            "terminationMessagePolicy",
            "imagePullPolicy",
            "stdin",
            "stdinOnce",
            "tty",
        ],
    ),
    (
        "api.core.v1.ContainerPort",
        &["name", "hostPort", "protocol", "hostIP"],
    ),
    ("api.core.v1.EnvVar", &["value"]),
    (
        "api.core.v1.VolumeMount",
        &["readOnly", "subPath", "subPathExpr"],
    ),
    (
        "api.core.v1.PodSpec",
        &[
            "restartPolicy",
            "dnsPolicy",
            "serviceAccountName",
            "serviceAccount",
            "nodeName",
            "hostNetwork",
            "hostPID",
            "hostIPC",
            "hostname",
            "subdomain",
            "schedulerName",
            "priorityClassName",
        ],
    ),
    (
        "api.core.v1.PodStatus",
        &[
            "phase",
            "message",
            "reason",
            "nominatedNodeName",
            "hostIP",
            "podIP",
            "qosClass",
        ],
    ),
    (
        "api.core.v1.ServiceSpec",
        &[
            "clusterIP",
            "type",
            "sessionAffinity",
            "loadBalancerIP",
            "externalName",
            "externalTrafficPolicy",
            "healthCheckNodePort",
            "publishNotReadyAddresses",
        ],
    ),
    ("api.core.v1.ServicePort", &["name", "protocol", "nodePort"]),
    ("api.apps.v1.DeploymentSpec", &["minReadySeconds", "paused"]),
    ("api.apps.v1.DeploymentStrategy", &["type"]),
    (
        "api.apps.v1.DeploymentStatus",
        &[
            "observedGeneration",
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
        ],
    ),
    (
        "api.batch.v1.JobStatus",
        &["active", "succeeded", "failed", "completedIndexes"],
    ),
    ("api.batch.v1.CronJobSpec", &["concurrencyPolicy"]),
    (
        "api.authorization.v1.ResourceAttributes",
        &[
            "namespace",
            "verb",
            "group",
            "version",
            "resource",
            "subresource",
            "name",
        ],
    ),
    (
        "api.authorization.v1.NonResourceAttributes",
        &["path", "verb"],
    ),
    (
        "api.authorization.v1.SubjectAccessReviewStatus",
        &["denied", "reason", "evaluationError"],
    ),
    (
        "api.authorization.v1.SubjectAccessReviewSpec",
        &["user", "uid"],
    ),
    (
        "api.authentication.v1.TokenReviewStatus",
        &["authenticated", "error"],
    ),
    ("api.authentication.v1.UserInfo", &["username", "uid"]),
    ("api.rbac.v1.Subject", &["apiGroup", "namespace"]),
    (
        "api.scheduling.v1.PriorityClass",
        &["globalDefault", "description"],
    ),
    ("api.networking.v1.IngressRule", &["host"]),
    ("api.networking.v1.HttpIngressPath", &["path"]),
    ("api.networking.v1.ServiceBackendPort", &["name", "number"]),
];

/// Whether Go's JSON omits a zero value of `message`'s field `json_name`.
pub(crate) fn omits_zero(message: &str, json_name: &str) -> bool {
    VALUE_FIELDS
        .iter()
        .any(|(m, fields)| *m == message && fields.contains(&json_name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::{message_by_name, FieldKind};

    #[test]
    fn every_listed_field_is_a_scalar_of_its_message() {
        for (message, fields) in VALUE_FIELDS {
            let descriptor =
                message_by_name(message).unwrap_or_else(|| panic!("{message} not in the table"));
            for field in *fields {
                let f = descriptor
                    .field_by_json_name(field)
                    .unwrap_or_else(|| panic!("{message}.{field} not in the table"));
                assert!(
                    matches!(f.kind, FieldKind::Scalar(_)) && !f.repeated,
                    "{message}.{field}"
                );
            }
        }
    }
}
