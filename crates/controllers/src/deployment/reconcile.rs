//! One sync of a Deployment: claim ReplicaSets, find or create the new one, take one rollout
//! step, clean up history, report status.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::Store;
use kube::ResourceExt;

use super::claim::{claim_replica_sets, selector_of};
use super::replica_sets::{
    clean_up_old_replica_sets, create_replica_set, new_replica_set, spec_replicas,
};
use super::revision::{next_revision, revision_of, REVISION_ANNOTATION};
use super::rolling_math::{new_replica_set_replicas, resolve_fenceposts};
use super::rollout::{recreate, rolling_update, RolloutTargets};
use super::status::{deployment_status, replica_counts, RolloutEvent, StatusInputs};
use super::template_hash::{template_hash, templates_equal_ignoring_hash};
use crate::error::{is_status, ControllerError};
use crate::event_recorder::{EventRecorder, EventType};

pub struct DeploymentContext {
    pub client: kube::Client,
    pub replica_sets: Store<ReplicaSet>,
    pub recorder: EventRecorder,
    pub resync: Duration,
}

const DEFAULT_REVISION_HISTORY_LIMIT: i32 = 10;
const DEFAULT_PROGRESS_DEADLINE_SECONDS: i32 = 600;

pub async fn reconcile(
    deployment: Arc<Deployment>,
    context: Arc<DeploymentContext>,
) -> Result<Action, ControllerError> {
    let namespace = deployment.namespace().unwrap_or_default();
    let name = deployment.name_any();
    let spec = deployment.spec.clone().unwrap_or_default();
    let Some(selector) = selector_of(&deployment).filter(|s| !s.is_empty()) else {
        context
            .recorder
            .record(
                deployment.as_ref(),
                EventType::Warning,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.".into(),
            )
            .await;
        return Ok(Action::await_change());
    };
    let api: Api<ReplicaSet> = Api::namespaced(context.client.clone(), &namespace);
    let candidates: Vec<Arc<ReplicaSet>> = context
        .replica_sets
        .state()
        .into_iter()
        .filter(|rs| rs.namespace().as_deref() == Some(namespace.as_str()))
        .collect();
    let mut owned = claim_replica_sets(&api, &deployment, &selector, candidates).await?;
    owned.sort_by_key(|rs| rs.metadata.creation_timestamp.as_ref().map(|t| t.0));
    let desired = spec.replicas.unwrap_or(1);
    let recreate_strategy =
        spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate");
    let (max_surge, max_unavailable) = if recreate_strategy {
        (0, 0)
    } else {
        let rolling = spec
            .strategy
            .as_ref()
            .and_then(|s| s.rolling_update.clone())
            .unwrap_or_default();
        let quarter =
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("25%".into());
        resolve_fenceposts(
            Some(rolling.max_surge.as_ref().unwrap_or(&quarter)),
            Some(rolling.max_unavailable.as_ref().unwrap_or(&quarter)),
            desired,
        )
    };
    let template = spec.template.clone();
    let previous_status = deployment.status.clone().unwrap_or_default();
    let mut new_rs: Option<ReplicaSet> = owned
        .iter()
        .find(|rs| {
            rs.spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .is_some_and(|t| templates_equal_ignoring_hash(t, &template))
        })
        .map(|rs| rs.as_ref().clone());
    let new_uid = new_rs.as_ref().and_then(|rs| rs.uid());
    let old: Vec<&ReplicaSet> = owned
        .iter()
        .map(AsRef::as_ref)
        .filter(|rs| rs.uid() != new_uid)
        .collect();
    let paused = spec.paused.unwrap_or(false);
    let deleting = deployment.metadata.deletion_timestamp.is_some();
    let mut rollout_event = None;
    if !deleting && !paused {
        match new_rs.take() {
            Some(rs) => {
                rollout_event = Some(RolloutEvent::Found(rs.name_any()));
                new_rs = Some(ensure_newest_revision(&api, rs, &old).await?);
            }
            None => {
                let old_spec: i32 = old.iter().map(|rs| spec_replicas(rs)).sum();
                let old_active = old_spec > 0
                    || old
                        .iter()
                        .any(|rs| rs.status.as_ref().is_some_and(|s| s.replicas > 0));
                let initial = if recreate_strategy {
                    if old_active {
                        0
                    } else {
                        desired
                    }
                } else {
                    new_replica_set_replicas(desired, max_surge, old_spec, 0)
                };
                let hash = template_hash(&template, previous_status.collision_count);
                let wanted = new_replica_set(
                    &deployment,
                    &template,
                    &hash,
                    initial,
                    next_revision(&old),
                    max_surge,
                );
                match create_replica_set(&api, &wanted).await {
                    Ok(created) => {
                        if initial > 0 {
                            context
                                .recorder
                                .record(
                                    deployment.as_ref(),
                                    EventType::Normal,
                                    "ScalingReplicaSet",
                                    format!(
                                        "Scaled up replica set {} from 0 to {initial}",
                                        created.name_any()
                                    ),
                                )
                                .await;
                        }
                        rollout_event = Some(RolloutEvent::Created(created.name_any()));
                        new_rs = Some(created);
                    }
                    Err(error) if is_status(&error, 409) => {
                        return resolve_name_collision(&context, &deployment, &wanted, &template)
                            .await;
                    }
                    Err(error) => return Err(error.into()),
                }
            }
        }
    }
    if let Some(new) = new_rs.as_ref() {
        sync_deployment_revision(&context, &deployment, revision_of(new)).await?;
        let targets = RolloutTargets {
            api: &api,
            recorder: &context.recorder,
            deployment: &deployment,
            new,
            old: &old,
            desired,
            max_surge,
            max_unavailable,
        };
        if paused {
            if old.iter().all(|rs| spec_replicas(rs) == 0) && spec_replicas(new) != desired {
                rolling_update(&targets).await?;
            }
        } else if recreate_strategy {
            recreate(&targets).await?;
        } else {
            rolling_update(&targets).await?;
        }
        let complete = spec_replicas(new) == desired
            && new
                .status
                .as_ref()
                .and_then(|s| s.available_replicas)
                .unwrap_or(0)
                == desired
            && old.iter().all(|rs| spec_replicas(rs) == 0);
        if complete && !paused {
            let limit = spec
                .revision_history_limit
                .unwrap_or(DEFAULT_REVISION_HISTORY_LIMIT);
            clean_up_old_replica_sets(&api, &old, limit).await?;
        }
    }
    let all: Vec<&ReplicaSet> = owned.iter().map(AsRef::as_ref).collect();
    let counts = replica_counts(&all, new_rs.as_ref());
    let status = deployment_status(StatusInputs {
        previous: &previous_status,
        counts,
        desired,
        max_unavailable,
        generation: deployment.metadata.generation.unwrap_or(0),
        new_replica_set: new_rs.as_ref().map(|rs| rs.name_any()).as_deref(),
        rollout: rollout_event,
        paused,
        progress_deadline_seconds: Some(
            spec.progress_deadline_seconds
                .unwrap_or(DEFAULT_PROGRESS_DEADLINE_SECONDS),
        ),
        now: Timestamp::now(),
    });
    if Some(&status) != deployment.status.as_ref() {
        let mut updated = deployment.as_ref().clone();
        updated.metadata.managed_fields = None;
        updated.status = Some(status.clone());
        let deployments: Api<Deployment> = Api::namespaced(context.client.clone(), &namespace);
        match deployments
            .replace_status(&name, &PostParams::default(), &updated)
            .await
        {
            Ok(_) => {}
            Err(error) if is_status(&error, 409) => {
                return Ok(Action::requeue(Duration::from_millis(200)))
            }
            Err(error) if is_status(&error, 404) => return Ok(Action::await_change()),
            Err(error) => return Err(error.into()),
        }
    }
    let settled =
        counts.updated == desired && counts.available == desired && counts.replicas == desired;
    if settled || paused {
        Ok(Action::requeue(context.resync))
    } else {
        Ok(Action::requeue(Duration::from_secs(5)))
    }
}

pub fn error_policy(
    deployment: Arc<Deployment>,
    error: &ControllerError,
    _context: Arc<DeploymentContext>,
) -> Action {
    tracing::warn!(deployment = %deployment.name_any(), %error, "deployment controller");
    Action::requeue(Duration::from_secs(5))
}

/// A rollback makes an old ReplicaSet new again: it takes the next revision.
async fn ensure_newest_revision(
    api: &Api<ReplicaSet>,
    rs: ReplicaSet,
    old: &[&ReplicaSet],
) -> Result<ReplicaSet, ControllerError> {
    let newest_old = old.iter().map(|o| revision_of(o)).max().unwrap_or(0);
    if revision_of(&rs) > newest_old {
        return Ok(rs);
    }
    let patch = serde_json::json!({"metadata": {"annotations": {REVISION_ANNOTATION: (newest_old + 1).to_string()}}});
    Ok(api
        .patch(
            &rs.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?)
}

async fn sync_deployment_revision(
    context: &DeploymentContext,
    deployment: &Deployment,
    revision: i64,
) -> Result<(), ControllerError> {
    let current = deployment.annotations().get(REVISION_ANNOTATION).cloned();
    if current.as_deref() == Some(revision.to_string().as_str()) {
        return Ok(());
    }
    let api: Api<Deployment> = Api::namespaced(
        context.client.clone(),
        &deployment.namespace().unwrap_or_default(),
    );
    let patch = serde_json::json!({"metadata": {"annotations": {REVISION_ANNOTATION: revision.to_string()}}});
    match api
        .patch(
            &deployment.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if is_status(&error, 404) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// A ReplicaSet already has the new one's name: either it is ours with this template (the cache
/// lagged) or a hash collision, which bumps status.collisionCount for a different name.
async fn resolve_name_collision(
    context: &DeploymentContext,
    deployment: &Deployment,
    wanted: &ReplicaSet,
    template: &k8s_openapi::api::core::v1::PodTemplateSpec,
) -> Result<Action, ControllerError> {
    let namespace = deployment.namespace().unwrap_or_default();
    let api: Api<ReplicaSet> = Api::namespaced(context.client.clone(), &namespace);
    let existing = api.get_opt(&wanted.name_any()).await?;
    let same = existing
        .as_ref()
        .and_then(|rs| {
            rs.spec
                .as_ref()?
                .template
                .as_ref()
                .map(|t| templates_equal_ignoring_hash(t, template))
        })
        .unwrap_or(false);
    if same {
        return Ok(Action::requeue(Duration::from_millis(200)));
    }
    let mut updated = deployment.clone();
    updated.metadata.managed_fields = None;
    let status = updated.status.get_or_insert_with(Default::default);
    status.collision_count = Some(status.collision_count.unwrap_or(0) + 1);
    let deployments: Api<Deployment> = Api::namespaced(context.client.clone(), &namespace);
    match deployments
        .replace_status(&deployment.name_any(), &PostParams::default(), &updated)
        .await
    {
        Ok(_) => Ok(Action::requeue(Duration::ZERO)),
        Err(error) if is_status(&error, 409) => Ok(Action::requeue(Duration::from_millis(200))),
        Err(error) => Err(error.into()),
    }
}
