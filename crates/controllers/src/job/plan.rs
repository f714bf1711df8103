//! The Job controller's decisions, computed from the Job, its pods and the time: which finished
//! pods to count, which pods to create and delete, and the status to write. No I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{Job, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::backoff::remaining_delay;
use super::conditions::{self, COMPLETE, FAILED, FAILURE_TARGET, SUCCESS_CRITERIA_MET, SUSPENDED};
use super::failure_policy::{match_failed_pod, FailureAction};
use super::indexes::{format_index_ranges, parse_index_ranges};
use super::pod_state::{
    completion_index, finish_time, has_tracking_finalizer, is_active, is_failed, is_ready,
    is_succeeded, is_terminating, name, uid,
};
use super::success_policy::matched_success_rule;

const DEFAULT_BACKOFF_LIMIT: i32 = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedEvent {
    pub warning: bool,
    pub reason: String,
    pub note: String,
}

#[derive(Debug, Default)]
pub struct JobPlan {
    /// Written before any finalizer is removed, so that no finished pod goes uncounted.
    pub status: JobStatus,
    pub remove_finalizers: Vec<String>,
    /// One entry per pod to create: its completion index in Indexed mode.
    pub create: Vec<Option<i32>>,
    pub delete: Vec<String>,
    pub events: Vec<PlannedEvent>,
    pub requeue_after: Option<Duration>,
}

impl JobPlan {
    fn event(&mut self, warning: bool, reason: &str, note: &str) {
        self.events.push(PlannedEvent {
            warning,
            reason: reason.to_string(),
            note: note.to_string(),
        });
    }

    fn requeue_within(&mut self, after: Duration) {
        self.requeue_after = Some(
            self.requeue_after
                .map_or(after, |current| current.min(after)),
        );
    }
}

pub fn plan_job(job: &Job, pods: &[&Pod], now: Timestamp) -> JobPlan {
    let spec = job.spec.clone().unwrap_or_default();
    let mut plan = JobPlan {
        status: job.status.clone().unwrap_or_default(),
        ..JobPlan::default()
    };
    let indexed = spec.completion_mode.as_deref() == Some("Indexed");
    let finished =
        conditions::is_true(&plan.status, COMPLETE) || conditions::is_true(&plan.status, FAILED);
    let targeted = conditions::is_true(&plan.status, FAILURE_TARGET)
        || conditions::is_true(&plan.status, SUCCESS_CRITERIA_MET);

    let mut completed =
        parse_index_ranges(plan.status.completed_indexes.as_deref().unwrap_or_default());
    let mut failed_indexes =
        parse_index_ranges(plan.status.failed_indexes.as_deref().unwrap_or_default());
    let fail_job_message = count_finished_pods(
        &mut plan,
        job,
        pods,
        indexed,
        finished || targeted,
        &mut completed,
        &mut failed_indexes,
    );
    if indexed {
        plan.status.completed_indexes = Some(format_index_ranges(&completed));
        if !failed_indexes.is_empty() {
            plan.status.failed_indexes = Some(format_index_ranges(&failed_indexes));
        }
    }

    let active: Vec<&Pod> = pods.iter().copied().filter(|p| is_active(p)).collect();
    plan.status.terminating = Some(pods.iter().filter(|p| is_terminating(p)).count() as i32);
    plan.status.ready = Some(active.iter().filter(|p| is_ready(p)).count() as i32);
    plan.status.active = Some(active.len() as i32);
    if finished {
        plan.status.active = Some(0);
        plan.delete = active.iter().map(|p| name(p).to_string()).collect();
        return plan;
    }
    if targeted {
        finish_when_pods_are_gone(&mut plan, &active, now);
        return plan;
    }

    let succeeded_total = plan.status.succeeded.unwrap_or(0)
        + plan
            .status
            .uncounted_terminated_pods
            .as_ref()
            .map_or(0, |u| u.succeeded.as_ref().map_or(0, Vec::len) as i32);
    let failed_total = plan.status.failed.unwrap_or(0)
        + plan
            .status
            .uncounted_terminated_pods
            .as_ref()
            .map_or(0, |u| u.failed.as_ref().map_or(0, Vec::len) as i32);

    if let Some((reason, message)) = failure_reason(job, fail_job_message, failed_total, now) {
        conditions::set(
            &mut plan.status,
            FAILURE_TARGET,
            "True",
            &reason,
            &message,
            now,
        );
        plan.event(true, &reason, &message);
        finish_when_pods_are_gone(&mut plan, &active, now);
        return plan;
    }
    if let Some((reason, message)) =
        success_reason(job, indexed, succeeded_total, &completed, active.is_empty())
    {
        conditions::set(
            &mut plan.status,
            SUCCESS_CRITERIA_MET,
            "True",
            &reason,
            &message,
            now,
        );
        finish_when_pods_are_gone(&mut plan, &active, now);
        return plan;
    }

    if spec.suspend == Some(true) {
        if !conditions::is_true(&plan.status, SUSPENDED) {
            conditions::set(
                &mut plan.status,
                SUSPENDED,
                "True",
                "JobSuspended",
                "Job suspended",
                now,
            );
            plan.event(false, "Suspended", "Job suspended");
        }
        plan.delete = active.iter().map(|p| name(p).to_string()).collect();
        plan.status.active = Some(0);
        return plan;
    }
    if conditions::is_true(&plan.status, SUSPENDED) {
        conditions::set(
            &mut plan.status,
            SUSPENDED,
            "False",
            "JobResumed",
            "Job resumed",
            now,
        );
        plan.event(false, "Resumed", "Job resumed");
        plan.status.start_time = Some(Time(now));
    }
    let start = plan.status.start_time.get_or_insert(Time(now)).0;
    if let Some(deadline) = spec.active_deadline_seconds {
        let ends = start + jiff::SignedDuration::from_secs(deadline);
        plan.requeue_within(Duration::try_from(ends.duration_since(now)).unwrap_or(Duration::ZERO));
    }

    let parallelism = spec.parallelism.unwrap_or(1).max(0) as usize;
    if indexed {
        manage_indexed_pods(
            &mut plan,
            &active,
            spec.completions.unwrap_or(0),
            parallelism,
            &completed,
            &failed_indexes,
        );
    } else {
        let wanted = match spec.completions {
            Some(completions) => parallelism.min((completions - succeeded_total).max(0) as usize),
            None if succeeded_total > 0 => 0,
            None => parallelism,
        };
        manage_interchangeable_pods(&mut plan, &active, wanted);
    }
    if !plan.create.is_empty() {
        let delay = creation_delay(pods, now);
        if !delay.is_zero() {
            plan.create.clear();
            plan.requeue_within(delay);
        }
    }
    let kept = active.len() - plan.delete.len();
    plan.status.active = Some((kept + plan.create.len()) as i32);
    plan
}

/// Moves counted pods out of `uncountedTerminatedPods`, adds newly finished ones, and returns the
/// message of a FailJob rule that matched.
fn count_finished_pods(
    plan: &mut JobPlan,
    job: &Job,
    pods: &[&Pod],
    indexed: bool,
    stop_counting_terminating: bool,
    completed: &mut BTreeSet<i32>,
    failed_indexes: &mut BTreeSet<i32>,
) -> Option<String> {
    let spec = job.spec.as_ref();
    let policy = spec.and_then(|s| s.pod_failure_policy.as_ref());
    let completions = spec.and_then(|s| s.completions).unwrap_or(0);
    let by_uid: HashMap<&str, &Pod> = pods.iter().map(|p| (uid(p), *p)).collect();
    let uncounted = plan
        .status
        .uncounted_terminated_pods
        .take()
        .unwrap_or_default();
    let still_tracked = |id: &String| {
        by_uid
            .get(id.as_str())
            .is_some_and(|p| has_tracking_finalizer(p))
    };

    let (mut succeeded_uids, done): (Vec<String>, Vec<String>) = uncounted
        .succeeded
        .unwrap_or_default()
        .into_iter()
        .partition(still_tracked);
    plan.status.succeeded = Some(plan.status.succeeded.unwrap_or(0) + done.len() as i32);
    let (mut failed_uids, done): (Vec<String>, Vec<String>) = uncounted
        .failed
        .unwrap_or_default()
        .into_iter()
        .partition(still_tracked);
    plan.status.failed = Some(plan.status.failed.unwrap_or(0) + done.len() as i32);

    let mut fail_job_message = None;
    for pod in pods.iter().filter(|p| has_tracking_finalizer(p)) {
        let id = uid(pod).to_string();
        if succeeded_uids.contains(&id) || failed_uids.contains(&id) {
            plan.remove_finalizers.push(name(pod).to_string());
            continue;
        }
        if is_succeeded(pod) {
            if let Some(index) =
                completion_index(pod).filter(|i| indexed && (0..completions).contains(i))
            {
                completed.insert(index);
            }
            succeeded_uids.push(id);
        } else if is_failed(pod, policy.is_some()) {
            if stop_counting_terminating && is_terminating(pod) {
                plan.remove_finalizers.push(name(pod).to_string());
                continue;
            }
            match policy.and_then(|p| match_failed_pod(p, pod)) {
                Some(rule) if rule.action == FailureAction::Ignore => {
                    plan.remove_finalizers.push(name(pod).to_string());
                    continue;
                }
                Some(rule) if rule.action == FailureAction::FailJob => {
                    fail_job_message.get_or_insert(rule.message);
                }
                Some(rule) if rule.action == FailureAction::FailIndex => {
                    failed_indexes.extend(completion_index(pod));
                }
                _ => {}
            }
            failed_uids.push(id);
        } else {
            continue;
        }
        plan.remove_finalizers.push(name(pod).to_string());
    }
    plan.status.uncounted_terminated_pods = Some(UncountedTerminatedPods {
        succeeded: Some(succeeded_uids),
        failed: Some(failed_uids),
    });
    fail_job_message
}

fn failure_reason(
    job: &Job,
    fail_job_message: Option<String>,
    failed_total: i32,
    now: Timestamp,
) -> Option<(String, String)> {
    let spec = job.spec.as_ref()?;
    if let Some(message) = fail_job_message {
        return Some(("PodFailurePolicy".into(), message));
    }
    if failed_total > spec.backoff_limit.unwrap_or(DEFAULT_BACKOFF_LIMIT) {
        return Some((
            "BackoffLimitExceeded".into(),
            "Job has reached the specified backoff limit".into(),
        ));
    }
    let started = job.status.as_ref()?.start_time.as_ref()?;
    let deadline = spec.active_deadline_seconds?;
    if spec.suspend != Some(true) && now >= started.0 + jiff::SignedDuration::from_secs(deadline) {
        return Some((
            "DeadlineExceeded".into(),
            "Job was active longer than specified deadline".into(),
        ));
    }
    None
}

fn success_reason(
    job: &Job,
    indexed: bool,
    succeeded_total: i32,
    completed: &BTreeSet<i32>,
    no_active_pods: bool,
) -> Option<(String, String)> {
    let spec = job.spec.as_ref()?;
    let reached = (
        "CompletionsReached".to_string(),
        "Reached expected number of succeeded pods".to_string(),
    );
    if indexed {
        if let Some(rule) = spec
            .success_policy
            .as_ref()
            .and_then(|p| matched_success_rule(p, completed))
        {
            return Some((
                "SuccessPolicy".into(),
                format!("Matched rules at index {rule}"),
            ));
        }
        return (completed.len() as i32 >= spec.completions.unwrap_or(0)).then_some(reached);
    }
    match spec.completions {
        Some(completions) => (succeeded_total >= completions).then_some(reached),
        None => (succeeded_total > 0 && no_active_pods).then_some(reached),
    }
}

/// With a FailureTarget or SuccessCriteriaMet condition set: remove what still runs, and once
/// nothing does, add the terminal condition with the same reason.
fn finish_when_pods_are_gone(plan: &mut JobPlan, active: &[&Pod], now: Timestamp) {
    plan.delete = active.iter().map(|p| name(p).to_string()).collect();
    plan.status.active = Some(0);
    let still_running = !active.is_empty() || plan.status.terminating.unwrap_or(0) > 0;
    if still_running {
        return;
    }
    let (target, terminal) = if conditions::is_true(&plan.status, FAILURE_TARGET) {
        (FAILURE_TARGET, FAILED)
    } else {
        (SUCCESS_CRITERIA_MET, COMPLETE)
    };
    let Some(cause) = conditions::find(&plan.status, target).cloned() else {
        return;
    };
    let reason = cause.reason.unwrap_or_default();
    let message = cause.message.unwrap_or_default();
    conditions::set(&mut plan.status, terminal, "True", &reason, &message, now);
    if terminal == COMPLETE {
        plan.status.completion_time = Some(Time(now));
        plan.event(false, "Completed", "Job completed");
    }
}

fn manage_interchangeable_pods(plan: &mut JobPlan, active: &[&Pod], wanted: usize) {
    if active.len() > wanted {
        let mut victims: Vec<&Pod> = active.to_vec();
        victims.sort_by_key(|p| {
            (
                is_ready(p),
                std::cmp::Reverse(p.metadata.creation_timestamp.clone()),
            )
        });
        plan.delete = victims
            .iter()
            .take(active.len() - wanted)
            .map(|p| name(p).to_string())
            .collect();
    } else {
        plan.create = vec![None; wanted - active.len()];
    }
}

fn manage_indexed_pods(
    plan: &mut JobPlan,
    active: &[&Pod],
    completions: i32,
    parallelism: usize,
    completed: &BTreeSet<i32>,
    failed_indexes: &BTreeSet<i32>,
) {
    let mut running: BTreeMap<i32, &Pod> = BTreeMap::new();
    for pod in active {
        match completion_index(pod) {
            Some(index)
                if (0..completions).contains(&index)
                    && !completed.contains(&index)
                    && !failed_indexes.contains(&index)
                    && !running.contains_key(&index) =>
            {
                running.insert(index, pod);
            }
            _ => plan.delete.push(name(pod).to_string()),
        }
    }
    let free = parallelism.saturating_sub(running.len());
    plan.create = (0..completions)
        .filter(|i| {
            !completed.contains(i) && !failed_indexes.contains(i) && !running.contains_key(i)
        })
        .take(free)
        .map(Some)
        .collect();
}

/// The back-off owed for failures since the last success among the Job's pods.
fn creation_delay(pods: &[&Pod], now: Timestamp) -> Duration {
    let last_success = pods
        .iter()
        .filter(|p| is_succeeded(p))
        .filter_map(|p| finish_time(p))
        .max();
    let failures: Vec<Timestamp> = pods
        .iter()
        .filter(|p| is_failed(p, false))
        .filter_map(|p| finish_time(p))
        .filter(|at| last_success.is_none_or(|s| *at > s))
        .collect();
    remaining_delay(failures.len() as u32, failures.iter().max().copied(), now)
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
