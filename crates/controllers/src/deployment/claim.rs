//! Which ReplicaSets a Deployment owns: its controller references plus adopted orphans.

use std::sync::Arc;

use api::selector::LabelSelector;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::{Api, Patch, PatchParams};
use kube::ResourceExt;

use crate::error::{is_status, ControllerError};
use crate::owner_reference::{controller_of, controller_reference};

pub fn selector_of(deployment: &Deployment) -> Option<LabelSelector> {
    let selector = serde_json::to_value(&deployment.spec.as_ref()?.selector).ok()?;
    LabelSelector::from_label_selector_json(Some(&selector)).ok()
}

/// The Deployment's ReplicaSets among `candidates` (its namespace), adopting matching orphans
/// and releasing owned ones that stopped matching.
pub async fn claim_replica_sets(
    api: &Api<ReplicaSet>,
    deployment: &Deployment,
    selector: &LabelSelector,
    candidates: Vec<Arc<ReplicaSet>>,
) -> Result<Vec<Arc<ReplicaSet>>, ControllerError> {
    let uid = deployment.uid().unwrap_or_default();
    let deleting = deployment.metadata.deletion_timestamp.is_some();
    let mut owned = Vec::new();
    for rs in candidates {
        let matches = !selector.is_empty() && selector.matches(rs.labels());
        match controller_of(&rs.metadata) {
            Some(owner) if owner.uid != uid => {}
            Some(_) if matches || deleting => owned.push(rs),
            Some(_) => {
                let patch = serde_json::json!({"metadata": {
                    "ownerReferences": [{"$patch": "delete", "uid": uid}], "uid": rs.uid()
                }});
                patch_ignoring_races(api, &rs, &patch).await?;
            }
            None if matches && !deleting && rs.metadata.deletion_timestamp.is_none() => {
                let patch = serde_json::json!({"metadata": {
                    "ownerReferences": [controller_reference(deployment)], "uid": rs.uid()
                }});
                if patch_ignoring_races(api, &rs, &patch).await? {
                    owned.push(rs);
                }
            }
            None => {}
        }
    }
    Ok(owned)
}

async fn patch_ignoring_races(
    api: &Api<ReplicaSet>,
    rs: &ReplicaSet,
    patch: &serde_json::Value,
) -> Result<bool, ControllerError> {
    match api
        .patch(
            &rs.name_any(),
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
    {
        Ok(_) => Ok(true),
        Err(error)
            if is_status(&error, 404) || is_status(&error, 409) || is_status(&error, 422) =>
        {
            Ok(false)
        }
        Err(error) => Err(error.into()),
    }
}
