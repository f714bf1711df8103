//! Pods, pod specs and pod templates, as upstream's `ValidatePodSpec`, `ValidatePodTemplateSpec`,
//! `ValidatePodCreate` and `ValidatePodUpdate`.

use serde_json::Value;

use super::container::validate_containers;
use super::identifiers;
use super::json_diff::describe_changes;
use super::object_meta::{validate_annotations, validate_labels};
use super::volume::validate_volumes;
use crate::field_error::{FieldError, Path};

const MAX_INT32: i64 = i32::MAX as i64;

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A pod spec at `path` (e.g. `spec` or `spec.template.spec`).
pub fn validate_pod_spec(spec: &Value, path: &Path) -> Vec<FieldError> {
    let (volumes, mut errors) = validate_volumes(&spec["volumes"], &path.child("volumes"));
    errors.extend(validate_containers(spec, &volumes, path));
    match text(spec, "restartPolicy") {
        "Always" | "OnFailure" | "Never" => {}
        "" => errors.push(FieldError::required(path.child("restartPolicy"), "")),
        other => errors.push(FieldError::not_supported(
            path.child("restartPolicy"),
            other,
            &["Always", "OnFailure", "Never"],
        )),
    }
    let dns_policy = text(spec, "dnsPolicy");
    match dns_policy {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => errors.push(FieldError::required(path.child("dnsPolicy"), "")),
        other => errors.push(FieldError::not_supported(
            path.child("dnsPolicy"),
            other,
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        )),
    }
    if dns_policy == "None" && spec["dnsConfig"].is_null() {
        errors.push(FieldError::required(
            path.child("dnsConfig"),
            "must provide `dnsConfig` when `dnsPolicy` is None",
        ));
    }
    errors.extend(validate_labels(
        &spec["nodeSelector"],
        &path.child("nodeSelector"),
    ));
    for field in ["serviceAccountName", "nodeName", "priorityClassName"] {
        let value = text(spec, field);
        if !value.is_empty() {
            for message in identifiers::dns1123_subdomain(value) {
                errors.push(FieldError::invalid(path.child(field), value, message));
            }
        }
    }
    if let Some(seconds) = spec["activeDeadlineSeconds"].as_i64() {
        if !(1..=MAX_INT32).contains(&seconds) {
            errors.push(FieldError::invalid(
                path.child("activeDeadlineSeconds"),
                seconds,
                identifiers::inclusive_range_message(1, MAX_INT32),
            ));
        }
    }
    for field in ["hostname", "subdomain"] {
        let value = text(spec, field);
        if !value.is_empty() {
            for message in identifiers::dns1123_label(value) {
                errors.push(FieldError::invalid(path.child(field), value, message));
            }
        }
    }
    errors.extend(validate_tolerations(
        &spec["tolerations"],
        &path.child("tolerations"),
    ));
    if let Some(policy) = spec["preemptionPolicy"].as_str() {
        if !matches!(policy, "Never" | "PreemptLowerPriority") {
            errors.push(FieldError::not_supported(
                path.child("preemptionPolicy"),
                policy,
                &["Never", "PreemptLowerPriority"],
            ));
        }
    }
    errors
}

fn validate_tolerations(tolerations: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, toleration) in tolerations.as_array().into_iter().flatten().enumerate() {
        let here = path.index(i);
        let key = text(toleration, "key");
        if !key.is_empty() {
            for message in identifiers::qualified_name(key) {
                errors.push(FieldError::invalid(here.child("key"), key, message));
            }
        }
        let operator = text(toleration, "operator");
        if key.is_empty() && operator != "Exists" {
            errors.push(FieldError::invalid(
                here.child("operator"),
                operator,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        let effect = text(toleration, "effect");
        if !toleration["tolerationSeconds"].is_null() && effect != "NoExecute" {
            errors.push(FieldError::invalid(
                here.child("effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        let value = text(toleration, "value");
        match operator {
            "Equal" | "" => {
                let messages = identifiers::label_value(value);
                if !messages.is_empty() {
                    errors.push(FieldError::invalid(
                        here.child("operator"),
                        value,
                        messages.join(";"),
                    ));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errors.push(FieldError::invalid(
                        here.child("operator"),
                        toleration.clone(),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errors.push(FieldError::not_supported(
                here.child("operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() && !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute")
        {
            errors.push(FieldError::not_supported(
                here.child("effect"),
                effect,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ));
        }
    }
    errors
}

/// A pod template (`spec.template` of controllers): its labels, annotations and pod spec.
pub fn validate_pod_template(template: &Value, path: &Path) -> Vec<FieldError> {
    let meta = &template["metadata"];
    let mut errors = validate_labels(&meta["labels"], &path.child("labels"));
    errors.extend(validate_annotations(
        &meta["annotations"],
        &path.child("annotations"),
    ));
    errors.extend(validate_pod_spec(&template["spec"], &path.child("spec")));
    if template["spec"]["ephemeralContainers"]
        .as_array()
        .is_some_and(|c| !c.is_empty())
    {
        errors.push(FieldError::forbidden(
            path.child("spec").child("ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    errors
}

/// A Pod being created (metadata excluded).
pub fn validate_pod(pod: &Value) -> Vec<FieldError> {
    let spec_path = Path::new("spec");
    let spec = &pod["spec"];
    let mut errors = validate_pod_spec(spec, &spec_path);
    if spec["ephemeralContainers"]
        .as_array()
        .is_some_and(|c| !c.is_empty())
    {
        errors.push(FieldError::forbidden(
            spec_path.child("ephemeralContainers"),
            "cannot be set on create",
        ));
    }
    if !text(spec, "nodeName").is_empty()
        && spec["schedulingGates"]
            .as_array()
            .is_some_and(|g| !g.is_empty())
    {
        errors.push(FieldError::forbidden(
            spec_path.child("nodeName"),
            "cannot be set until all schedulingGates have been cleared",
        ));
    }
    errors
}

/// A Pod being updated: its spec is fixed apart from images, a shorter deadline, added
/// tolerations and removed scheduling gates.
pub fn validate_pod_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let spec_path = Path::new("spec");
    let mut errors = validate_pod_spec(&new["spec"], &spec_path);
    let (new_spec, old_spec) = (&new["spec"], &old["spec"]);
    match (
        new_spec["activeDeadlineSeconds"].as_i64(),
        old_spec["activeDeadlineSeconds"].as_i64(),
    ) {
        (Some(new_seconds), Some(old_seconds)) if new_seconds > old_seconds => {
            errors.push(FieldError::invalid(
                spec_path.child("activeDeadlineSeconds"),
                new_seconds,
                "must be less than or equal to previous value",
            ));
            return errors;
        }
        (None, Some(_)) => errors.push(FieldError::invalid(
            spec_path.child("activeDeadlineSeconds"),
            Value::Null,
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }
    let mut munged = new_spec.clone();
    if let Some(fields) = munged.as_object_mut() {
        for list in ["containers", "initContainers"] {
            copy_images(fields.get_mut(list), &old_spec[list]);
        }
        restore(fields, old_spec, "activeDeadlineSeconds");
        let old_tolerations: Vec<&Value> = old_spec["tolerations"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let keeps_old = old_tolerations.iter().all(|t| {
            new_spec["tolerations"]
                .as_array()
                .is_some_and(|n| n.contains(t))
        });
        if keeps_old {
            restore(fields, old_spec, "tolerations");
        }
        let was_negative = old_spec["terminationGracePeriodSeconds"]
            .as_i64()
            .is_some_and(|s| s < 0);
        if was_negative && new_spec["terminationGracePeriodSeconds"].as_i64() == Some(1) {
            restore(fields, old_spec, "terminationGracePeriodSeconds");
        }
        let old_gates: Vec<&Value> = old_spec["schedulingGates"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let only_removed = new_spec["schedulingGates"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|g| old_gates.contains(&g));
        if only_removed {
            restore(fields, old_spec, "schedulingGates");
        }
    }
    if munged != *old_spec {
        errors.push(FieldError::forbidden(
            &spec_path,
            format!(
                "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n{}",
                describe_changes("core.PodSpec", old_spec, &munged)
            ),
        ));
    }
    errors
}

fn restore(fields: &mut serde_json::Map<String, Value>, old: &Value, key: &str) {
    match old.get(key) {
        Some(value) => {
            fields.insert(key.to_string(), value.clone());
        }
        None => {
            fields.remove(key);
        }
    }
}

fn copy_images(new: Option<&mut Value>, old: &Value) {
    let Some(containers) = new.and_then(Value::as_array_mut) else {
        return;
    };
    for (i, container) in containers.iter_mut().enumerate() {
        if let (Some(fields), Some(image)) = (container.as_object_mut(), old[i].get("image")) {
            fields.insert("image".to_string(), image.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    fn good_spec() -> Value {
        json!({
            "containers": [{"name": "web", "image": "nginx", "terminationMessagePolicy": "File", "imagePullPolicy": "Always"}],
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
        })
    }

    #[test]
    fn a_good_pod_passes() {
        assert_eq!(
            messages(validate_pod(&json!({"spec": good_spec()}))),
            Vec::<String>::new()
        );
    }

    #[test]
    fn three_bad_fields_three_messages() {
        let mut spec = good_spec();
        spec["containers"][0]["image"] = json!("");
        spec["containers"][0]["ports"] = json!([{"containerPort": 70000, "protocol": "TCP"}]);
        spec["restartPolicy"] = json!("Sometimes");
        assert_eq!(
            messages(validate_pod(&json!({"spec": spec}))),
            vec![
                "spec.containers[0].image: Required value",
                "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            ]
        );
    }

    #[test]
    fn table_of_container_rules() {
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (json!({"containers": []}), vec!["spec.containers: Required value"]),
            (
                json!({"containers": [{"name": "a", "image": "x"}, {"name": "a", "image": "x"}]}),
                vec!["spec.containers[1].name: Duplicate value: \"a\""],
            ),
            (
                json!({"containers": [{"name": "a", "image": "x", "volumeMounts": [{"name": "data", "mountPath": "/d"}]}]}),
                vec!["spec.containers[0].volumeMounts[0].name: Not found: \"data\""],
            ),
            (
                json!({"volumes": [{"name": "v"}, {"name": "w", "emptyDir": {}, "hostPath": {"path": "/x"}}]}),
                vec![
                    "spec.volumes[0]: Required value: must specify a volume type",
                    "spec.volumes[1].hostPath: Forbidden: may not specify more than 1 volume type",
                ],
            ),
            (
                json!({"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 80, "protocol": "HTTP", "name": "web"}, {"containerPort": 81, "protocol": "TCP", "name": "web"}]}]}),
                vec![
                    "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                    "spec.containers[0].ports[1].name: Duplicate value: \"web\"",
                ],
            ),
            (
                json!({"containers": [{"name": "a", "image": "x", "env": [{"name": "A=B"}]}]}),
                vec!["spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='"],
            ),
            (
                json!({"containers": [{"name": "a", "image": "x", "livenessProbe": {"successThreshold": 2, "exec": {"command": ["true"]}}}]}),
                vec!["spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"],
            ),
        ];
        for (overrides, expected) in cases {
            let mut spec = good_spec();
            for (key, value) in overrides.as_object().into_iter().flatten() {
                spec[key] = value.clone();
            }
            for list in ["containers"] {
                for container in spec[list].as_array_mut().into_iter().flatten() {
                    container["terminationMessagePolicy"] = json!("File");
                    container["imagePullPolicy"] = json!("IfNotPresent");
                }
            }
            assert_eq!(
                messages(validate_pod_spec(&spec, &Path::new("spec"))),
                expected,
                "{overrides}"
            );
        }
    }

    #[test]
    fn update_allows_image_only() {
        let old = json!({"spec": good_spec()});
        let mut new = old.clone();
        new["spec"]["containers"][0]["image"] = json!("nginx:2");
        assert!(validate_pod_update(&new, &old).is_empty());
        new["spec"]["restartPolicy"] = json!("Never");
        let got = messages(validate_pod_update(&new, &old));
        assert_eq!(got.len(), 1);
        assert!(got[0].starts_with("spec: Forbidden: pod updates may not change fields other than"));
    }
}
