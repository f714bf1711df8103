//! The status a replica owner reports, computed from its pods (upstream's calculateStatus).

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::replica_owner::{ReplicaCondition, ReplicaStatus};
use crate::pod_conditions::{is_pod_available, is_pod_ready};

const REPLICA_FAILURE: &str = "ReplicaFailure";

/// A failed create or delete during this sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManageFailure {
    /// FailedCreate or FailedDelete.
    pub reason: &'static str,
    pub message: String,
}

pub struct StatusInputs<'a> {
    pub previous: &'a ReplicaStatus,
    pub active_pods: &'a [&'a Pod],
    pub template_labels: &'a BTreeMap<String, String>,
    pub min_ready_seconds: i32,
    pub generation: i64,
    pub failure: Option<&'a ManageFailure>,
    pub now: Timestamp,
}

pub fn replica_status(inputs: StatusInputs<'_>) -> ReplicaStatus {
    let pods = inputs.active_pods;
    let fully_labeled = pods
        .iter()
        .filter(|pod| {
            let labels = pod.metadata.labels.clone().unwrap_or_default();
            inputs
                .template_labels
                .iter()
                .all(|(key, value)| labels.get(key) == Some(value))
        })
        .count();
    let ready = pods.iter().filter(|pod| is_pod_ready(pod)).count();
    let available = pods
        .iter()
        .filter(|pod| is_pod_available(pod, inputs.min_ready_seconds, inputs.now))
        .count();
    let mut conditions = inputs.previous.conditions.clone();
    let has_failure = conditions.iter().any(|c| c.type_ == REPLICA_FAILURE);
    match inputs.failure {
        Some(failure) if !has_failure => conditions.push(ReplicaCondition {
            type_: REPLICA_FAILURE.into(),
            status: "True".into(),
            reason: Some(failure.reason.into()),
            message: Some(failure.message.clone()),
            last_transition_time: Some(Time(inputs.now)),
        }),
        None if has_failure => conditions.retain(|c| c.type_ != REPLICA_FAILURE),
        _ => {}
    }
    ReplicaStatus {
        replicas: count(pods.len()),
        fully_labeled_replicas: count(fully_labeled),
        ready_replicas: count(ready),
        available_replicas: count(available),
        observed_generation: inputs.generation,
        conditions,
    }
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pod_conditions::test_pods::pod;

    #[test]
    fn counts_ready_available_and_labeled_pods_and_sets_failure() {
        let t0 = "2024-01-01T00:00:00Z";
        let ready_long = pod("a", "n", "Running", Some(t0), t0);
        let ready_now = pod("b", "n", "Running", Some("2024-01-01T00:00:09Z"), t0);
        let pending = pod("c", "", "Pending", None, t0);
        let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
        let previous = ReplicaStatus::default();
        let failure = ManageFailure {
            reason: "FailedCreate",
            message: "quota".into(),
        };
        let status = replica_status(StatusInputs {
            previous: &previous,
            active_pods: &[&ready_long, &ready_now, &pending],
            template_labels: &labels,
            min_ready_seconds: 5,
            generation: 3,
            failure: Some(&failure),
            now: "2024-01-01T00:00:10Z".parse().unwrap(),
        });
        assert_eq!(status.replicas, 3);
        assert_eq!(status.fully_labeled_replicas, 3);
        assert_eq!(status.ready_replicas, 2);
        assert_eq!(status.available_replicas, 1);
        assert_eq!(status.observed_generation, 3);
        assert_eq!(status.conditions[0].reason.as_deref(), Some("FailedCreate"));
        let cleared = replica_status(StatusInputs {
            previous: &status,
            active_pods: &[],
            template_labels: &labels,
            min_ready_seconds: 0,
            generation: 3,
            failure: None,
            now: "2024-01-01T00:00:10Z".parse().unwrap(),
        });
        assert!(cleared.conditions.is_empty());
    }
}
