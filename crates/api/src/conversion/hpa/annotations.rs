//! The annotations that carry what autoscaling/v1 cannot express (upstream's
//! `pkg/apis/autoscaling/annotations.go`), and `DropRoundTripHorizontalPodAutoscalerAnnotations`:
//! none of them survives a conversion, so each is written fresh or not at all.

use serde_json::{Map, Value};

/// The v2 metrics other than the CPU utilization one, as v1 `MetricSpec`s.
pub(super) const METRICS: &str = "autoscaling.alpha.kubernetes.io/metrics";
/// The status's current metrics, as v1 `MetricStatus`es.
pub(super) const CURRENT_METRICS: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
/// The status's conditions, as v1 `HorizontalPodAutoscalerCondition`s.
pub(super) const CONDITIONS: &str = "autoscaling.alpha.kubernetes.io/conditions";
/// The spec's behavior, as Go marshals the internal type.
pub(super) const BEHAVIOR: &str = "autoscaling.alpha.kubernetes.io/behavior";
/// Written by autoscaling/v2beta2 only (not served here), dropped like the others.
const SCALE_DOWN_TOLERANCE: &str = "autoscaling.alpha.kubernetes.io/scale-down-tolerance";
const SCALE_UP_TOLERANCE: &str = "autoscaling.alpha.kubernetes.io/scale-up-tolerance";

const ROUND_TRIP: [&str; 6] = [
    METRICS,
    BEHAVIOR,
    SCALE_DOWN_TOLERANCE,
    SCALE_UP_TOLERANCE,
    CURRENT_METRICS,
    CONDITIONS,
];

/// The text of annotation `key` in `metadata`.
pub(super) fn get<'a>(metadata: Option<&'a Value>, key: &str) -> Option<&'a str> {
    metadata?.get("annotations")?.get(key)?.as_str()
}

/// `metadata` without any round-trip annotation, then with `notes` (key, text) added. `None` when
/// there was no metadata and nothing is added. An annotation map emptied by the drop goes away.
pub(super) fn rewrite(metadata: Option<&Value>, notes: Vec<(&str, String)>) -> Option<Value> {
    let mut metadata = match metadata {
        Some(metadata) => metadata.clone(),
        None if notes.is_empty() => return None,
        None => Value::Object(Map::new()),
    };
    drop_round_trip(&mut metadata);
    if notes.is_empty() {
        return Some(metadata);
    }
    if !metadata.is_object() {
        metadata = Value::Object(Map::new());
    }
    if let Some(fields) = metadata.as_object_mut() {
        let annotations = fields
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if !annotations.is_object() {
            *annotations = Value::Object(Map::new());
        }
        if let Some(annotations) = annotations.as_object_mut() {
            for (key, text) in notes {
                annotations.insert(key.into(), text.into());
            }
        }
    }
    Some(metadata)
}

fn drop_round_trip(metadata: &mut Value) {
    let Some(fields) = metadata.as_object_mut() else {
        return;
    };
    let Some(annotations) = fields.get_mut("annotations").and_then(Value::as_object_mut) else {
        return;
    };
    if !ROUND_TRIP.iter().any(|key| annotations.contains_key(*key)) {
        return;
    }
    for key in ROUND_TRIP {
        annotations.remove(key);
    }
    if annotations.is_empty() {
        fields.remove("annotations");
    }
}
