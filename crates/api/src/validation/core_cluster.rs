//! Core kinds with few rules: Namespaces, Nodes, Events.

use serde_json::Value;

use super::identifiers;
use super::object_meta::strings;
use crate::field_error::{FieldError, Path};

const STANDARD_FINALIZERS: [&str; 3] = ["kubernetes", "orphan", "foregroundDeletion"];

/// `spec.finalizers` of a Namespace: qualified names, unqualified only for the standard ones.
pub fn validate_namespace(obj: &Value) -> Vec<FieldError> {
    let path = Path::new("spec").child("finalizers");
    let mut errors = Vec::new();
    for finalizer in strings(&obj["spec"]["finalizers"]) {
        for message in identifiers::qualified_name(finalizer) {
            errors.push(FieldError::invalid(&path, finalizer, message));
        }
        if !finalizer.contains('/') && !STANDARD_FINALIZERS.contains(&finalizer) {
            errors.push(FieldError::invalid(
                &path,
                finalizer,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    errors
}

/// A Node's taints and pod CIDRs.
pub fn validate_node(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for (i, taint) in spec["taints"].as_array().into_iter().flatten().enumerate() {
        let here = path.child("taints").index(i);
        let key = taint["key"].as_str().unwrap_or("");
        for message in identifiers::qualified_name(key) {
            errors.push(FieldError::invalid(here.child("key"), key, message));
        }
        let value = taint["value"].as_str().unwrap_or("");
        for message in identifiers::label_value(value) {
            errors.push(FieldError::invalid(here.child("value"), value, message));
        }
        let effect = taint["effect"].as_str().unwrap_or("");
        match effect {
            "NoSchedule" | "PreferNoSchedule" | "NoExecute" => {}
            "" => errors.push(FieldError::required(here.child("effect"), "")),
            other => errors.push(FieldError::not_supported(
                here.child("effect"),
                other,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            )),
        }
        let pair = (key.to_string(), effect.to_string());
        if seen.contains(&pair) {
            errors.push(FieldError::duplicate(
                &here,
                serde_json::json!({"key": key, "effect": effect}),
            ));
        }
        seen.push(pair);
    }
    for (i, cidr) in strings(&spec["podCIDRs"]).enumerate() {
        if !identifiers::is_cidr(cidr) {
            errors.push(FieldError::invalid(
                path.child("podCIDRs").index(i),
                cidr,
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            ));
        }
    }
    errors
}

/// A core/v1 Event: its involved object's namespace, and for new-style events the reporter.
pub fn validate_event(obj: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let namespace = obj["metadata"]["namespace"].as_str().unwrap_or("");
    let involved = obj["involvedObject"]["namespace"].as_str().unwrap_or("");
    let involved_path = Path::new("involvedObject").child("namespace");
    let new_style = obj["eventTime"].as_str().is_some_and(|t| !t.is_empty());
    if !new_style {
        let mismatch = if involved.is_empty() {
            !namespace.is_empty() && namespace != "default"
        } else {
            namespace != involved
        };
        if mismatch {
            errors.push(FieldError::invalid(
                &involved_path,
                involved,
                "does not match event.namespace",
            ));
        }
    } else {
        if involved.is_empty() && namespace != "default" && namespace != "kube-system" {
            errors.push(FieldError::invalid(
                &involved_path,
                involved,
                "does not match event.namespace",
            ));
        }
        let controller = obj["reportingComponent"].as_str().unwrap_or("");
        if controller.is_empty() {
            errors.push(FieldError::required("reportingComponent", ""));
        }
        for message in identifiers::qualified_name(controller) {
            errors.push(FieldError::invalid(
                "reportingComponent",
                controller,
                message,
            ));
        }
        for (field, limit) in [("reportingInstance", 128), ("action", 128), ("reason", 128)] {
            let value = obj[field].as_str().unwrap_or("");
            if value.is_empty() {
                errors.push(FieldError::required(field, ""));
            }
            if value.len() > limit {
                errors.push(FieldError::invalid(
                    field,
                    "",
                    format!("can have at most {limit} characters"),
                ));
            }
        }
    }
    errors
}
