//! The Deployment controller's writes to ReplicaSets: create the new one, scale, clean up.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::ResourceExt;

use super::revision::{DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, REVISION_ANNOTATION};
use super::template_hash::POD_TEMPLATE_HASH_LABEL;
use crate::error::ControllerError;
use crate::event_recorder::{EventRecorder, EventType};
use crate::owner_reference::controller_reference;

/// The new ReplicaSet for `deployment`'s template with this hash.
pub fn new_replica_set(
    deployment: &Deployment,
    template: &PodTemplateSpec,
    hash: &str,
    replicas: i32,
    revision: i64,
    max_surge: i32,
) -> ReplicaSet {
    let desired = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let mut template = template.clone();
    let template_meta = template.metadata.get_or_insert_with(ObjectMeta::default);
    let mut labels = template_meta.labels.clone().unwrap_or_default();
    labels.insert(POD_TEMPLATE_HASH_LABEL.into(), hash.into());
    template_meta.labels = Some(labels.clone());
    let mut selector = deployment
        .spec
        .as_ref()
        .map(|s| s.selector.clone())
        .unwrap_or_default();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .insert(POD_TEMPLATE_HASH_LABEL.into(), hash.into());
    let mut annotations = deployment.annotations().clone();
    annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    annotations.insert(REVISION_ANNOTATION.into(), revision.to_string());
    annotations.insert(DESIRED_REPLICAS_ANNOTATION.into(), desired.to_string());
    annotations.insert(
        MAX_REPLICAS_ANNOTATION.into(),
        (desired + max_surge).to_string(),
    );
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some(format!("{}-{hash}", deployment.name_any())),
            namespace: deployment.namespace(),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references: Some(vec![controller_reference(deployment)]),
            ..ObjectMeta::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: deployment.spec.as_ref().and_then(|s| s.min_ready_seconds),
            selector,
            template: Some(template),
        }),
        status: None,
    }
}

pub fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

/// Scale `rs` to `replicas` (and keep its annotations in step), recording ScalingReplicaSet.
pub async fn scale_replica_set(
    api: &Api<ReplicaSet>,
    recorder: &EventRecorder,
    deployment: &Deployment,
    rs: &ReplicaSet,
    replicas: i32,
    max_surge: i32,
) -> Result<(), ControllerError> {
    let current = spec_replicas(rs);
    let desired = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let patch = serde_json::json!({
        "metadata": {
            "resourceVersion": rs.resource_version(),
            "annotations": {
                DESIRED_REPLICAS_ANNOTATION: desired.to_string(),
                MAX_REPLICAS_ANNOTATION: (desired + max_surge).to_string(),
            }
        },
        "spec": {"replicas": replicas}
    });
    api.patch(
        &rs.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    if current != replicas {
        let direction = if replicas > current { "up" } else { "down" };
        recorder
            .record(
                deployment,
                EventType::Normal,
                "ScalingReplicaSet",
                format!(
                    "Scaled {direction} replica set {} from {current} to {replicas}",
                    rs.name_any()
                ),
            )
            .await;
    }
    Ok(())
}

/// Delete old, fully scaled-down ReplicaSets beyond revisionHistoryLimit, oldest revision first.
pub async fn clean_up_old_replica_sets(
    api: &Api<ReplicaSet>,
    old: &[&ReplicaSet],
    history_limit: i32,
) -> Result<(), ControllerError> {
    let mut removable: Vec<&ReplicaSet> = old
        .iter()
        .copied()
        .filter(|rs| {
            spec_replicas(rs) == 0
                && rs.status.as_ref().map(|s| s.replicas).unwrap_or(0) == 0
                && rs.metadata.deletion_timestamp.is_none()
        })
        .collect();
    let limit = usize::try_from(history_limit.max(0)).unwrap_or(0);
    if removable.len() <= limit {
        return Ok(());
    }
    removable.sort_by_key(|rs| super::revision::revision_of(rs));
    let excess = removable.len() - limit;
    for rs in removable.into_iter().take(excess) {
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: rs.uid(),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        if let Err(error) = api.delete(&rs.name_any(), &params).await {
            if !crate::error::is_status(&error, 404) {
                return Err(error.into());
            }
        }
    }
    Ok(())
}

pub async fn create_replica_set(
    api: &Api<ReplicaSet>,
    rs: &ReplicaSet,
) -> Result<ReplicaSet, kube::Error> {
    api.create(&PostParams::default(), rs).await
}
