//! PersistentVolumeClaims from `volumeClaimTemplates`, and `persistentVolumeClaimRetentionPolicy`
//! expressed as ownerReferences: `whenDeleted: Delete` makes the set an owner of every claim,
//! `whenScaled: Delete` makes a condemned pod the owner of its claims, so the garbage collector
//! removes them.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use super::error::Error;
use super::identity::{claims_for_ordinal, owner_reference};

fn policy(set: &StatefulSet) -> (bool, bool) {
    let policy = set
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_claim_retention_policy.as_ref());
    let delete_when_deleted = policy.and_then(|p| p.when_deleted.as_deref()) == Some("Delete");
    let delete_when_scaled = policy.and_then(|p| p.when_scaled.as_deref()) == Some("Delete");
    (delete_when_deleted, delete_when_scaled)
}

/// Creates the claims of `ordinal` that do not exist yet; returns the names created.
pub async fn ensure_claims(
    api: &Api<PersistentVolumeClaim>,
    set: &StatefulSet,
    ordinal: i32,
) -> Result<Vec<String>, Error> {
    let (delete_when_deleted, _) = policy(set);
    let mut created = Vec::new();
    for mut claim in claims_for_ordinal(set, ordinal) {
        if delete_when_deleted {
            claim.metadata.owner_references = Some(vec![owner_reference(set, false)?]);
        }
        match api.create(&PostParams::default(), &claim).await {
            Ok(claim) => created.push(claim.name_any()),
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(created)
}

/// Before a scaled-away pod goes: with `whenScaled: Delete`, its claims become owned by it.
pub async fn hand_claims_to_condemned_pod(
    api: &Api<PersistentVolumeClaim>,
    set: &StatefulSet,
    pod: &Pod,
    ordinal: i32,
) -> Result<(), Error> {
    let (_, delete_when_scaled) = policy(set);
    if !delete_when_scaled {
        return Ok(());
    }
    let owner = OwnerReference {
        api_version: "v1".into(),
        kind: "Pod".into(),
        name: pod.name_any(),
        uid: pod.uid().unwrap_or_default(),
        controller: Some(false),
        block_owner_deletion: Some(true),
    };
    for wanted in claims_for_ordinal(set, ordinal) {
        let name = wanted.name_any();
        let Some(claim) = api.get_opt(&name).await? else {
            continue;
        };
        let mut owners = claim.metadata.owner_references.clone().unwrap_or_default();
        if owners.iter().any(|o| o.uid == owner.uid) {
            continue;
        }
        owners.push(owner.clone());
        let patch = json!({"metadata": {"ownerReferences": owners, "resourceVersion": claim.metadata.resource_version}});
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    Ok(())
}
