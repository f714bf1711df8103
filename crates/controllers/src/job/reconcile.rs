//! One Job sync: read the Job's pods from the cache, plan, then write in a safe order: status
//! (recording finished pods as uncounted) before finalizers go, then deletions and creations.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use serde_json::json;

use super::error::Error;
use super::plan::{plan_job, JobPlan};
use super::pod_state::{is_active, TRACKING_FINALIZER};
use super::pod_template::pod_for_job;
use super::Context;
use crate::event_recorder::EventType;

/// A level-driven re-check even when nothing changes.
const RESYNC: Duration = Duration::from_secs(300);

pub async fn reconcile(job: Arc<Job>, ctx: Arc<Context>) -> Result<Action, Error> {
    let job_uid = job.uid().unwrap_or_default();
    let pods = ctx
        .pods
        .state_filter(|pod| controller_uid(pod) == Some(job_uid.as_str()));
    let live: HashSet<&str> = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| p.metadata.uid.as_deref())
        .collect();
    if !ctx
        .expectations
        .satisfied(&job_uid, job.metadata.resource_version.as_deref(), &live)
    {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let pod_refs: Vec<&Pod> = pods.iter().map(Arc::as_ref).collect();
    let plan = plan_job(&job, &pod_refs, Timestamp::now());
    apply_plan(&job, &pods, plan, &ctx).await
}

async fn apply_plan(
    job: &Job,
    pods: &[Arc<Pod>],
    plan: JobPlan,
    ctx: &Context,
) -> Result<Action, Error> {
    let namespace = job.namespace().unwrap_or_default();
    let job_uid = job.uid().unwrap_or_default();
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &namespace);
    let pod_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &namespace);

    if job.status.as_ref() != Some(&plan.status) {
        let mut updated = job.clone();
        updated.status = Some(plan.status.clone());
        let written = jobs
            .replace_status(&job.name_any(), &PostParams::default(), &updated)
            .await?;
        ctx.expectations
            .expect_status(&job_uid, written.metadata.resource_version.as_deref());
    }
    for pod in pods
        .iter()
        .filter(|p| plan.remove_finalizers.contains(&p.name_any()))
    {
        remove_tracking_finalizer(&pod_api, pod).await?;
    }
    let deleted: Vec<String> = pods
        .iter()
        .filter(|p| plan.delete.contains(&p.name_any()) && is_active(p))
        .filter_map(|p| p.uid())
        .collect();
    ctx.expectations.expect_pods(&job_uid, Vec::new(), deleted);
    for name in &plan.delete {
        match pod_api.delete(name, &DeleteParams::default()).await {
            Ok(_) => {
                ctx.recorder
                    .record(
                        job,
                        EventType::Normal,
                        "SuccessfulDelete",
                        format!("Deleted pod: {name}"),
                    )
                    .await
            }
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => return Err(error.into()),
        }
    }
    for index in &plan.create {
        let pod = pod_for_job(job, *index)?;
        match pod_api.create(&PostParams::default(), &pod).await {
            Ok(created) => {
                ctx.expectations.expect_pods(
                    &job_uid,
                    created.uid().into_iter().collect(),
                    Vec::new(),
                );
                let note = format!("Created pod: {}", created.name_any());
                ctx.recorder
                    .record(job, EventType::Normal, "SuccessfulCreate", note)
                    .await;
            }
            Err(error) => {
                ctx.recorder
                    .record(
                        job,
                        EventType::Warning,
                        "FailedCreate",
                        format!("Error creating: {error}"),
                    )
                    .await;
                return Err(error.into());
            }
        }
    }
    for event in &plan.events {
        let kind = if event.warning {
            EventType::Warning
        } else {
            EventType::Normal
        };
        ctx.recorder
            .record(job, kind, &event.reason, event.note.clone())
            .await;
    }
    Ok(Action::requeue(plan.requeue_after.unwrap_or(RESYNC)))
}

pub fn controller_uid(pod: &Pod) -> Option<&str> {
    pod.metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true) && o.kind == "Job")
        .map(|o| o.uid.as_str())
}

/// Drops our finalizer, guarded by the pod's resourceVersion so no other finalizer is lost.
pub async fn remove_tracking_finalizer(pods: &Api<Pod>, pod: &Pod) -> Result<(), Error> {
    let remaining: Vec<&String> = pod
        .metadata
        .finalizers
        .iter()
        .flatten()
        .filter(|f| f.as_str() != TRACKING_FINALIZER)
        .collect();
    let patch = json!({"metadata": {"finalizers": remaining, "resourceVersion": pod.metadata.resource_version}});
    match pods
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(error.into()),
    }
}
