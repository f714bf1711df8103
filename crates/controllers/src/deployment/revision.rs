//! The `deployment.kubernetes.io/revision` annotation on Deployments and their ReplicaSets.

use k8s_openapi::api::apps::v1::ReplicaSet;

pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
pub const DESIRED_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/max-replicas";

pub fn revision_of(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION_ANNOTATION))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// The revision the new ReplicaSet gets: one past every old one.
pub fn next_revision(old: &[&ReplicaSet]) -> i64 {
    old.iter().map(|rs| revision_of(rs)).max().unwrap_or(0) + 1
}
