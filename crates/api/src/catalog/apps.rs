//! `apps/v1`.

use super::{ResourceInfo, Subresource as S};

const fn v1(kind: &'static str, plural: &'static str, singular: &'static str) -> ResourceInfo {
    ResourceInfo::new("apps", "v1", kind, plural, singular, true)
}

pub(super) const RESOURCES: &[ResourceInfo] = &[
    v1(
        "ControllerRevision",
        "controllerrevisions",
        "controllerrevision",
    ),
    v1("DaemonSet", "daemonsets", "daemonset")
        .with_short_names(&["ds"])
        .with_categories(&["all"])
        .with_subresources(&[S::Status]),
    v1("Deployment", "deployments", "deployment")
        .with_short_names(&["deploy"])
        .with_categories(&["all"])
        .with_subresources(&[S::Scale, S::Status]),
    v1("ReplicaSet", "replicasets", "replicaset")
        .with_short_names(&["rs"])
        .with_categories(&["all"])
        .with_subresources(&[S::Scale, S::Status]),
    v1("StatefulSet", "statefulsets", "statefulset")
        .with_short_names(&["sts"])
        .with_categories(&["all"])
        .with_subresources(&[S::Scale, S::Status]),
];
