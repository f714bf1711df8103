//! The core group (`/api/v1`).

use super::verbs::{ALL_BUT_DELETECOLLECTION, CREATE_ONLY, GET_LIST};
use super::{ResourceInfo, Subresource as S};

const fn v1(
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
) -> ResourceInfo {
    ResourceInfo::new("", "v1", kind, plural, singular, namespaced)
}

pub(super) const RESOURCES: &[ResourceInfo] = &[
    v1("Binding", "bindings", "binding", true)
        .with_verbs(CREATE_ONLY)
        .not_stored(),
    v1(
        "ComponentStatus",
        "componentstatuses",
        "componentstatus",
        false,
    )
    .with_short_names(&["cs"])
    .with_verbs(GET_LIST)
    .not_stored(),
    v1("ConfigMap", "configmaps", "configmap", true).with_short_names(&["cm"]),
    v1("Endpoints", "endpoints", "endpoints", true)
        .with_short_names(&["ep"])
        .stored_under("services/endpoints"),
    v1("Event", "events", "event", true).with_short_names(&["ev"]),
    v1("LimitRange", "limitranges", "limitrange", true).with_short_names(&["limits"]),
    v1("Namespace", "namespaces", "namespace", false)
        .with_short_names(&["ns"])
        .with_verbs(ALL_BUT_DELETECOLLECTION)
        .with_subresources(&[S::Finalize, S::Status]),
    v1("Node", "nodes", "node", false)
        .with_short_names(&["no"])
        .with_subresources(&[S::Proxy, S::Status])
        .stored_under("minions"),
    v1(
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        true,
    )
    .with_short_names(&["pvc"])
    .with_subresources(&[S::Status]),
    v1(
        "PersistentVolume",
        "persistentvolumes",
        "persistentvolume",
        false,
    )
    .with_short_names(&["pv"])
    .with_subresources(&[S::Status]),
    v1("Pod", "pods", "pod", true)
        .with_short_names(&["po"])
        .with_categories(&["all"])
        .with_subresources(&[
            S::Attach,
            S::Binding,
            S::Ephemeralcontainers,
            S::Eviction,
            S::Exec,
            S::Log,
            S::PortForward,
            S::Proxy,
            S::Resize,
            S::Status,
        ]),
    v1("PodTemplate", "podtemplates", "podtemplate", true),
    v1(
        "ReplicationController",
        "replicationcontrollers",
        "replicationcontroller",
        true,
    )
    .with_short_names(&["rc"])
    .with_categories(&["all"])
    .with_subresources(&[S::Scale, S::Status])
    .stored_under("controllers"),
    v1("ResourceQuota", "resourcequotas", "resourcequota", true)
        .with_short_names(&["quota"])
        .with_subresources(&[S::Status]),
    v1("Secret", "secrets", "secret", true),
    v1("ServiceAccount", "serviceaccounts", "serviceaccount", true)
        .with_short_names(&["sa"])
        .with_subresources(&[S::Token]),
    v1("Service", "services", "service", true)
        .with_short_names(&["svc"])
        .with_categories(&["all"])
        .with_subresources(&[S::Proxy, S::Status])
        .stored_under("services/specs"),
];
