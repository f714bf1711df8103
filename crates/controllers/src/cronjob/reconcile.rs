//! One CronJob sync: reconcile `status.active` with the Jobs it owns, trim history, then start
//! the Job that is due under the concurrency policy and requeue for the next scheduled time.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{DeleteParams, PostParams};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::error::Error;
use super::job_template::{job_for_schedule, job_name};
use super::schedule::{Schedule, TOO_MANY_MISSED};
use super::Context;
use crate::event_recorder::EventType;

fn finished_as(job: &Job) -> Option<&str> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    conditions
        .iter()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        .map(|c| c.type_.as_str())
}

fn reference(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        field_path: None,
    }
}

pub async fn reconcile(cronjob: Arc<CronJob>, ctx: Arc<Context>) -> Result<Action, Error> {
    let now = ctx.options.clock.now();
    let namespace = cronjob.namespace().unwrap_or_default();
    let name = cronjob.name_any();
    let uid = cronjob.uid().unwrap_or_default();
    let spec = cronjob.spec.clone().ok_or(Error::MissingField("spec"))?;
    let job_api: Api<Job> = Api::namespaced(ctx.client.clone(), &namespace);
    let owned = ctx
        .jobs
        .state_filter(|j| crate::owner_reference::is_controlled_by(&j.metadata, &uid));
    let mut status = cronjob.status.clone().unwrap_or_default();

    let mut active: Vec<ObjectReference> = Vec::new();
    for job in &owned {
        match finished_as(job) {
            None if job.metadata.deletion_timestamp.is_none() => active.push(reference(job)),
            None => {}
            Some(condition) => {
                let was_active = status
                    .active
                    .iter()
                    .flatten()
                    .any(|r| r.uid == job.metadata.uid);
                if was_active {
                    let note = format!(
                        "Saw completed job: {}, condition: {condition}",
                        job.name_any()
                    );
                    ctx.recorder
                        .record(cronjob.as_ref(), EventType::Normal, "SawCompletedJob", note)
                        .await;
                }
                if condition == "Complete" {
                    let completed = job.status.as_ref().and_then(|s| s.completion_time.clone());
                    if completed.is_some() && completed > status.last_successful_time {
                        status.last_successful_time = completed;
                    }
                }
            }
        }
    }
    active.sort_by(|a, b| a.name.cmp(&b.name));
    status.active = (!active.is_empty()).then_some(active);

    trim_history(
        &ctx,
        &cronjob,
        &job_api,
        &owned,
        "Complete",
        spec.successful_jobs_history_limit.unwrap_or(3),
    )
    .await?;
    trim_history(
        &ctx,
        &cronjob,
        &job_api,
        &owned,
        "Failed",
        spec.failed_jobs_history_limit.unwrap_or(1),
    )
    .await?;

    let mut requeue = None;
    if cronjob.metadata.deletion_timestamp.is_none() && spec.suspend != Some(true) {
        requeue = start_due_job(&ctx, &cronjob, &job_api, &owned, &mut status, now).await?;
    }
    if cronjob.status.as_ref() != Some(&status) {
        let mut updated = cronjob.as_ref().clone();
        updated.status = Some(status);
        let cronjobs: Api<CronJob> = Api::namespaced(ctx.client.clone(), &namespace);
        cronjobs
            .replace_status(&name, &PostParams::default(), &updated)
            .await?;
    }
    let wait = requeue
        .unwrap_or(ctx.options.resync)
        .min(ctx.options.resync);
    Ok(Action::requeue(wait.max(Duration::from_millis(100))))
}

/// Starts the due Job, if any; returns how long until the next scheduled time.
async fn start_due_job(
    ctx: &Context,
    cronjob: &CronJob,
    job_api: &Api<Job>,
    owned: &[Arc<Job>],
    status: &mut CronJobStatus,
    now: Timestamp,
) -> Result<Option<Duration>, Error> {
    let spec = cronjob.spec.clone().ok_or(Error::MissingField("spec"))?;
    let schedule = match Schedule::parse(&spec.schedule, spec.time_zone.as_deref()) {
        Ok(schedule) => schedule,
        Err(message) => {
            let reason = if message.starts_with("invalid timeZone") {
                "UnknownTimeZone"
            } else {
                "UnparseableSchedule"
            };
            ctx.recorder
                .record(cronjob, EventType::Warning, reason, message)
                .await;
            return Ok(None);
        }
    };
    let until_next = |after: Timestamp| {
        schedule
            .next_after(after)
            .map(|next| Duration::try_from(next.duration_since(now)).unwrap_or(Duration::ZERO))
    };
    let earliest = status
        .last_schedule_time
        .as_ref()
        .or(cronjob.metadata.creation_timestamp.as_ref())
        .map_or(now, |t| t.0);
    let due = schedule.due(earliest, now, spec.starting_deadline_seconds);
    if due.missed > TOO_MANY_MISSED {
        let note = format!(
            "too many missed start times: {}. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
            due.missed
        );
        ctx.recorder
            .record(cronjob, EventType::Warning, "TooManyMissedTimes", note)
            .await;
    }
    let Some(scheduled) = due.most_recent else {
        return Ok(until_next(now));
    };
    let name = job_name(&cronjob.name_any(), scheduled);
    if owned.iter().any(|j| j.name_any() == name) {
        return Ok(until_next(now));
    }
    let active = status.active.clone().unwrap_or_default();
    match spec.concurrency_policy.as_deref() {
        Some("Forbid") if !active.is_empty() => {
            let note = "Not starting job because prior execution is running and concurrency policy is Forbid";
            ctx.recorder
                .record(cronjob, EventType::Normal, "JobAlreadyActive", note.into())
                .await;
            return Ok(until_next(now));
        }
        Some("Replace") => {
            for job in active.iter().filter_map(|r| r.name.clone()) {
                match job_api.delete(&job, &DeleteParams::background()).await {
                    Ok(_) => {
                        ctx.recorder
                            .record(
                                cronjob,
                                EventType::Normal,
                                "SuccessfulDelete",
                                format!("Deleted job {job}"),
                            )
                            .await
                    }
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(error) => return Err(error.into()),
                }
            }
            status.active = None;
        }
        _ => {}
    }
    let job = job_for_schedule(cronjob, scheduled)?;
    match job_api.create(&PostParams::default(), &job).await {
        Ok(created) => {
            ctx.recorder
                .record(
                    cronjob,
                    EventType::Normal,
                    "SuccessfulCreate",
                    format!("Created job {name}"),
                )
                .await;
            status
                .active
                .get_or_insert_with(Vec::new)
                .push(reference(&created));
        }
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(error) => {
            ctx.recorder
                .record(
                    cronjob,
                    EventType::Warning,
                    "FailedCreate",
                    format!("Error creating job: {error}"),
                )
                .await;
            return Err(error.into());
        }
    }
    status.last_schedule_time = Some(Time(scheduled));
    Ok(until_next(now))
}

/// Keeps the newest `limit` finished Jobs with this outcome, deleting older ones.
async fn trim_history(
    ctx: &Context,
    cronjob: &CronJob,
    job_api: &Api<Job>,
    owned: &[Arc<Job>],
    outcome: &str,
    limit: i32,
) -> Result<(), Error> {
    let mut finished: Vec<&Arc<Job>> = owned
        .iter()
        .filter(|j| finished_as(j) == Some(outcome) && j.metadata.deletion_timestamp.is_none())
        .collect();
    let keep = limit.max(0) as usize;
    if finished.len() <= keep {
        return Ok(());
    }
    finished.sort_by_key(|j| {
        (
            j.status.as_ref().and_then(|s| s.start_time.clone()),
            j.name_any(),
        )
    });
    for job in &finished[..finished.len() - keep] {
        let name = job.name_any();
        match job_api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => {
                ctx.recorder
                    .record(
                        cronjob,
                        EventType::Normal,
                        "SuccessfulDelete",
                        format!("Deleted job {name}"),
                    )
                    .await
            }
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}
