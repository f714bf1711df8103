//! Small policy kinds: Leases, PodDisruptionBudgets, HorizontalPodAutoscalers, PriorityClasses,
//! StorageClasses.

use serde_json::Value;

use super::identifiers;
use super::int_or_percent::{not_more_than_100_percent, positive_int_or_percent};
use super::label_selector::validate_label_selector;
use super::object_meta::nonnegative;
use crate::field_error::{FieldError, Path};

/// Upstream's `HighestUserDefinablePriority`.
const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;

pub fn validate_lease(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = Vec::new();
    if let Some(duration) = spec["leaseDurationSeconds"].as_i64().filter(|d| *d <= 0) {
        errors.push(FieldError::invalid(
            path.child("leaseDurationSeconds"),
            duration,
            "must be greater than 0",
        ));
    }
    if let Some(transitions) = spec["leaseTransitions"].as_i64() {
        errors.extend(nonnegative(transitions, &path.child("leaseTransitions")));
    }
    errors
}

pub fn validate_pod_disruption_budget(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = Vec::new();
    let (min, max) = (&spec["minAvailable"], &spec["maxUnavailable"]);
    if !min.is_null() && !max.is_null() {
        errors.push(FieldError::invalid(
            &path,
            spec.clone(),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (field, value) in [("minAvailable", min), ("maxUnavailable", max)] {
        if !value.is_null() {
            errors.extend(positive_int_or_percent(value, &path.child(field)));
            errors.extend(not_more_than_100_percent(value, &path.child(field)));
        }
    }
    errors.extend(validate_label_selector(
        &spec["selector"],
        &path.child("selector"),
    ));
    if let Some(policy) = spec["unhealthyPodEvictionPolicy"].as_str() {
        if !matches!(policy, "IfHealthyBudget" | "AlwaysAllow") {
            errors.push(FieldError::not_supported(
                path.child("unhealthyPodEvictionPolicy"),
                policy,
                &["AlwaysAllow", "IfHealthyBudget"],
            ));
        }
    }
    errors
}

pub fn validate_horizontal_pod_autoscaler(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = Vec::new();
    let min = spec["minReplicas"].as_i64();
    if let Some(min) = min.filter(|m| *m < 1) {
        errors.push(FieldError::invalid(
            path.child("minReplicas"),
            min,
            "must be greater than or equal to 1",
        ));
    }
    let max = spec["maxReplicas"].as_i64().unwrap_or(0);
    if max < 1 {
        errors.push(FieldError::invalid(
            path.child("maxReplicas"),
            max,
            "must be greater than 0",
        ));
    }
    if min.is_some_and(|m| max < m) {
        errors.push(FieldError::invalid(
            path.child("maxReplicas"),
            max,
            "must be greater than or equal to `minReplicas`",
        ));
    }
    let target = &spec["scaleTargetRef"];
    let target_path = path.child("scaleTargetRef");
    let kind = target["kind"].as_str().unwrap_or("");
    if kind.is_empty() {
        errors.push(FieldError::required(target_path.child("kind"), ""));
    } else {
        for message in identifiers::path_segment_name(kind, false) {
            errors.push(FieldError::invalid(
                target_path.child("kind"),
                kind,
                message,
            ));
        }
    }
    let name = target["name"].as_str().unwrap_or("");
    if name.is_empty() {
        errors.push(FieldError::required(target_path.child("name"), ""));
    } else {
        for message in identifiers::path_segment_name(name, false) {
            errors.push(FieldError::invalid(
                target_path.child("name"),
                name,
                message,
            ));
        }
    }
    if let Some(percent) = spec["targetCPUUtilizationPercentage"]
        .as_i64()
        .filter(|p| *p < 1)
    {
        errors.push(FieldError::invalid(
            path.child("targetCPUUtilizationPercentage"),
            percent,
            "must be greater than 0",
        ));
    }
    for (i, metric) in spec["metrics"].as_array().into_iter().flatten().enumerate() {
        let metric_type = metric["type"].as_str().unwrap_or("");
        let here = path.child("metrics").index(i);
        let known = [
            "ContainerResource",
            "External",
            "Object",
            "Pods",
            "Resource",
        ];
        if metric_type.is_empty() {
            errors.push(FieldError::required(
                here.child("type"),
                "must specify a metric source type",
            ));
        } else if !known.contains(&metric_type) {
            errors.push(FieldError::not_supported(
                here.child("type"),
                metric_type,
                &known,
            ));
        }
    }
    errors
}

pub fn validate_priority_class(obj: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = obj["metadata"]["name"].as_str().unwrap_or("");
    let value = obj["value"].as_i64().unwrap_or(0);
    let system = matches!(name, "system-node-critical" | "system-cluster-critical");
    if !system {
        if name.starts_with("system-") {
            errors.push(FieldError::forbidden(
                Path::new("metadata").child("name"),
                "priority class names with 'system-' prefix are reserved",
            ));
        }
        if value > HIGHEST_USER_PRIORITY {
            errors.push(FieldError::forbidden(
                "value",
                format!(
                    "maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"
                ),
            ));
        }
    }
    if let Some(policy) = obj["preemptionPolicy"].as_str() {
        if !matches!(policy, "Never" | "PreemptLowerPriority") {
            errors.push(FieldError::not_supported(
                "preemptionPolicy",
                policy,
                &["Never", "PreemptLowerPriority"],
            ));
        }
    }
    errors
}

pub fn validate_priority_class_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if new["value"] != old["value"] {
        errors.push(FieldError::forbidden(
            "value",
            "may not be changed in an update.",
        ));
    }
    if new["preemptionPolicy"] != old["preemptionPolicy"] {
        errors.push(FieldError::invalid(
            "preemptionPolicy",
            new["preemptionPolicy"].clone(),
            "field is immutable",
        ));
    }
    errors
}

pub fn validate_storage_class(obj: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let provisioner = obj["provisioner"].as_str().unwrap_or("");
    if provisioner.is_empty() {
        errors.push(FieldError::required("provisioner", ""));
    } else {
        for message in identifiers::qualified_name(&provisioner.to_lowercase()) {
            errors.push(FieldError::invalid("provisioner", provisioner, message));
        }
    }
    if let Some(policy) = obj["reclaimPolicy"].as_str() {
        if !matches!(policy, "Delete" | "Retain") {
            errors.push(FieldError::not_supported(
                "reclaimPolicy",
                policy,
                &["Delete", "Retain"],
            ));
        }
    }
    if let Some(mode) = obj["volumeBindingMode"].as_str() {
        if !matches!(mode, "Immediate" | "WaitForFirstConsumer") {
            errors.push(FieldError::not_supported(
                "volumeBindingMode",
                mode,
                &["Immediate", "WaitForFirstConsumer"],
            ));
        }
    }
    errors
}

pub fn validate_storage_class_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for field in ["parameters", "provisioner", "reclaimPolicy"] {
        if new[field] != old[field] {
            errors.push(FieldError::forbidden(
                field,
                format!("updates to {field} are forbidden."),
            ));
        }
    }
    if new["volumeBindingMode"] != old["volumeBindingMode"] {
        errors.push(FieldError::invalid(
            "volumeBindingMode",
            new["volumeBindingMode"].clone(),
            "field is immutable",
        ));
    }
    errors
}
