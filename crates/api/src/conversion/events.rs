//! Events: core/v1 ↔ events.k8s.io/v1, as upstream's `pkg/apis/events/v1/conversion.go`. Both
//! are the same object (core's internal Event) under different field names, so the conversion
//! renames fields and keeps every value as it is: round trips either way are lossless.

use serde_json::{Map, Value};

/// Each field of core/v1's Event, in its order, with its name in events.k8s.io/v1.
/// `reportingComponent` is the JSON name of core's `ReportingController`.
const CORE_TO_EVENTS: [(&str, &str); 14] = [
    ("involvedObject", "regarding"),
    ("reason", "reason"),
    ("message", "note"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("type", "type"),
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("action", "action"),
    ("related", "related"),
    ("reportingComponent", "reportingController"),
    ("reportingInstance", "reportingInstance"),
];

/// events.k8s.io/v1's Event fields, in its order.
const EVENTS_ORDER: [&str; 14] = [
    "eventTime",
    "series",
    "reportingController",
    "reportingInstance",
    "action",
    "reason",
    "regarding",
    "related",
    "note",
    "type",
    "deprecatedSource",
    "deprecatedFirstTimestamp",
    "deprecatedLastTimestamp",
    "deprecatedCount",
];

/// A core/v1 Event's fields (without apiVersion and kind) as events.k8s.io/v1's.
pub(super) fn core_to_events(core: &Map<String, Value>) -> Map<String, Value> {
    let pairs = EVENTS_ORDER.iter().filter_map(|events| {
        CORE_TO_EVENTS
            .iter()
            .find(|(_, name)| name == events)
            .map(|(core, events)| (*core, *events))
    });
    rename(core, pairs)
}

/// An events.k8s.io/v1 Event's fields (without apiVersion and kind) as core/v1's.
pub(super) fn events_to_core(events: &Map<String, Value>) -> Map<String, Value> {
    rename(
        events,
        CORE_TO_EVENTS.iter().map(|(core, events)| (*events, *core)),
    )
}

/// `metadata`, then each `(from, to)` field present in `source` under its new name, then the
/// fields neither version knows, unchanged.
fn rename<'a>(
    source: &Map<String, Value>,
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) -> Map<String, Value> {
    let mut out = Map::with_capacity(source.len());
    if let Some(metadata) = source.get("metadata") {
        out.insert("metadata".into(), metadata.clone());
    }
    for (from, to) in pairs {
        if let Some(value) = source.get(from) {
            out.insert(to.into(), value.clone());
        }
    }
    for (key, value) in source {
        let known = ["apiVersion", "kind", "metadata"].contains(&key.as_str())
            || CORE_TO_EVENTS
                .iter()
                .any(|(core, events)| key == core || key == events);
        if !known {
            out.insert(key.clone(), value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::conversion::{convert, ConversionError};

    fn core_event() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "web.17a", "namespace": "default", "resourceVersion": "7"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web",
                               "uid": "u-1", "apiVersion": "v1", "fieldPath": "spec.containers{web}"},
            "reason": "Pulled",
            "message": "Successfully pulled image",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2025-01-01T00:00:00Z",
            "lastTimestamp": "2025-01-01T00:05:00Z",
            "count": 3,
            "type": "Normal",
            "eventTime": "2025-01-01T00:00:00.000001Z",
            "series": {"count": 2, "lastObservedTime": "2025-01-01T00:05:00.000000Z"},
            "action": "Pulling",
            "related": {"kind": "Node", "name": "node-1"},
            "reportingComponent": "kubelet",
            "reportingInstance": "node-1"
        })
    }

    fn events_event() -> Value {
        json!({
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": "web.17a", "namespace": "default", "resourceVersion": "7"},
            "eventTime": "2025-01-01T00:00:00.000001Z",
            "series": {"count": 2, "lastObservedTime": "2025-01-01T00:05:00.000000Z"},
            "reportingController": "kubelet",
            "reportingInstance": "node-1",
            "action": "Pulling",
            "reason": "Pulled",
            "regarding": {"kind": "Pod", "namespace": "default", "name": "web",
                          "uid": "u-1", "apiVersion": "v1", "fieldPath": "spec.containers{web}"},
            "related": {"kind": "Node", "name": "node-1"},
            "note": "Successfully pulled image",
            "type": "Normal",
            "deprecatedSource": {"component": "kubelet", "host": "node-1"},
            "deprecatedFirstTimestamp": "2025-01-01T00:00:00Z",
            "deprecatedLastTimestamp": "2025-01-01T00:05:00Z",
            "deprecatedCount": 3
        })
    }

    fn keys(value: &Value) -> Vec<&str> {
        value
            .as_object()
            .map(|fields| fields.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    #[test]
    fn every_field_maps_both_ways_in_each_versions_order() -> Result<(), ConversionError> {
        let events = convert(&core_event(), "events.k8s.io", "v1")?;
        assert_eq!(events, events_event());
        assert_eq!(keys(&events), keys(&events_event()));
        let core = convert(&events_event(), "", "v1")?;
        assert_eq!(core, core_event());
        assert_eq!(keys(&core), keys(&core_event()));
        Ok(())
    }

    #[test]
    fn single_fields_map_by_name() -> Result<(), ConversionError> {
        let cases = [
            (
                "involvedObject",
                "regarding",
                json!({"kind": "Pod", "name": "p"}),
            ),
            ("message", "note", json!("hello")),
            (
                "source",
                "deprecatedSource",
                json!({"component": "c", "host": "h"}),
            ),
            (
                "firstTimestamp",
                "deprecatedFirstTimestamp",
                json!("2025-01-01T00:00:00Z"),
            ),
            ("lastTimestamp", "deprecatedLastTimestamp", json!(null)),
            ("count", "deprecatedCount", json!(4)),
            (
                "reportingComponent",
                "reportingController",
                json!("k8s.io/kubelet"),
            ),
            (
                "reportingInstance",
                "reportingInstance",
                json!("kubelet-node-1"),
            ),
            ("reason", "reason", json!("Started")),
            ("type", "type", json!("Warning")),
            (
                "eventTime",
                "eventTime",
                json!("2025-01-01T00:00:00.000000Z"),
            ),
            (
                "series",
                "series",
                json!({"count": 5, "lastObservedTime": "2025-01-01T00:00:00.000000Z"}),
            ),
            ("action", "action", json!("Killing")),
            ("related", "related", json!({"kind": "Node", "name": "n"})),
        ];
        for (core_name, events_name, value) in cases {
            let core = json!({"apiVersion": "v1", "kind": "Event", core_name: value.clone()});
            let events =
                json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", events_name: value});
            assert_eq!(
                convert(&core, "events.k8s.io", "v1")?,
                events,
                "{core_name}"
            );
            assert_eq!(convert(&events, "", "v1")?, core, "{events_name}");
        }
        Ok(())
    }

    #[test]
    fn round_trips_are_lossless() -> Result<(), ConversionError> {
        let samples = [
            core_event(),
            json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}}),
            json!({"apiVersion": "v1", "kind": "Event", "message": "", "count": 0,
                   "firstTimestamp": null, "eventTime": null, "reportingComponent": ""}),
        ];
        for core in samples {
            let events = convert(&core, "events.k8s.io", "v1")?;
            assert_eq!(convert(&events, "", "v1")?, core);
        }
        let samples = [
            events_event(),
            json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"},
                   "eventTime": "2025-01-01T00:00:00.000000Z", "reportingController": "x",
                   "reportingInstance": "y", "action": "A", "reason": "R",
                   "regarding": {}, "deprecatedSource": {}}),
        ];
        for events in samples {
            let core = convert(&events, "", "v1")?;
            assert_eq!(convert(&core, "events.k8s.io", "v1")?, events);
        }
        Ok(())
    }

    #[test]
    fn fields_of_the_other_version_are_not_carried_over() -> Result<(), ConversionError> {
        let events = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
                            "note": "from note", "message": "stray", "extra": 1});
        let core = convert(&events, "", "v1")?;
        assert_eq!(
            core,
            json!({"apiVersion": "v1", "kind": "Event", "message": "from note", "extra": 1})
        );
        Ok(())
    }
}
