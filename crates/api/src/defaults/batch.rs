//! batch/v1 Jobs and CronJobs, as upstream's `SetDefaults_Job` and `SetDefaults_CronJob`, and the
//! selector the Job registry generates.

use serde_json::{Map, Value};

use super::pod::default_pod_template;
use super::{fill, object_at};

/// Upstream's `math.MaxInt32`, the backoff limit of jobs with a per-index limit.
const MAX_INT32: i64 = i32::MAX as i64;

pub fn default_job(obj: &mut Value) {
    let template_labels = obj.pointer("/spec/template/metadata/labels").cloned();
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    if spec["completions"].is_null() && spec["parallelism"].is_null() {
        fill(spec, "completions", 1.into());
    }
    fill(spec, "parallelism", 1.into());
    let backoff = if spec["backoffLimitPerIndex"].is_null() {
        6
    } else {
        MAX_INT32
    };
    fill(spec, "backoffLimit", backoff.into());
    fill(spec, "completionMode", "NonIndexed".into());
    fill(spec, "suspend", false.into());
    fill(spec, "manualSelector", false.into());
    let replacement = if spec["podFailurePolicy"].is_null() {
        "TerminatingOrFailed"
    } else {
        "Failed"
    };
    fill(spec, "podReplacementPolicy", replacement.into());
    if let Some(rules) = spec
        .pointer_mut("/podFailurePolicy/rules")
        .and_then(Value::as_array_mut)
    {
        for rule in rules {
            for condition in rule
                .get_mut("onPodConditions")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                fill(condition, "status", "True".into());
            }
        }
    }
    if let Some(template) = object_at(spec, "template") {
        default_pod_template(template);
    }
    let Some(labels) = template_labels.filter(Value::is_object) else {
        return;
    };
    if let Some(meta) = object_at(obj, "metadata") {
        if meta["labels"].as_object().is_none_or(Map::is_empty) {
            meta["labels"] = labels;
        }
    }
}

pub fn default_cron_job(obj: &mut Value) {
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    fill(spec, "concurrencyPolicy", "Allow".into());
    fill(spec, "suspend", false.into());
    fill(spec, "successfulJobsHistoryLimit", 3.into());
    fill(spec, "failedJobsHistoryLimit", 1.into());
    if let Some(template) = spec
        .pointer_mut("/jobTemplate/spec/template")
        .filter(|t| t.is_object())
    {
        default_pod_template(template);
    }
}

/// What the Job registry does on create unless `spec.manualSelector` is true: labels the pod
/// template with the job's name and uid and selects on the uid. Call after `metadata.uid` is set.
pub fn generate_job_selector(job: &mut Value) {
    if job.pointer("/spec/manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    let name = job
        .pointer("/metadata/name")
        .cloned()
        .unwrap_or(Value::from(""));
    let uid = job
        .pointer("/metadata/uid")
        .cloned()
        .unwrap_or(Value::from(""));
    let Some(spec) = object_at(job, "spec") else {
        return;
    };
    if let Some(template) = object_at(spec, "template") {
        if let Some(meta) = object_at(template, "metadata") {
            if let Some(labels) = object_at(meta, "labels") {
                for key in ["job-name", "batch.kubernetes.io/job-name"] {
                    fill_absent(labels, key, &name);
                }
                for key in ["controller-uid", "batch.kubernetes.io/controller-uid"] {
                    fill_absent(labels, key, &uid);
                }
            }
        }
    }
    if let Some(selector) = object_at(spec, "selector") {
        if let Some(match_labels) = object_at(selector, "matchLabels") {
            fill_absent(match_labels, "batch.kubernetes.io/controller-uid", &uid);
        }
    }
}

fn fill_absent(map: &mut Value, key: &str, value: &Value) {
    if let Some(fields) = map.as_object_mut() {
        fields
            .entry(key.to_string())
            .or_insert_with(|| value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn job_defaults_and_selector() {
        let mut job = json!({"metadata": {"name": "pi", "uid": "u1"}, "spec": {"template": {"spec": {"containers": [], "restartPolicy": "Never"}}}});
        default_job(&mut job);
        let spec = &job["spec"];
        assert_eq!(
            (
                spec["completions"].clone(),
                spec["parallelism"].clone(),
                spec["backoffLimit"].clone()
            ),
            (json!(1), json!(1), json!(6))
        );
        assert_eq!(spec["completionMode"], "NonIndexed");
        assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
        generate_job_selector(&mut job);
        assert_eq!(
            job["spec"]["selector"],
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}})
        );
        assert_eq!(
            job["spec"]["template"]["metadata"]["labels"]["job-name"],
            "pi"
        );
    }

    #[test]
    fn cron_job_defaults() {
        let mut cron = json!({"spec": {"schedule": "* * * * *"}});
        default_cron_job(&mut cron);
        assert_eq!(cron["spec"]["concurrencyPolicy"], "Allow");
        assert_eq!(cron["spec"]["successfulJobsHistoryLimit"], 3);
        assert_eq!(cron["spec"]["failedJobsHistoryLimit"], 1);
    }
}
