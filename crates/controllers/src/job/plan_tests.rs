use serde_json::{json, Value};

use super::*;

fn now() -> Timestamp {
    "2025-01-01T00:10:00Z".parse().unwrap()
}

fn job(spec: Value, status: Value) -> Job {
    serde_json::from_value(json!({
        "metadata": {"name": "pi", "namespace": "default", "uid": "job-uid"},
        "spec": spec,
        "status": status,
    }))
    .unwrap()
}

fn pod(name: &str, phase: &str, finalizer: bool, extra: Value) -> Pod {
    let mut value = json!({
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
        "status": {"phase": phase},
    });
    if finalizer {
        value["metadata"]["finalizers"] = json!([super::super::pod_state::TRACKING_FINALIZER]);
    }
    merge(&mut value, extra);
    serde_json::from_value(value).unwrap()
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                merge(into.entry(key).or_insert(Value::Null), value);
            }
        }
        (into, from) => *into = from,
    }
}

fn template() -> Value {
    json!({"spec": {"containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "Never"}})
}

#[test]
fn a_new_job_starts_as_many_pods_as_parallelism_allows() {
    let job = job(
        json!({"completions": 5, "parallelism": 2, "template": template()}),
        json!({}),
    );
    let plan = plan_job(&job, &[], now());
    assert_eq!(plan.create, vec![None, None]);
    assert_eq!(plan.status.active, Some(2));
    assert_eq!(plan.status.start_time, Some(Time(now())));
}

#[test]
fn a_succeeded_pod_is_recorded_as_uncounted_before_its_finalizer_goes() {
    let job = job(
        json!({"completions": 5, "parallelism": 2, "template": template()}),
        json!({"succeeded": 3}),
    );
    let done = pod("pi-a", "Succeeded", true, json!({}));
    let running = pod("pi-b", "Running", true, json!({}));
    let plan = plan_job(&job, &[&done, &running], now());
    let uncounted = plan.status.uncounted_terminated_pods.clone().unwrap();
    assert_eq!(uncounted.succeeded, Some(vec!["uid-pi-a".to_string()]));
    assert_eq!(plan.remove_finalizers, vec!["pi-a".to_string()]);
    assert!(
        plan.create.is_empty(),
        "4 of 5 done and one running: no more wanted"
    );
}

#[test]
fn uncounted_pods_without_finalizers_move_into_the_counters_and_the_job_completes() {
    let job = job(
        json!({"completions": 2, "parallelism": 2, "template": template()}),
        json!({"succeeded": 1, "startTime": "2025-01-01T00:00:00Z",
               "uncountedTerminatedPods": {"succeeded": ["uid-pi-a"]}}),
    );
    let done = pod("pi-a", "Succeeded", false, json!({}));
    let plan = plan_job(&job, &[&done], now());
    assert_eq!(plan.status.succeeded, Some(2));
    assert!(conditions::is_true(&plan.status, SUCCESS_CRITERIA_MET));
    let complete = conditions::find(&plan.status, COMPLETE).unwrap();
    assert_eq!(complete.reason.as_deref(), Some("CompletionsReached"));
    assert_eq!(plan.status.completion_time, Some(Time(now())));
    assert!(plan.create.is_empty());
}

#[test]
fn exceeding_the_backoff_limit_sets_failure_target_then_failed() {
    let job = job(
        json!({"completions": 1, "backoffLimit": 1, "template": template()}),
        json!({"failed": 2, "startTime": "2025-01-01T00:00:00Z"}),
    );
    let running = pod("pi-c", "Running", true, json!({}));
    let plan = plan_job(&job, &[&running], now());
    assert!(conditions::is_true(&plan.status, FAILURE_TARGET));
    assert!(
        !conditions::is_true(&plan.status, FAILED),
        "a pod still runs"
    );
    assert_eq!(plan.delete, vec!["pi-c".to_string()]);
    assert_eq!(plan.events[0].reason, "BackoffLimitExceeded");

    let plan = plan_job(&job, &[], now());
    let failed = conditions::find(&plan.status, FAILED).unwrap();
    assert_eq!(
        failed.message.as_deref(),
        Some("Job has reached the specified backoff limit")
    );
}

#[test]
fn a_recent_failure_delays_the_replacement_pod() {
    let job = job(
        json!({"completions": 1, "template": template()}),
        json!({"failed": 1}),
    );
    let failed = pod(
        "pi-d",
        "Failed",
        false,
        json!({"status": {"containerStatuses": [{"name": "c", "image": "busybox", "imageID": "", "ready": false,
            "restartCount": 0, "state": {"terminated": {"exitCode": 1, "finishedAt": "2025-01-01T00:09:55Z"}}}]}}),
    );
    let plan = plan_job(&job, &[&failed], now());
    assert!(plan.create.is_empty());
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(5)));
}

#[test]
fn the_deadline_fails_the_job() {
    let job = job(
        json!({"completions": 1, "activeDeadlineSeconds": 60, "template": template()}),
        json!({"startTime": "2025-01-01T00:00:00Z"}),
    );
    let plan = plan_job(&job, &[], now());
    assert_eq!(
        conditions::find(&plan.status, FAILED)
            .unwrap()
            .reason
            .as_deref(),
        Some("DeadlineExceeded")
    );
}

#[test]
fn indexed_jobs_create_the_lowest_missing_indexes() {
    let job = job(
        json!({"completions": 4, "parallelism": 2, "completionMode": "Indexed", "template": template()}),
        json!({"completedIndexes": "0", "startTime": "2025-01-01T00:00:00Z"}),
    );
    let running = pod(
        "pi-1",
        "Running",
        true,
        json!({"metadata": {"annotations": {"batch.kubernetes.io/job-completion-index": "1"}}}),
    );
    let plan = plan_job(&job, &[&running], now());
    assert_eq!(plan.create, vec![Some(2)]);
}

#[test]
fn suspending_deletes_active_pods() {
    let job = job(
        json!({"completions": 1, "suspend": true, "template": template()}),
        json!({}),
    );
    let running = pod("pi-e", "Running", true, json!({}));
    let plan = plan_job(&job, &[&running], now());
    assert_eq!(plan.delete, vec!["pi-e".to_string()]);
    assert!(conditions::is_true(&plan.status, SUSPENDED));
    assert!(plan.create.is_empty());
}
