//! One step of a rollout: RollingUpdate or Recreate, given the new and old ReplicaSets.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::Api;
use kube::ResourceExt;

use super::replica_sets::{scale_replica_set, spec_replicas};
use super::rolling_math::{new_replica_set_replicas, scale_down_old_replica_sets, OldReplicas};
use crate::error::ControllerError;
use crate::event_recorder::EventRecorder;

pub struct RolloutTargets<'a> {
    pub api: &'a Api<ReplicaSet>,
    pub recorder: &'a EventRecorder,
    pub deployment: &'a Deployment,
    pub new: &'a ReplicaSet,
    /// Oldest first.
    pub old: &'a [&'a ReplicaSet],
    pub desired: i32,
    pub max_surge: i32,
    pub max_unavailable: i32,
}

fn available(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

/// Grow the new ReplicaSet within the surge, else shrink old ones within the unavailability.
pub async fn rolling_update(targets: &RolloutTargets<'_>) -> Result<(), ControllerError> {
    let new_spec = spec_replicas(targets.new);
    let old_spec: i32 = targets.old.iter().map(|rs| spec_replicas(rs)).sum();
    let mut new_target = new_replica_set_replicas(
        targets.desired,
        targets.max_surge,
        old_spec + new_spec,
        new_spec,
    );
    if old_spec == 0 {
        // Only the new ReplicaSet is left: it simply follows the Deployment's scale.
        new_target = targets.desired;
    }
    if new_target != new_spec {
        return scale(targets, targets.new, new_target).await;
    }
    let old: Vec<OldReplicas> = targets
        .old
        .iter()
        .map(|rs| OldReplicas {
            name: rs.name_any(),
            spec_replicas: spec_replicas(rs),
            available_replicas: available(rs),
        })
        .collect();
    let plan = scale_down_old_replica_sets(
        &old,
        targets.desired,
        targets.max_unavailable,
        new_spec,
        available(targets.new),
    );
    for (name, replicas) in plan {
        if let Some(rs) = targets.old.iter().find(|rs| rs.name_any() == name) {
            scale(targets, rs, replicas).await?;
        }
    }
    Ok(())
}

/// Scale every old ReplicaSet to zero, wait for their pods to go, then scale the new one up.
pub async fn recreate(targets: &RolloutTargets<'_>) -> Result<(), ControllerError> {
    let mut scaled_down = false;
    for rs in targets.old {
        if spec_replicas(rs) > 0 {
            scale(targets, rs, 0).await?;
            scaled_down = true;
        }
    }
    let old_pods_running = targets
        .old
        .iter()
        .any(|rs| rs.status.as_ref().is_some_and(|s| s.replicas > 0));
    if scaled_down || old_pods_running {
        return Ok(());
    }
    if spec_replicas(targets.new) != targets.desired {
        scale(targets, targets.new, targets.desired).await?;
    }
    Ok(())
}

async fn scale(
    targets: &RolloutTargets<'_>,
    rs: &ReplicaSet,
    replicas: i32,
) -> Result<(), ControllerError> {
    scale_replica_set(
        targets.api,
        targets.recorder,
        targets.deployment,
        rs,
        replicas,
        targets.max_surge,
    )
    .await
}
