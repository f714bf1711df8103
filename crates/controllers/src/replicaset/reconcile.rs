//! One sync of a replica owner: claim pods, create or delete toward the desired count, report.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::ResourceExt;

use super::claim::{claim_pod, Claim};
use super::expectations::Expectations;
use super::manage_replicas::manage_replicas;
use super::replica_owner::ReplicaOwner;
use super::replica_status::{replica_status, StatusInputs};
use crate::error::{is_status, ControllerError};
use crate::event_recorder::EventRecorder;
use crate::owner_index::OwnerIndex;
use crate::owner_reference::controller_reference;
use crate::pod_conditions::is_pod_active;

pub struct ReplicaContext {
    pub client: kube::Client,
    pub pods: Store<Pod>,
    pub pod_owners: Arc<OwnerIndex>,
    pub expectations: Expectations,
    pub recorder: EventRecorder,
    pub resync: Duration,
}

pub async fn reconcile<K: ReplicaOwner>(
    owner: Arc<K>,
    context: Arc<ReplicaContext>,
) -> Result<Action, ControllerError> {
    let namespace = owner.namespace().unwrap_or_default();
    let name = owner.name_any();
    let key = format!("{namespace}/{name}");
    let owner_uid = owner.uid().unwrap_or_default();
    let selector =
        api::selector::LabelSelector::from_label_selector_json(owner.selector_json().as_ref())
            .map_err(|error| ControllerError::Invalid(format!("{key}: selector: {error}")))?;
    let deleting = owner.meta().deletion_timestamp.is_some();
    // The only pods a sync can own, release or adopt: its own and the namespace's orphans.
    let candidates: Vec<Arc<Pod>> = context
        .pod_owners
        .owned_by_or_orphaned_in(&owner_uid, &namespace)
        .into_iter()
        .filter_map(|key| {
            context
                .pods
                .get(&ObjectRef::new(&key.name).within(&key.namespace))
        })
        .collect();
    let pods_api: Api<Pod> = Api::namespaced(context.client.clone(), &namespace);
    let mut owned: Vec<&Pod> = Vec::new();
    for pod in &candidates {
        let matches = !selector.is_empty() && selector.matches(pod.labels());
        match claim_pod(pod, &owner_uid, matches, deleting) {
            Claim::Owned => owned.push(pod),
            Claim::Adopt => {
                if adopt(&pods_api, pod, owner.as_ref()).await? {
                    owned.push(pod);
                }
            }
            Claim::Release => release(&pods_api, pod, &owner_uid).await?,
            Claim::Ignore => {}
        }
    }
    let active: Vec<&Pod> = owned.into_iter().filter(|pod| is_pod_active(pod)).collect();
    let candidate_refs: Vec<&Pod> = candidates.iter().map(AsRef::as_ref).collect();
    let satisfied = context.expectations.are_satisfied(&key, &candidate_refs);
    let failure = if satisfied && !deleting {
        manage_replicas(owner.as_ref(), &active, &key, &pods_api, &context).await
    } else {
        None
    };
    let template_labels = owner
        .pod_template()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let previous = owner.replica_status();
    let status = replica_status(StatusInputs {
        previous: &previous,
        active_pods: &active,
        template_labels: &template_labels,
        min_ready_seconds: owner.min_ready_seconds(),
        generation: owner.meta().generation.unwrap_or(0),
        failure: failure.as_ref(),
        now: Timestamp::now(),
    });
    if status != previous {
        let owners: Api<K> = Api::namespaced(context.client.clone(), &namespace);
        match owners
            .replace_status(
                &name,
                &PostParams::default(),
                &owner.with_replica_status(&status),
            )
            .await
        {
            Ok(_) => {}
            Err(error) if is_status(&error, 409) => return Ok(Action::requeue(Duration::ZERO)),
            Err(error) if is_status(&error, 404) => return Ok(Action::await_change()),
            Err(error) => return Err(error.into()),
        }
    }
    if failure.is_some() {
        return Ok(Action::requeue(Duration::from_secs(5)));
    }
    if !satisfied {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    if owner.min_ready_seconds() > 0 && status.ready_replicas != status.available_replicas {
        let wait = u64::try_from(owner.min_ready_seconds()).unwrap_or(1);
        return Ok(Action::requeue(Duration::from_secs(wait)));
    }
    Ok(Action::requeue(context.resync))
}

pub fn error_policy<K: ReplicaOwner>(
    owner: Arc<K>,
    error: &ControllerError,
    _context: Arc<ReplicaContext>,
) -> Action {
    tracing::warn!(owner = %owner.name_any(), %error, "{}", K::COMPONENT);
    Action::requeue(Duration::from_secs(5))
}

/// Add our controller reference to an orphan; false when it changed under us.
async fn adopt<K: ReplicaOwner>(
    pods: &Api<Pod>,
    pod: &Pod,
    owner: &K,
) -> Result<bool, ControllerError> {
    let patch = serde_json::json!({
        "metadata": {
            "ownerReferences": [controller_reference(owner)],
            "uid": pod.uid(),
        }
    });
    match pods
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Strategic(&patch),
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

/// Remove our controller reference from a pod that no longer matches.
async fn release(pods: &Api<Pod>, pod: &Pod, owner_uid: &str) -> Result<(), ControllerError> {
    let patch = serde_json::json!({
        "metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": owner_uid}],
            "uid": pod.uid(),
        }
    });
    match pods
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Strategic(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(error)
            if is_status(&error, 404) || is_status(&error, 409) || is_status(&error, 422) =>
        {
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}
