//! v2 metric specs and statuses in the shape of autoscaling/v1's alpha `MetricSpec` and
//! `MetricStatus` (what the metrics annotations hold), and back, as upstream's per-source
//! conversions. v1's `targetValue`, `targetAverageValue` (pods) and `current*Value` are plain
//! quantities, never absent: an unset v2 value becomes `"0"` there, and comes back as `"0"`.

use serde_json::{json, Map, Value};

use super::go_json::{Decoded, Struct};
use super::{dig, str_at, string_or_empty};

/// The two resource sources, and whether each names a container.
const RESOURCE_SOURCES: [(&str, bool); 2] = [("resource", false), ("containerResource", true)];

/// A v2 `MetricSpec` as a v1 `MetricSpec`.
pub(super) fn spec_to_v1(metric: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), string_or_empty(metric, "type"));
    if let Some(source) = dig(metric, &["object"]) {
        let mut object = Map::new();
        object.insert(
            "target".into(),
            reference(dig(source, &["describedObject"])),
        );
        object.insert("metricName".into(), metric_name(source));
        object.insert(
            "targetValue".into(),
            or_zero(dig(source, &["target", "value"])),
        );
        put(
            &mut object,
            "selector",
            dig(source, &["metric", "selector"]),
        );
        put(
            &mut object,
            "averageValue",
            dig(source, &["target", "averageValue"]),
        );
        out.insert("object".into(), Value::Object(object));
    }
    if let Some(source) = dig(metric, &["pods"]) {
        let mut pods = Map::new();
        pods.insert("metricName".into(), metric_name(source));
        let average = dig(source, &["target", "averageValue"]);
        pods.insert("targetAverageValue".into(), or_zero(average));
        put(&mut pods, "selector", dig(source, &["metric", "selector"]));
        out.insert("pods".into(), Value::Object(pods));
    }
    for (key, names_container) in RESOURCE_SOURCES {
        if let Some(source) = dig(metric, &[key]) {
            let mut resource = Map::new();
            resource.insert("name".into(), string_or_empty(source, "name"));
            let utilization = dig(source, &["target", "averageUtilization"]);
            put(&mut resource, "targetAverageUtilization", utilization);
            put(
                &mut resource,
                "targetAverageValue",
                dig(source, &["target", "averageValue"]),
            );
            if names_container {
                resource.insert("container".into(), string_or_empty(source, "container"));
            }
            out.insert(key.into(), Value::Object(resource));
        }
    }
    if let Some(source) = dig(metric, &["external"]) {
        let mut external = Map::new();
        external.insert("metricName".into(), metric_name(source));
        put(
            &mut external,
            "metricSelector",
            dig(source, &["metric", "selector"]),
        );
        put(
            &mut external,
            "targetValue",
            dig(source, &["target", "value"]),
        );
        put(
            &mut external,
            "targetAverageValue",
            dig(source, &["target", "averageValue"]),
        );
        out.insert("external".into(), Value::Object(external));
    }
    Value::Object(out)
}

/// A v2 `MetricStatus` as a v1 `MetricStatus`.
pub(super) fn status_to_v1(metric: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), string_or_empty(metric, "type"));
    if let Some(source) = dig(metric, &["object"]) {
        let mut object = Map::new();
        object.insert(
            "target".into(),
            reference(dig(source, &["describedObject"])),
        );
        object.insert("metricName".into(), metric_name(source));
        object.insert(
            "currentValue".into(),
            or_zero(dig(source, &["current", "value"])),
        );
        put(
            &mut object,
            "selector",
            dig(source, &["metric", "selector"]),
        );
        put(
            &mut object,
            "averageValue",
            dig(source, &["current", "averageValue"]),
        );
        out.insert("object".into(), Value::Object(object));
    }
    if let Some(source) = dig(metric, &["pods"]) {
        let mut pods = Map::new();
        pods.insert("metricName".into(), metric_name(source));
        let average = dig(source, &["current", "averageValue"]);
        pods.insert("currentAverageValue".into(), or_zero(average));
        put(&mut pods, "selector", dig(source, &["metric", "selector"]));
        out.insert("pods".into(), Value::Object(pods));
    }
    for (key, names_container) in RESOURCE_SOURCES {
        if let Some(source) = dig(metric, &[key]) {
            let mut resource = Map::new();
            resource.insert("name".into(), string_or_empty(source, "name"));
            let utilization = dig(source, &["current", "averageUtilization"]);
            put(&mut resource, "currentAverageUtilization", utilization);
            let average = dig(source, &["current", "averageValue"]);
            resource.insert("currentAverageValue".into(), or_zero(average));
            if names_container {
                resource.insert("container".into(), string_or_empty(source, "container"));
            }
            out.insert(key.into(), Value::Object(resource));
        }
    }
    if let Some(source) = dig(metric, &["external"]) {
        let mut external = Map::new();
        external.insert("metricName".into(), metric_name(source));
        put(
            &mut external,
            "metricSelector",
            dig(source, &["metric", "selector"]),
        );
        external.insert(
            "currentValue".into(),
            or_zero(dig(source, &["current", "value"])),
        );
        put(
            &mut external,
            "currentAverageValue",
            dig(source, &["current", "averageValue"]),
        );
        out.insert("external".into(), Value::Object(external));
    }
    Value::Object(out)
}

/// A v1 `MetricSpec` read from the annotation, as a v2 `MetricSpec`. A target's type follows
/// from which v1 values are set, as upstream infers it.
pub(super) fn spec_to_v2(metric: Struct<'_>) -> Decoded<Value> {
    let mut out = Map::new();
    out.insert(
        "type".into(),
        metric.string("type")?.unwrap_or_default().into(),
    );
    if let Some(source) = metric.nested("object")? {
        let average = source.quantity("averageValue")?;
        let mut target = Map::new();
        let kind = if average.is_some() {
            "AverageValue"
        } else {
            "Value"
        };
        target.insert("type".into(), kind.into());
        target.insert(
            "value".into(),
            source.quantity("targetValue")?.unwrap_or_else(zero),
        );
        put_owned(&mut target, "averageValue", average);
        out.insert(
            "object".into(),
            json!({
                "describedObject": reference_to_v2(source.nested("target")?)?,
                "target": Value::Object(target),
                "metric": identifier(source, "selector")?,
            }),
        );
    }
    if let Some(source) = metric.nested("pods")? {
        let average = source.quantity("targetAverageValue")?.unwrap_or_else(zero);
        out.insert(
            "pods".into(),
            json!({
                "metric": identifier(source, "selector")?,
                "target": {"type": "AverageValue", "averageValue": average},
            }),
        );
    }
    for (key, names_container) in RESOURCE_SOURCES {
        if let Some(source) = metric.nested(key)? {
            let utilization = source.int("targetAverageUtilization")?;
            let mut target = Map::new();
            let kind = if utilization.is_some() {
                "Utilization"
            } else {
                "AverageValue"
            };
            target.insert("type".into(), kind.into());
            put_owned(
                &mut target,
                "averageValue",
                source.quantity("targetAverageValue")?,
            );
            put_owned(&mut target, "averageUtilization", utilization);
            let mut resource = Map::new();
            resource.insert(
                "name".into(),
                source.string("name")?.unwrap_or_default().into(),
            );
            resource.insert("target".into(), Value::Object(target));
            if names_container {
                let container = source.string("container")?.unwrap_or_default();
                resource.insert("container".into(), container.into());
            }
            out.insert(key.into(), Value::Object(resource));
        }
    }
    if let Some(source) = metric.nested("external")? {
        let value = source.quantity("targetValue")?;
        let mut target = Map::new();
        let kind = if value.is_some() {
            "Value"
        } else {
            "AverageValue"
        };
        target.insert("type".into(), kind.into());
        put_owned(&mut target, "value", value);
        put_owned(
            &mut target,
            "averageValue",
            source.quantity("targetAverageValue")?,
        );
        out.insert(
            "external".into(),
            json!({
                "metric": identifier(source, "metricSelector")?,
                "target": Value::Object(target),
            }),
        );
    }
    Ok(Value::Object(out))
}

/// A v1 `MetricStatus` read from the annotation, as a v2 `MetricStatus`.
pub(super) fn status_to_v2(metric: Struct<'_>) -> Decoded<Value> {
    let mut out = Map::new();
    out.insert(
        "type".into(),
        metric.string("type")?.unwrap_or_default().into(),
    );
    if let Some(source) = metric.nested("object")? {
        let mut current = Map::new();
        current.insert(
            "value".into(),
            source.quantity("currentValue")?.unwrap_or_else(zero),
        );
        put_owned(
            &mut current,
            "averageValue",
            source.quantity("averageValue")?,
        );
        out.insert(
            "object".into(),
            json!({
                "metric": identifier(source, "selector")?,
                "current": Value::Object(current),
                "describedObject": reference_to_v2(source.nested("target")?)?,
            }),
        );
    }
    if let Some(source) = metric.nested("pods")? {
        let average = source.quantity("currentAverageValue")?.unwrap_or_else(zero);
        out.insert(
            "pods".into(),
            json!({
                "metric": identifier(source, "selector")?,
                "current": {"averageValue": average},
            }),
        );
    }
    for (key, names_container) in RESOURCE_SOURCES {
        if let Some(source) = metric.nested(key)? {
            let mut current = Map::new();
            let average = source.quantity("currentAverageValue")?.unwrap_or_else(zero);
            current.insert("averageValue".into(), average);
            put_owned(
                &mut current,
                "averageUtilization",
                source.int("currentAverageUtilization")?,
            );
            let mut resource = Map::new();
            resource.insert(
                "name".into(),
                source.string("name")?.unwrap_or_default().into(),
            );
            resource.insert("current".into(), Value::Object(current));
            if names_container {
                let container = source.string("container")?.unwrap_or_default();
                resource.insert("container".into(), container.into());
            }
            out.insert(key.into(), Value::Object(resource));
        }
    }
    if let Some(source) = metric.nested("external")? {
        let mut current = Map::new();
        current.insert(
            "value".into(),
            source.quantity("currentValue")?.unwrap_or_else(zero),
        );
        put_owned(
            &mut current,
            "averageValue",
            source.quantity("currentAverageValue")?,
        );
        out.insert(
            "external".into(),
            json!({
                "metric": identifier(source, "metricSelector")?,
                "current": Value::Object(current),
            }),
        );
    }
    Ok(Value::Object(out))
}

/// A v2 `CrossVersionObjectReference` as v1's (the same fields; `apiVersion` may be left out).
fn reference(reference: Option<&Value>) -> Value {
    let mut out = Map::new();
    if let Some(reference) = reference {
        out.insert("kind".into(), string_or_empty(reference, "kind"));
        out.insert("name".into(), string_or_empty(reference, "name"));
        let api_version = str_at(reference, &["apiVersion"]).filter(|text| !text.is_empty());
        if let Some(api_version) = api_version {
            out.insert("apiVersion".into(), api_version.into());
        }
    } else {
        out.insert("kind".into(), "".into());
        out.insert("name".into(), "".into());
    }
    Value::Object(out)
}

fn reference_to_v2(reference: Option<Struct<'_>>) -> Decoded<Value> {
    let mut out = Map::new();
    let field = |name: &str| -> Decoded<&str> {
        Ok(match reference {
            Some(reference) => reference.string(name)?.unwrap_or_default(),
            None => "",
        })
    };
    out.insert("kind".into(), field("kind")?.into());
    out.insert("name".into(), field("name")?.into());
    let api_version = field("apiVersion")?;
    if !api_version.is_empty() {
        out.insert("apiVersion".into(), api_version.into());
    }
    Ok(Value::Object(out))
}

/// v2's `MetricIdentifier` from v1's `metricName` and the selector under `selector_key`.
fn identifier(source: Struct<'_>, selector_key: &str) -> Decoded<Value> {
    let mut out = Map::new();
    out.insert(
        "name".into(),
        source.string("metricName")?.unwrap_or_default().into(),
    );
    put_owned(&mut out, "selector", source.object(selector_key)?);
    Ok(Value::Object(out))
}

fn metric_name(source: &Value) -> Value {
    str_at(source, &["metric", "name"])
        .unwrap_or_default()
        .into()
}

fn zero() -> Value {
    Value::String("0".into())
}

fn or_zero(quantity: Option<&Value>) -> Value {
    quantity.cloned().unwrap_or_else(zero)
}

fn put(out: &mut Map<String, Value>, key: &str, value: Option<&Value>) {
    put_owned(out, key, value.cloned());
}

fn put_owned(out: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        out.insert(key.into(), value);
    }
}
