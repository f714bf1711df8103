//! One StatefulSet sync: revisions, then the planned pod step (claims first), then status.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{DeleteParams, PostParams};
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};

use super::claims::{ensure_claims, hand_claims_to_condemned_pod};
use super::error::Error;
use super::history::{choose_revisions, trim_history};
use super::identity::{pod_for_ordinal, pod_name};
use super::plan::{plan_set, PodAction, Revision, Revisions};
use super::revision::template_of;
use super::Context;
use crate::event_recorder::EventType;

const RESYNC: Duration = Duration::from_secs(300);

fn controlled_by<K: Resource>(object: &K, uid: &str) -> bool {
    object
        .meta()
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true) && o.uid == uid)
}

pub async fn reconcile(set: Arc<StatefulSet>, ctx: Arc<Context>) -> Result<Action, Error> {
    if set.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let namespace = set.namespace().unwrap_or_default();
    let set_name = set.name_any();
    let uid = set.uid().unwrap_or_default();
    let pods = ctx.pods.state_filter(|p| controlled_by(p, &uid));
    let owned_revisions = ctx.revisions.state_filter(|r| controlled_by(r, &uid));
    let revision_api: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), &namespace);
    let pod_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &namespace);
    let claim_api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &namespace);

    let chosen = choose_revisions(&revision_api, &set, &owned_revisions).await?;
    let (current_name, update_name) = (chosen.current.name_any(), chosen.update.name_any());
    let revisions = Revisions {
        current: &current_name,
        update: &update_name,
    };
    let pod_refs: Vec<&Pod> = pods.iter().map(Arc::as_ref).collect();
    let plan = plan_set(&set, &pod_refs, &revisions, Timestamp::now());

    for action in &plan.actions {
        match action {
            PodAction::Create { ordinal, revision } => {
                let pod_name = pod_name(&set_name, *ordinal);
                for claim in ensure_claims(&claim_api, &set, *ordinal).await? {
                    let note = format!(
                        "create Claim {claim} Pod {pod_name} in StatefulSet {set_name} success"
                    );
                    ctx.recorder
                        .record(set.as_ref(), EventType::Normal, "SuccessfulCreate", note)
                        .await;
                }
                let (template, revision_name) = match revision {
                    Revision::Current => (template_of(&chosen.current), &current_name),
                    Revision::Update => {
                        (set.spec.as_ref().map(|s| s.template.clone()), &update_name)
                    }
                };
                let template = template.unwrap_or_default();
                let pod = pod_for_ordinal(&set, &template, revision_name, *ordinal)?;
                match pod_api.create(&PostParams::default(), &pod).await {
                    Ok(_) => {
                        let note =
                            format!("create Pod {pod_name} in StatefulSet {set_name} successful");
                        ctx.recorder
                            .record(set.as_ref(), EventType::Normal, "SuccessfulCreate", note)
                            .await;
                    }
                    Err(kube::Error::Api(status)) if status.code == 409 => {}
                    Err(error) => {
                        let note = format!(
                            "create Pod {pod_name} in StatefulSet {set_name} failed error: {error}"
                        );
                        ctx.recorder
                            .record(set.as_ref(), EventType::Warning, "FailedCreate", note)
                            .await;
                        return Err(error.into());
                    }
                }
            }
            PodAction::Delete { name, ordinal } => {
                if plan.condemned.contains(ordinal) {
                    if let Some(pod) = pods.iter().find(|p| p.name_any() == *name) {
                        hand_claims_to_condemned_pod(&claim_api, &set, pod, *ordinal).await?;
                    }
                }
                match pod_api.delete(name, &DeleteParams::default()).await {
                    Ok(_) => {
                        let note =
                            format!("delete Pod {name} in StatefulSet {set_name} successful");
                        ctx.recorder
                            .record(set.as_ref(), EventType::Normal, "SuccessfulDelete", note)
                            .await;
                    }
                    Err(kube::Error::Api(status)) if status.code == 404 => {}
                    Err(error) => return Err(error.into()),
                }
            }
        }
    }

    if set.status.as_ref() != Some(&plan.status) {
        let mut updated = set.as_ref().clone();
        updated.status = Some(plan.status.clone());
        let sets: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), &namespace);
        sets.replace_status(&set_name, &PostParams::default(), &updated)
            .await?;
    }
    trim_history(&revision_api, &set, &owned_revisions, &chosen, &pods).await?;

    let min_ready = set
        .spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0);
    let waiting_for_availability = plan.status.available_replicas < plan.status.ready_replicas;
    if min_ready > 0 && waiting_for_availability {
        return Ok(Action::requeue(Duration::from_secs(
            min_ready.unsigned_abs().into(),
        )));
    }
    Ok(Action::requeue(RESYNC))
}
