//! The Deployment's status and its Available / Progressing conditions (upstream's
//! calculateStatus and syncRolloutStatus).

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Counts over the Deployment's ReplicaSets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplicaCounts {
    pub replicas: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
}

pub fn replica_counts(all: &[&ReplicaSet], new: Option<&ReplicaSet>) -> ReplicaCounts {
    let status = |rs: &ReplicaSet| rs.status.clone().unwrap_or_default();
    ReplicaCounts {
        replicas: all.iter().map(|rs| status(rs).replicas).sum(),
        updated: new.map(|rs| status(rs).replicas).unwrap_or(0),
        ready: all
            .iter()
            .map(|rs| status(rs).ready_replicas.unwrap_or(0))
            .sum(),
        available: all
            .iter()
            .map(|rs| status(rs).available_replicas.unwrap_or(0))
            .sum(),
    }
}

/// What the rollout did in this sync, for the Progressing condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutEvent {
    /// Just created the new ReplicaSet.
    Created(String),
    /// The new ReplicaSet already existed.
    Found(String),
}

pub struct StatusInputs<'a> {
    pub previous: &'a DeploymentStatus,
    pub counts: ReplicaCounts,
    pub desired: i32,
    pub max_unavailable: i32,
    pub generation: i64,
    pub new_replica_set: Option<&'a str>,
    pub rollout: Option<RolloutEvent>,
    pub paused: bool,
    pub progress_deadline_seconds: Option<i32>,
    pub now: Timestamp,
}

pub fn deployment_status(inputs: StatusInputs<'_>) -> DeploymentStatus {
    let counts = inputs.counts;
    let mut conditions = inputs.previous.conditions.clone().unwrap_or_default();
    let now = Time(inputs.now);
    if counts.available >= inputs.desired - inputs.max_unavailable {
        set_condition(
            &mut conditions,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            &now,
        );
    } else {
        set_condition(
            &mut conditions,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            &now,
        );
    }
    if inputs.progress_deadline_seconds.is_some() {
        progressing_condition(&inputs, &mut conditions, &now);
    }
    DeploymentStatus {
        observed_generation: Some(inputs.generation),
        replicas: Some(counts.replicas),
        updated_replicas: Some(counts.updated),
        ready_replicas: Some(counts.ready),
        available_replicas: Some(counts.available),
        unavailable_replicas: Some((inputs.desired - counts.available).max(0)),
        terminating_replicas: None,
        collision_count: inputs.previous.collision_count,
        conditions: Some(conditions),
    }
}

fn progressing_condition(
    inputs: &StatusInputs<'_>,
    conditions: &mut Vec<DeploymentCondition>,
    now: &Time,
) {
    let existing = conditions
        .iter()
        .find(|c| c.type_ == "Progressing")
        .cloned();
    let name = inputs.new_replica_set.unwrap_or_default();
    if inputs.paused {
        if existing.as_ref().and_then(|c| c.reason.as_deref()) != Some("DeploymentPaused") {
            set_condition(
                conditions,
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused",
                now,
            );
        }
        return;
    }
    if existing.as_ref().and_then(|c| c.reason.as_deref()) == Some("DeploymentPaused") {
        set_condition(
            conditions,
            "Progressing",
            "Unknown",
            "DeploymentResumed",
            "Deployment is resumed",
            now,
        );
        return;
    }
    match &inputs.rollout {
        Some(RolloutEvent::Created(rs)) => {
            let message = format!("Created new replica set \"{rs}\"");
            set_condition(
                conditions,
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                &message,
                now,
            );
            return;
        }
        Some(RolloutEvent::Found(rs)) if existing.is_none() => {
            let message = format!("Found new replica set \"{rs}\"");
            set_condition(
                conditions,
                "Progressing",
                "True",
                "FoundNewReplicaSet",
                &message,
                now,
            );
            return;
        }
        _ => {}
    }
    let counts = inputs.counts;
    let complete = counts.updated == inputs.desired
        && counts.replicas == inputs.desired
        && counts.available == inputs.desired;
    if complete {
        let message = format!("ReplicaSet \"{name}\" has successfully progressed.");
        set_condition(
            conditions,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &message,
            now,
        );
        return;
    }
    let previous = inputs.previous;
    let progressed = counts.updated > previous.updated_replicas.unwrap_or(0)
        || counts.ready > previous.ready_replicas.unwrap_or(0)
        || counts.available > previous.available_replicas.unwrap_or(0)
        || counts.replicas < previous.replicas.unwrap_or(0);
    if progressed || existing.is_none() {
        let message = format!("ReplicaSet \"{name}\" is progressing.");
        set_condition(
            conditions,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            &message,
            now,
        );
        if let Some(condition) = conditions.iter_mut().find(|c| c.type_ == "Progressing") {
            condition.last_update_time = Some(now.clone());
        }
        return;
    }
    if let (Some(existing), Some(deadline)) = (existing, inputs.progress_deadline_seconds) {
        let last = existing
            .last_update_time
            .as_ref()
            .map(|t| t.0)
            .unwrap_or(inputs.now);
        let timed_out = last
            .checked_add(SignedDuration::from_secs(i64::from(deadline)))
            .is_ok_and(|at| at < inputs.now);
        if timed_out && existing.reason.as_deref() != Some("NewReplicaSetAvailable") {
            let message = format!("ReplicaSet \"{name}\" has timed out progressing.");
            set_condition(
                conditions,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &message,
                now,
            );
        }
    }
}

/// Set a condition, keeping lastTransitionTime when the status does not change.
fn set_condition(
    conditions: &mut Vec<DeploymentCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &Time,
) {
    if let Some(existing) = conditions.iter_mut().find(|c| c.type_ == type_) {
        let same_reason = existing.reason.as_deref() == Some(reason);
        if existing.status != status {
            existing.last_transition_time = Some(now.clone());
        }
        if !(same_reason
            && existing.status == status
            && existing.message.as_deref() == Some(message))
        {
            existing.last_update_time = Some(now.clone());
        }
        existing.status = status.to_string();
        existing.reason = Some(reason.to_string());
        existing.message = Some(message.to_string());
        return;
    }
    conditions.push(DeploymentCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        last_transition_time: Some(now.clone()),
        last_update_time: Some(now.clone()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(
        previous: &'a DeploymentStatus,
        counts: ReplicaCounts,
        now: &str,
    ) -> StatusInputs<'a> {
        StatusInputs {
            previous,
            counts,
            desired: 3,
            max_unavailable: 0,
            generation: 2,
            new_replica_set: Some("web-abc"),
            rollout: None,
            paused: false,
            progress_deadline_seconds: Some(600),
            now: now.parse().unwrap(),
        }
    }

    fn reason(status: &DeploymentStatus, type_: &str) -> String {
        status
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == type_)
            .and_then(|c| c.reason.clone())
            .unwrap()
    }

    #[test]
    fn a_complete_rollout_is_available_and_progressed() {
        let counts = ReplicaCounts {
            replicas: 3,
            updated: 3,
            ready: 3,
            available: 3,
        };
        let status = deployment_status(inputs(
            &DeploymentStatus::default(),
            counts,
            "2024-01-01T00:00:00Z",
        ));
        assert_eq!(reason(&status, "Available"), "MinimumReplicasAvailable");
        assert_eq!(reason(&status, "Progressing"), "NewReplicaSetAvailable");
        assert_eq!(status.unavailable_replicas, Some(0));
        assert_eq!(status.observed_generation, Some(2));
    }

    #[test]
    fn a_stalled_rollout_exceeds_its_deadline() {
        let counts = ReplicaCounts {
            replicas: 3,
            updated: 1,
            ready: 2,
            available: 2,
        };
        let first = deployment_status(inputs(
            &DeploymentStatus::default(),
            counts,
            "2024-01-01T00:00:00Z",
        ));
        assert_eq!(reason(&first, "Progressing"), "ReplicaSetUpdated");
        assert_eq!(reason(&first, "Available"), "MinimumReplicasUnavailable");
        let later = deployment_status(inputs(&first, counts, "2024-01-01T00:09:00Z"));
        assert_eq!(reason(&later, "Progressing"), "ReplicaSetUpdated");
        let timed_out = deployment_status(inputs(&later, counts, "2024-01-01T00:11:00Z"));
        assert_eq!(
            reason(&timed_out, "Progressing"),
            "ProgressDeadlineExceeded"
        );
    }
}
