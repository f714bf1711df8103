//! HorizontalPodAutoscalers: autoscaling/v1 ↔ autoscaling/v2, as upstream's
//! `pkg/apis/autoscaling/v1/conversion.go` (through the internal type, which is v2's shape).
//!
//! v1 has one target, `targetCPUUtilizationPercentage`: a v2 `Resource` metric on `cpu` with an
//! `averageUtilization` target. Everything else of v2's travels in annotations on the v1 object,
//! written on the way to v1 and consumed (and dropped) on the way back: the other metrics and the
//! current metrics in v1's alpha `MetricSpec`/`MetricStatus` shapes, the behavior as Go marshals
//! the internal type, and the conditions. As upstream: the CPU utilization metric comes back last
//! among the metrics, a v1 object with no metric gets the implicit 80% CPU target, and malformed
//! annotations are ignored.

mod annotations;
mod behavior;
mod go_json;
mod metrics;
#[cfg(test)]
mod tests;

use serde_json::{json, Map, Value};

use annotations::{BEHAVIOR, CONDITIONS, CURRENT_METRICS, METRICS};
use go_json::{Decoded, Struct};

/// Upstream's `autoscaling.DefaultCPUUtilization`: v1's implicit target.
const DEFAULT_CPU_UTILIZATION: i64 = 80;

/// The status fields both versions have.
const STATUS_FIELDS: [&str; 4] = [
    "observedGeneration",
    "lastScaleTime",
    "currentReplicas",
    "desiredReplicas",
];

/// The spec fields both versions have.
const SPEC_FIELDS: [&str; 3] = ["scaleTargetRef", "minReplicas", "maxReplicas"];

/// The top-level fields the conversion rewrites; any other is kept as it is.
const HANDLED: [&str; 5] = ["apiVersion", "kind", "metadata", "spec", "status"];

/// An autoscaling/v2 HPA's fields (without apiVersion and kind) as autoscaling/v1's.
pub(super) fn v2_to_v1(v2: &Map<String, Value>) -> Map<String, Value> {
    let spec = v2.get("spec");
    let status = v2.get("status").filter(|status| !status.is_null());
    let metrics = list(spec, "metrics");
    let current_metrics = list(status, "currentMetrics");
    let conditions = list(status, "conditions");

    let mut notes = Vec::new();
    let others: Vec<Value> = metrics
        .iter()
        .filter(|metric| !is_cpu_utilization(metric))
        .map(metrics::spec_to_v1)
        .collect();
    if !others.is_empty() {
        notes.push((METRICS, go_json::encode(&Value::Array(others))));
    }
    if !current_metrics.is_empty() {
        let statuses = current_metrics.iter().map(metrics::status_to_v1).collect();
        notes.push((CURRENT_METRICS, go_json::encode(&Value::Array(statuses))));
    }
    if let Some(behavior) = at(spec, &["behavior"]) {
        notes.push((
            BEHAVIOR,
            go_json::encode(&behavior::to_annotation(behavior)),
        ));
    }
    if !conditions.is_empty() {
        let conditions = conditions.iter().map(condition_to_v1).collect();
        notes.push((CONDITIONS, go_json::encode(&Value::Array(conditions))));
    }

    let mut out = Map::new();
    if let Some(metadata) = annotations::rewrite(v2.get("metadata"), notes) {
        out.insert("metadata".into(), metadata);
    }
    out.insert("spec".into(), spec_to_v1(spec, metrics));
    if let Some(status) = status {
        out.insert("status".into(), status_to_v1(status, current_metrics));
    }
    keep_others(v2, &mut out);
    out
}

/// An autoscaling/v1 HPA's fields (without apiVersion and kind) as autoscaling/v2's.
pub(super) fn v1_to_v2(v1: &Map<String, Value>) -> Map<String, Value> {
    let metadata = v1.get("metadata");
    let note = |key: &str| annotations::get(metadata, key);
    let mut out = Map::new();
    if let Some(metadata) = annotations::rewrite(metadata, Vec::new()) {
        out.insert("metadata".into(), metadata);
    }
    out.insert(
        "spec".into(),
        spec_to_v2(v1.get("spec"), note(METRICS), note(BEHAVIOR)),
    );
    let status = status_to_v2(v1.get("status"), note(CURRENT_METRICS), note(CONDITIONS));
    if let Some(status) = status {
        out.insert("status".into(), status);
    }
    keep_others(v1, &mut out);
    out
}

fn spec_to_v1(spec: Option<&Value>, metrics: &[Value]) -> Value {
    let mut out = Map::new();
    copy(&mut out, spec, &SPEC_FIELDS);
    // The first CPU resource metric decides, whatever its target.
    let cpu = metrics.iter().find(|metric| is_cpu_resource(metric));
    if let Some(utilization) =
        cpu.and_then(|metric| dig(metric, &["resource", "target", "averageUtilization"]))
    {
        out.insert("targetCPUUtilizationPercentage".into(), utilization.clone());
    }
    Value::Object(out)
}

fn spec_to_v2(
    spec: Option<&Value>,
    metrics_note: Option<&str>,
    behavior_note: Option<&str>,
) -> Value {
    let mut out = Map::new();
    copy(&mut out, spec, &SPEC_FIELDS);
    let mut metrics = Vec::new();
    if let Some(utilization) = at(spec, &["targetCPUUtilizationPercentage"]) {
        metrics.push(cpu_utilization_target(utilization.clone()));
    }
    if let Some(mut others) =
        metrics_note.and_then(|text| go_json::decode_list(text, metrics::spec_to_v2))
    {
        others.append(&mut metrics);
        metrics = others;
    }
    if metrics.is_empty() {
        metrics.push(cpu_utilization_target(DEFAULT_CPU_UTILIZATION.into()));
    }
    out.insert("metrics".into(), Value::Array(metrics));
    if let Some(behavior) = behavior_note.and_then(behavior::from_annotation) {
        out.insert("behavior".into(), behavior);
    }
    Value::Object(out)
}

fn status_to_v1(status: &Value, current_metrics: &[Value]) -> Value {
    let mut out = Map::new();
    copy(&mut out, Some(status), &STATUS_FIELDS);
    // No early exit upstream: the last CPU resource metric with a utilization wins.
    let utilization = current_metrics
        .iter()
        .rev()
        .filter(|metric| is_cpu_resource(metric))
        .find_map(|metric| dig(metric, &["resource", "current", "averageUtilization"]));
    if let Some(utilization) = utilization {
        out.insert(
            "currentCPUUtilizationPercentage".into(),
            utilization.clone(),
        );
    }
    Value::Object(out)
}

fn status_to_v2(
    status: Option<&Value>,
    metrics_note: Option<&str>,
    conditions_note: Option<&str>,
) -> Option<Value> {
    let status = status.filter(|status| !status.is_null());
    let noted_metrics =
        metrics_note.and_then(|text| go_json::decode_list(text, metrics::status_to_v2));
    let noted_conditions =
        conditions_note.and_then(|text| go_json::decode_list(text, condition_to_v2));
    if status.is_none() && noted_metrics.is_none() && noted_conditions.is_none() {
        return None;
    }
    let mut out = Map::new();
    copy(&mut out, status, &STATUS_FIELDS);
    // The annotation, when readable, has more than the percentage: it replaces it.
    let current_metrics = noted_metrics.unwrap_or_else(|| {
        at(status, &["currentCPUUtilizationPercentage"])
            .map(|utilization| {
                json!({"type": "Resource", "resource": {
                    "name": "cpu", "current": {"averageUtilization": utilization}}})
            })
            .into_iter()
            .collect()
    });
    if !current_metrics.is_empty() {
        out.insert("currentMetrics".into(), Value::Array(current_metrics));
    }
    if let Some(conditions) = noted_conditions.filter(|conditions| !conditions.is_empty()) {
        out.insert("conditions".into(), Value::Array(conditions));
    }
    Some(Value::Object(out))
}

/// A condition as v1's `HorizontalPodAutoscalerCondition` marshals: `lastTransitionTime` is a
/// struct, written `null` when unset; `reason` and `message` are left out when empty.
fn condition_to_v1(condition: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), string_or_empty(condition, "type"));
    out.insert("status".into(), string_or_empty(condition, "status"));
    let time = at(Some(condition), &["lastTransitionTime"]);
    out.insert(
        "lastTransitionTime".into(),
        time.cloned().unwrap_or(Value::Null),
    );
    for key in ["reason", "message"] {
        if let Some(text) = str_at(condition, &[key]).filter(|text| !text.is_empty()) {
            out.insert(key.into(), text.into());
        }
    }
    Value::Object(out)
}

fn condition_to_v2(condition: Struct) -> Decoded<Value> {
    let mut out = Map::new();
    out.insert(
        "type".into(),
        condition.string("type")?.unwrap_or_default().into(),
    );
    out.insert(
        "status".into(),
        condition.string("status")?.unwrap_or_default().into(),
    );
    if let Some(time) = condition.string("lastTransitionTime")? {
        out.insert("lastTransitionTime".into(), time.into());
    }
    for key in ["reason", "message"] {
        if let Some(text) = condition.string(key)?.filter(|text| !text.is_empty()) {
            out.insert(key.into(), text.into());
        }
    }
    Ok(Value::Object(out))
}

fn cpu_utilization_target(utilization: Value) -> Value {
    json!({"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": utilization}}})
}

/// A `Resource` metric (spec or status) on `cpu`.
fn is_cpu_resource(metric: &Value) -> bool {
    str_at(metric, &["type"]) == Some("Resource")
        && str_at(metric, &["resource", "name"]) == Some("cpu")
}

/// What v1's percentage stands for: a CPU resource metric with a utilization target.
fn is_cpu_utilization(metric: &Value) -> bool {
    is_cpu_resource(metric) && dig(metric, &["resource", "target", "averageUtilization"]).is_some()
}

/// The value at `path` under `value`; a `null` on the way counts as absent.
fn dig<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |value, key| value.get(key))
        .filter(|value| !value.is_null())
}

fn at<'a>(value: Option<&'a Value>, path: &[&str]) -> Option<&'a Value> {
    value.and_then(|value| dig(value, path))
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    dig(value, path).and_then(Value::as_str)
}

fn string_or_empty(value: &Value, key: &str) -> Value {
    str_at(value, &[key]).unwrap_or_default().into()
}

/// The array at `key` of `value`; empty when absent.
fn list<'a>(value: Option<&'a Value>, key: &str) -> &'a [Value] {
    at(value, &[key])
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Copies the `keys` present in `from` into `out`.
fn copy(out: &mut Map<String, Value>, from: Option<&Value>, keys: &[&str]) {
    for key in keys {
        if let Some(value) = at(from, &[key]) {
            out.insert((*key).into(), value.clone());
        }
    }
}

/// Keeps the top-level fields the conversion does not handle.
fn keep_others(from: &Map<String, Value>, out: &mut Map<String, Value>) {
    for (key, value) in from {
        if !HANDLED.contains(&key.as_str()) {
            out.insert(key.clone(), value.clone());
        }
    }
}
