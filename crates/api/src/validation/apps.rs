//! Controllers of replicated pods: Deployment, ReplicaSet, StatefulSet, DaemonSet (apps/v1) and
//! ReplicationController (core/v1), as upstream's apps validation.

use serde_json::Value;

use super::int_or_percent::{
    not_more_than_100_percent, percent_or_int_value, positive_int_or_percent,
};
use super::label_selector::{is_empty_selector, selector_matches, validate_label_selector};
use super::object_meta::{immutable, nonnegative, validate_annotations, validate_labels};
use super::pod::validate_pod_template;
use crate::field_error::{FieldError, Path};

const SELECTOR_MISMATCH: &str = "`selector` does not match template `labels`";

fn int(value: &Value) -> i64 {
    value.as_i64().unwrap_or(0)
}

fn template_labels(spec: &Value) -> Value {
    match &spec["template"]["metadata"]["labels"] {
        Value::Null => Value::Object(serde_json::Map::new()),
        labels => labels.clone(),
    }
}

/// The selector is required, valid and not empty.
fn validate_selector(spec: &Value, path: &Path, kind_word: &str) -> Vec<FieldError> {
    let selector = &spec["selector"];
    if selector.is_null() {
        return vec![FieldError::required(path.child("selector"), "")];
    }
    let mut errors = validate_label_selector(selector, &path.child("selector"));
    if is_empty_selector(selector) {
        errors.push(FieldError::invalid(
            path.child("selector"),
            selector.clone(),
            format!("empty selector is invalid for {kind_word}"),
        ));
    }
    errors
}

fn selector_mismatch(spec: &Value, path: &Path) -> Vec<FieldError> {
    let selector = &spec["selector"];
    if selector.is_null()
        || is_empty_selector(selector)
        || selector_matches(selector, &template_labels(spec))
    {
        return Vec::new();
    }
    let labels_path = path.child("template").child("metadata").child("labels");
    vec![FieldError::invalid(
        labels_path,
        template_labels(spec),
        SELECTOR_MISMATCH,
    )]
}

/// Pods of these controllers always restart and have no deadline.
fn always_restart(spec: &Value, path: &Path, kind: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let pod_spec = &spec["template"]["spec"];
    let pod_path = path.child("template").child("spec");
    let restart_policy = pod_spec["restartPolicy"].as_str().unwrap_or("");
    if restart_policy != "Always" {
        errors.push(FieldError::not_supported(
            pod_path.child("restartPolicy"),
            restart_policy,
            &["Always"],
        ));
    }
    if !pod_spec["activeDeadlineSeconds"].is_null() {
        errors.push(FieldError::forbidden(
            pod_path.child("activeDeadlineSeconds"),
            format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
    errors
}

/// The template of a ReplicaSet or Deployment.
fn validate_replica_set_template(spec: &Value, path: &Path, kind: &str) -> Vec<FieldError> {
    let mut errors = selector_mismatch(spec, path);
    errors.extend(validate_pod_template(
        &spec["template"],
        &path.child("template"),
    ));
    errors.extend(always_restart(spec, path, kind));
    errors
}

/// A Deployment's spec.
pub fn validate_deployment(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = nonnegative(int(&spec["replicas"]), &path.child("replicas"));
    errors.extend(validate_selector(spec, &path, "deployment"));
    errors.extend(validate_replica_set_template(spec, &path, "ReplicaSet"));
    errors.extend(validate_deployment_strategy(
        &spec["strategy"],
        &path.child("strategy"),
    ));
    errors.extend(nonnegative(
        int(&spec["minReadySeconds"]),
        &path.child("minReadySeconds"),
    ));
    if !spec["revisionHistoryLimit"].is_null() {
        errors.extend(nonnegative(
            int(&spec["revisionHistoryLimit"]),
            &path.child("revisionHistoryLimit"),
        ));
    }
    if let Some(deadline) = spec["progressDeadlineSeconds"].as_i64() {
        errors.extend(nonnegative(
            deadline,
            &path.child("progressDeadlineSeconds"),
        ));
        if deadline <= int(&spec["minReadySeconds"]) {
            errors.push(FieldError::invalid(
                path.child("progressDeadlineSeconds"),
                deadline,
                "must be greater than minReadySeconds",
            ));
        }
    }
    errors
}

fn validate_deployment_strategy(strategy: &Value, path: &Path) -> Vec<FieldError> {
    let rolling = &strategy["rollingUpdate"];
    match strategy["type"].as_str().unwrap_or("") {
        "Recreate" if !rolling.is_null() => vec![FieldError::forbidden(
            path.child("rollingUpdate"),
            "may not be specified when strategy `type` is 'Recreate'",
        )],
        "Recreate" => Vec::new(),
        "RollingUpdate" if rolling.is_null() => vec![FieldError::required(
            path.child("rollingUpdate"),
            "this should be defaulted and never be nil",
        )],
        "RollingUpdate" => {
            let (unavailable, surge) = (&rolling["maxUnavailable"], &rolling["maxSurge"]);
            let unavailable_path = path.child("rollingUpdate").child("maxUnavailable");
            let mut errors = positive_int_or_percent(unavailable, &unavailable_path);
            errors.extend(positive_int_or_percent(
                surge,
                &path.child("rollingUpdate").child("maxSurge"),
            ));
            if percent_or_int_value(unavailable) == 0 && percent_or_int_value(surge) == 0 {
                errors.push(FieldError::invalid(
                    &unavailable_path,
                    unavailable.clone(),
                    "may not be 0 when `maxSurge` is 0",
                ));
            }
            errors.extend(not_more_than_100_percent(unavailable, &unavailable_path));
            errors
        }
        _ => vec![FieldError::not_supported(
            path,
            strategy.clone(),
            &["Recreate", "RollingUpdate"],
        )],
    }
}

/// A ReplicaSet's spec.
pub fn validate_replica_set(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = nonnegative(int(&spec["replicas"]), &path.child("replicas"));
    errors.extend(nonnegative(
        int(&spec["minReadySeconds"]),
        &path.child("minReadySeconds"),
    ));
    errors.extend(validate_selector(spec, &path, "deployment"));
    errors.extend(validate_replica_set_template(spec, &path, "ReplicaSet"));
    errors
}

/// A StatefulSet's spec (upstream checks only the labels and annotations of its pod template).
pub fn validate_stateful_set(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = Vec::new();
    match spec["podManagementPolicy"].as_str().unwrap_or("") {
        "" => errors.push(FieldError::required(path.child("podManagementPolicy"), "")),
        "OrderedReady" | "Parallel" => {}
        other => errors.push(FieldError::invalid(
            path.child("podManagementPolicy"),
            other,
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    let strategy = &spec["updateStrategy"];
    let rolling = &strategy["rollingUpdate"];
    let strategy_path = path.child("updateStrategy");
    match strategy["type"].as_str().unwrap_or("") {
        "" => errors.push(FieldError::required(&strategy_path, "")),
        "OnDelete" if !rolling.is_null() => errors.push(FieldError::invalid(
            strategy_path.child("rollingUpdate"),
            rolling.clone(),
            "only allowed for updateStrategy 'RollingUpdate'",
        )),
        "OnDelete" => {}
        "RollingUpdate" => {
            let rolling_path = strategy_path.child("rollingUpdate");
            errors.extend(nonnegative(
                int(&rolling["partition"]),
                &rolling_path.child("partition"),
            ));
            if !rolling["maxUnavailable"].is_null() {
                let unavailable_path = rolling_path.child("maxUnavailable");
                errors.extend(positive_int_or_percent(
                    &rolling["maxUnavailable"],
                    &unavailable_path,
                ));
                errors.extend(not_more_than_100_percent(
                    &rolling["maxUnavailable"],
                    &unavailable_path,
                ));
            }
        }
        _ => errors.push(FieldError::invalid(
            &strategy_path,
            strategy.clone(),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    let retention = &spec["persistentVolumeClaimRetentionPolicy"];
    for field in ["whenDeleted", "whenScaled"] {
        if let Some(policy) = retention[field].as_str() {
            if !matches!(policy, "Retain" | "Delete") {
                errors.push(FieldError::not_supported(
                    path.child("persistentVolumeClaimRetentionPolicy")
                        .child(field),
                    policy,
                    &["Retain", "Delete"],
                ));
            }
        }
    }
    errors.extend(nonnegative(int(&spec["replicas"]), &path.child("replicas")));
    errors.extend(nonnegative(
        int(&spec["minReadySeconds"]),
        &path.child("minReadySeconds"),
    ));
    if !spec["ordinals"].is_null() {
        errors.extend(nonnegative(
            int(&spec["ordinals"]["start"]),
            &path.child("ordinals.start"),
        ));
    }
    errors.extend(validate_selector(spec, &path, "statefulset"));
    errors.extend(selector_mismatch(spec, &path));
    let template_path = path.child("template");
    let template_meta = &spec["template"]["metadata"];
    errors.extend(validate_labels(
        &template_meta["labels"],
        &template_path.child("labels"),
    ));
    errors.extend(validate_annotations(
        &template_meta["annotations"],
        &template_path.child("annotations"),
    ));
    errors.extend(always_restart(spec, &path, "StatefulSet"));
    errors
}

/// A StatefulSet update: only some of its spec may change.
pub fn validate_stateful_set_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mutable = [
        "replicas",
        "ordinals",
        "template",
        "updateStrategy",
        "revisionHistoryLimit",
        "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
    ];
    let strip = |spec: &Value| -> Value {
        let mut copy = spec.clone();
        if let Some(fields) = copy.as_object_mut() {
            fields.retain(|key, _| !mutable.contains(&key.as_str()));
        }
        copy
    };
    if strip(&new["spec"]) == strip(&old["spec"]) {
        return Vec::new();
    }
    vec![FieldError::forbidden(
        "spec",
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    )]
}

/// A DaemonSet's spec.
pub fn validate_daemon_set(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let selector = &spec["selector"];
    let mut errors = validate_label_selector(selector, &path.child("selector"));
    if !selector_matches(selector, &template_labels(spec)) {
        let labels_path = path.child("template").child("metadata").child("labels");
        errors.push(FieldError::invalid(
            labels_path,
            template_labels(spec),
            SELECTOR_MISMATCH,
        ));
    }
    if !selector.is_null() && is_empty_selector(selector) {
        errors.push(FieldError::invalid(
            path.child("selector"),
            selector.clone(),
            "empty selector is invalid for daemonset",
        ));
    }
    errors.extend(validate_pod_template(
        &spec["template"],
        &path.child("template"),
    ));
    errors.extend(always_restart(spec, &path, "DaemonSet"));
    errors.extend(nonnegative(
        int(&spec["minReadySeconds"]),
        &path.child("minReadySeconds"),
    ));
    errors.extend(nonnegative(
        int(&spec["templateGeneration"]),
        &path.child("templateGeneration"),
    ));
    let strategy = &spec["updateStrategy"];
    let strategy_path = path.child("updateStrategy");
    match strategy["type"].as_str().unwrap_or("") {
        "OnDelete" => {}
        "RollingUpdate" => {
            let rolling = &strategy["rollingUpdate"];
            if rolling.is_null() {
                errors.push(FieldError::required(
                    strategy_path.child("rollingUpdate"),
                    "",
                ));
            } else {
                errors.extend(validate_daemon_set_rolling_update(
                    rolling,
                    &strategy_path.child("rollingUpdate"),
                ));
            }
        }
        _ => errors.push(FieldError::not_supported(
            &strategy_path,
            strategy.clone(),
            &["RollingUpdate", "OnDelete"],
        )),
    }
    if !spec["revisionHistoryLimit"].is_null() {
        errors.extend(nonnegative(
            int(&spec["revisionHistoryLimit"]),
            &path.child("revisionHistoryLimit"),
        ));
    }
    errors
}

fn validate_daemon_set_rolling_update(rolling: &Value, path: &Path) -> Vec<FieldError> {
    let (unavailable, surge) = (&rolling["maxUnavailable"], &rolling["maxSurge"]);
    let mut errors = positive_int_or_percent(unavailable, &path.child("maxUnavailable"));
    errors.extend(positive_int_or_percent(surge, &path.child("maxSurge")));
    errors.extend(not_more_than_100_percent(
        unavailable,
        &path.child("maxUnavailable"),
    ));
    errors.extend(not_more_than_100_percent(surge, &path.child("maxSurge")));
    let has_unavailable = percent_or_int_value(unavailable) != 0;
    let has_surge = percent_or_int_value(surge) != 0;
    if has_unavailable && has_surge {
        errors.push(FieldError::invalid(
            path.child("maxSurge"),
            surge.clone(),
            "may not be set when maxUnavailable is non-zero",
        ));
    } else if !has_unavailable && !has_surge {
        errors.push(FieldError::required(
            path.child("maxUnavailable"),
            "cannot be 0 when maxSurge is 0",
        ));
    }
    errors
}

/// Deployment, ReplicaSet and DaemonSet updates: the selector is fixed.
pub fn validate_selector_update(new: &Value, old: &Value) -> Vec<FieldError> {
    immutable(
        &new["spec"]["selector"],
        &old["spec"]["selector"],
        &Path::new("spec").child("selector"),
    )
}

/// A ReplicationController's spec.
pub fn validate_replication_controller(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = nonnegative(
        int(&spec["minReadySeconds"]),
        &path.child("minReadySeconds"),
    );
    let selector = &spec["selector"];
    let has_selector = selector.as_object().is_some_and(|s| !s.is_empty());
    if !has_selector {
        errors.push(FieldError::required(path.child("selector"), ""));
    }
    errors.extend(nonnegative(int(&spec["replicas"]), &path.child("replicas")));
    if spec["template"].is_null() {
        errors.push(FieldError::required(path.child("template"), ""));
        return errors;
    }
    if has_selector
        && !selector_matches(
            &serde_json::json!({"matchLabels": selector}),
            &template_labels(spec),
        )
    {
        let labels_path = path.child("template").child("metadata").child("labels");
        errors.push(FieldError::invalid(
            labels_path,
            template_labels(spec),
            SELECTOR_MISMATCH,
        ));
    }
    errors.extend(validate_pod_template(
        &spec["template"],
        &path.child("template"),
    ));
    errors.extend(always_restart(spec, &path, "ReplicationController"));
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    fn deployment() -> Value {
        json!({"spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                "containers": [{"name": "web", "image": "nginx", "terminationMessagePolicy": "File", "imagePullPolicy": "Always"}],
                "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
            }},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        }})
    }

    #[test]
    fn a_good_deployment_passes() {
        assert_eq!(
            messages(validate_deployment(&deployment())),
            Vec::<String>::new()
        );
    }

    #[test]
    fn deployment_with_three_bad_fields() {
        let mut d = deployment();
        d["spec"]["replicas"] = json!(-1);
        d["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("");
        assert_eq!(
            messages(validate_deployment(&d)),
            vec![
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`",
                "spec.template.spec.containers[0].image: Required value",
            ]
        );
    }

    #[test]
    fn missing_selector_and_bad_strategy() {
        let mut d = deployment();
        d["spec"].as_object_mut().map(|s| s.remove("selector"));
        d["spec"]["strategy"]["rollingUpdate"] = json!({"maxUnavailable": 0, "maxSurge": "0%"});
        assert_eq!(
            messages(validate_deployment(&d)),
            vec![
                "spec.selector: Required value",
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
            ]
        );
    }

    #[test]
    fn selector_is_immutable() {
        let old = deployment();
        let mut new = deployment();
        new["spec"]["selector"] = json!({"matchLabels": {"app": "nginx2"}});
        assert_eq!(
            messages(validate_selector_update(&new, &old)),
            vec!["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"nginx2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"]
        );
    }

    #[test]
    fn stateful_set_spec_is_mostly_fixed() {
        let old = json!({"spec": {"serviceName": "a", "replicas": 1}});
        let new = json!({"spec": {"serviceName": "b", "replicas": 3}});
        assert_eq!(messages(validate_stateful_set_update(&new, &old)).len(), 1);
        let scaled = json!({"spec": {"serviceName": "a", "replicas": 3}});
        assert!(validate_stateful_set_update(&scaled, &old).is_empty());
    }
}
