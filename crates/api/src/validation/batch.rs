//! batch/v1 Jobs and CronJobs, as upstream's batch validation.

use serde_json::Value;

use super::cron_schedule::parse_schedule;
use super::label_selector::{is_empty_selector, selector_matches, validate_label_selector};
use super::object_meta::{immutable, nonnegative};
use super::pod::validate_pod_template;
use crate::field_error::{FieldError, Path};

/// Upstream's `maxParallelismForIndexedJob`.
const MAX_INDEXED_PARALLELISM: i64 = 100_000;

/// The cron job controller appends an 11-character suffix to job names of at most 63.
const CRON_JOB_NAME_MAX: usize = 52;

/// The rules shared by a Job's spec and a CronJob's job template.
fn validate_job_spec(spec: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for field in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ] {
        if let Some(value) = spec[field].as_i64() {
            errors.extend(nonnegative(value, &path.child(field)));
        }
    }
    let indexed = spec["completionMode"].as_str() == Some("Indexed");
    if let Some(limit) = spec["backoffLimitPerIndex"].as_i64() {
        errors.extend(nonnegative(limit, &path.child("backoffLimitPerIndex")));
        if !indexed {
            errors.push(FieldError::forbidden(
                path.child("backoffLimitPerIndex"),
                "requires indexed completion mode",
            ));
        }
    }
    if let Some(mode) = spec["completionMode"].as_str() {
        if !matches!(mode, "NonIndexed" | "Indexed") {
            errors.push(FieldError::not_supported(
                path.child("completionMode"),
                mode,
                &["NonIndexed", "Indexed"],
            ));
        }
        if indexed {
            if spec["completions"].is_null() {
                errors.push(FieldError::required(
                    path.child("completions"),
                    "when completion mode is Indexed",
                ));
            }
            if let Some(parallelism) = spec["parallelism"]
                .as_i64()
                .filter(|p| *p > MAX_INDEXED_PARALLELISM)
            {
                errors.push(FieldError::invalid(
                    path.child("parallelism"),
                    parallelism,
                    format!("must be less than or equal to {MAX_INDEXED_PARALLELISM} when completion mode is Indexed"),
                ));
            }
        }
    }
    if let Some(policy) = spec["podReplacementPolicy"].as_str() {
        if !matches!(policy, "TerminatingOrFailed" | "Failed") {
            errors.push(FieldError::not_supported(
                path.child("podReplacementPolicy"),
                policy,
                &["Failed", "TerminatingOrFailed"],
            ));
        }
    }
    let template_path = path.child("template");
    errors.extend(validate_pod_template(&spec["template"], &template_path));
    let restart_policy = spec["template"]["spec"]["restartPolicy"]
        .as_str()
        .unwrap_or("");
    if !matches!(restart_policy, "OnFailure" | "Never") {
        errors.push(FieldError::not_supported(
            template_path.child("spec").child("restartPolicy"),
            restart_policy,
            &["OnFailure", "Never"],
        ));
    } else if restart_policy == "OnFailure" && !spec["podFailurePolicy"].is_null() {
        errors.push(FieldError::invalid(
            template_path.child("spec").child("restartPolicy"),
            restart_policy,
            "only \"Never\" is supported when podFailurePolicy is specified",
        ));
    }
    errors
}

/// A Job's spec: the job rules, and a selector (usually generated) matching the template.
pub fn validate_job(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = validate_job_spec(spec, &path);
    let selector = &spec["selector"];
    if selector.is_null() {
        errors.push(FieldError::required(path.child("selector"), ""));
        return errors;
    }
    errors.extend(validate_label_selector(selector, &path.child("selector")));
    if is_empty_selector(selector) {
        errors.push(FieldError::required(path.child("selector"), ""));
    }
    let labels = match &spec["template"]["metadata"]["labels"] {
        Value::Null => Value::Object(serde_json::Map::new()),
        labels => labels.clone(),
    };
    if !selector_matches(selector, &labels) {
        let labels_path = path.child("template").child("metadata").child("labels");
        errors.push(FieldError::invalid(
            labels_path,
            labels,
            "`selector` does not match template `labels`",
        ));
    }
    errors
}

/// A Job update: the selector, template and most of the spec are fixed.
pub fn validate_job_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let (new_spec, old_spec) = (&new["spec"], &old["spec"]);
    let path = Path::new("spec");
    let mut errors = Vec::new();
    let elastic = new_spec["completionMode"].as_str() == Some("Indexed")
        && new_spec["completions"] == new_spec["parallelism"];
    if !elastic {
        errors.extend(immutable(
            &new_spec["completions"],
            &old_spec["completions"],
            &path.child("completions"),
        ));
    }
    errors.extend(immutable(
        &new_spec["selector"],
        &old_spec["selector"],
        &path.child("selector"),
    ));
    errors.extend(template_update(new_spec, old_spec, &path));
    for field in [
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
    ] {
        errors.extend(immutable(
            &new_spec[field],
            &old_spec[field],
            &path.child(field),
        ));
    }
    errors
}

/// While a job is suspended and has not started, its pods' scheduling directives may change.
fn template_update(new_spec: &Value, old_spec: &Value, path: &Path) -> Vec<FieldError> {
    let suspended = new_spec["suspend"].as_bool() == Some(true);
    let mut new_template = new_spec["template"].clone();
    if suspended {
        for (section, fields) in [
            ("metadata", &["labels", "annotations"][..]),
            (
                "spec",
                &["nodeSelector", "affinity", "tolerations", "schedulingGates"][..],
            ),
        ] {
            for field in fields {
                let old_value = old_spec["template"][section].get(*field).cloned();
                if let Some(target) = new_template.get_mut(section).and_then(Value::as_object_mut) {
                    match old_value {
                        Some(value) => target.insert((*field).to_string(), value),
                        None => target.remove(*field),
                    };
                }
            }
        }
    }
    if new_template == old_spec["template"] {
        Vec::new()
    } else {
        immutable(
            &new_spec["template"],
            &old_spec["template"],
            &path.child("template"),
        )
    }
}

/// A CronJob's name and spec.
pub fn validate_cron_job(obj: &Value) -> Vec<FieldError> {
    let mut errors = validate_cron_job_spec(obj, None);
    let name = obj["metadata"]["name"].as_str().unwrap_or("");
    if name.len() > CRON_JOB_NAME_MAX {
        errors.push(FieldError::invalid(
            Path::new("metadata").child("name"),
            name,
            format!("must be no more than {CRON_JOB_NAME_MAX} characters"),
        ));
    }
    errors
}

/// A CronJob update (a TZ in the schedule stays allowed if it was there before).
pub fn validate_cron_job_update(new: &Value, old: &Value) -> Vec<FieldError> {
    validate_cron_job_spec(new, Some(old))
}

fn validate_cron_job_spec(obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = Vec::new();
    let schedule = spec["schedule"].as_str().unwrap_or("");
    if schedule.is_empty() {
        errors.push(FieldError::required(path.child("schedule"), ""));
    } else {
        if let Err(message) = parse_schedule(schedule) {
            errors.push(FieldError::invalid(
                path.child("schedule"),
                schedule,
                message,
            ));
        }
        let tz_allowed =
            old.is_some_and(|o| o["spec"]["schedule"].as_str().unwrap_or("").contains("TZ"));
        if schedule.contains("TZ") {
            if !tz_allowed {
                errors.push(FieldError::invalid(
                    path.child("schedule"),
                    schedule,
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                ));
            } else if !spec["timeZone"].is_null() {
                errors.push(FieldError::invalid(
                    path.child("schedule"),
                    schedule,
                    "cannot use both timeZone field and TZ or CRON_TZ in schedule",
                ));
            }
        }
    }
    if let Some(deadline) = spec["startingDeadlineSeconds"].as_i64() {
        errors.extend(nonnegative(
            deadline,
            &path.child("startingDeadlineSeconds"),
        ));
    }
    let zone_changed = old.is_none_or(|o| o["spec"]["timeZone"] != spec["timeZone"]);
    if let Some(zone) = spec["timeZone"].as_str().filter(|_| zone_changed) {
        errors.extend(validate_time_zone(zone, &path.child("timeZone")));
    }
    match spec["concurrencyPolicy"].as_str().unwrap_or("") {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errors.push(FieldError::required(path.child("concurrencyPolicy"), "")),
        other => errors.push(FieldError::not_supported(
            path.child("concurrencyPolicy"),
            other,
            &["Allow", "Forbid", "Replace"],
        )),
    }
    let template_spec_path = path.child("jobTemplate").child("spec");
    let job_spec = &spec["jobTemplate"]["spec"];
    errors.extend(validate_job_spec(job_spec, &template_spec_path));
    if !job_spec["selector"].is_null() {
        errors.push(FieldError::invalid(
            template_spec_path.child("selector"),
            job_spec["selector"].clone(),
            "`selector` will be auto-generated",
        ));
    }
    if job_spec["manualSelector"].as_bool() == Some(true) {
        errors.push(FieldError::not_supported(
            template_spec_path.child("manualSelector"),
            true,
            &["nil", "false"],
        ));
    }
    for field in ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
        if let Some(limit) = spec[field].as_i64() {
            errors.extend(nonnegative(limit, &path.child(field)));
        }
    }
    errors
}

fn validate_time_zone(zone: &str, path: &Path) -> Vec<FieldError> {
    if zone.is_empty() {
        return vec![FieldError::invalid(
            path,
            zone,
            "timeZone must be nil or non-empty string",
        )];
    }
    let well_formed = zone.split('/').all(|part| {
        part != "."
            && part != ".."
            && !part.starts_with('-')
            && !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+'))
    });
    if !well_formed {
        return vec![FieldError::invalid(
            path,
            zone,
            format!("unknown time zone {zone}"),
        )];
    }
    if zone.eq_ignore_ascii_case("local") {
        return vec![FieldError::invalid(
            path,
            zone,
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        )];
    }
    if jiff::tz::TimeZone::get(zone).is_err() {
        return vec![FieldError::invalid(
            path,
            zone,
            format!("unknown time zone {zone}"),
        )];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    fn pod_template(restart: &str) -> Value {
        json!({"metadata": {"labels": {"batch.kubernetes.io/controller-uid": "u"}}, "spec": {
            "containers": [{"name": "pi", "image": "perl", "terminationMessagePolicy": "File", "imagePullPolicy": "Always"}],
            "restartPolicy": restart, "dnsPolicy": "ClusterFirst"}})
    }

    #[test]
    fn job_rules() {
        let good = json!({"spec": {"parallelism": 1, "completions": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}}, "template": pod_template("Never")}});
        assert_eq!(messages(validate_job(&good)), Vec::<String>::new());
        let mut bad = good.clone();
        bad["spec"]["parallelism"] = json!(-1);
        bad["spec"]["template"] = pod_template("Always");
        assert_eq!(
            messages(validate_job(&bad)),
            vec![
                "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"",
            ]
        );
    }

    #[test]
    fn cron_job_rules() {
        let cron = json!({"metadata": {"name": "c"}, "spec": {"schedule": "*/1 * * *", "concurrencyPolicy": "Sometimes",
            "jobTemplate": {"spec": {"template": pod_template("OnFailure")}}}});
        assert_eq!(
            messages(validate_cron_job(&cron)),
            vec![
                "spec.schedule: Invalid value: \"*/1 * * *\": expected exactly 5 fields, found 4: [*/1 * * *]",
                "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"",
            ]
        );
    }
}
