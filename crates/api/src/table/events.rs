//! Events, core (`v1`) and `events.k8s.io/v1`, printed alike.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::duration::since;
use super::fields::{int, name, text};
use super::printer::Printer;
use super::Column;

const EVENT_COLUMNS: &[Column] = &[
    Column::text("Last Seen", "Time since the event was last observed."),
    Column::text("Type", "Type of the event (Normal, Warning)."),
    Column::text("Reason", "Short machine-readable reason for the event."),
    Column::text("Object", "The object the event is about."),
    Column::text("Subobject", "The part of the object the event is about.").wide(),
    Column::text("Source", "The component that reported the event.").wide(),
    Column::text("Message", "Human-readable description of the event."),
    Column::text("First Seen", "Time since the event was first observed.").wide(),
    Column::text("Count", "How many times the event was observed.").wide(),
    Column {
        format: "name",
        ..Column::text("Name", super::column::NAME_DESCRIPTION).wide()
    },
];

pub(crate) const CORE_EVENT: Printer = Printer {
    columns: EVENT_COLUMNS,
    cells: core_event_cells,
};

pub(crate) const EVENTS_API_EVENT: Printer = Printer {
    columns: EVENT_COLUMNS,
    cells: events_api_event_cells,
};

/// Where each printed value sits in one of the two event representations.
struct EventFields {
    involved: &'static str,
    first_timestamp: &'static str,
    last_timestamp: &'static str,
    count: &'static str,
    source_component: &'static str,
    source_host: &'static str,
    message: &'static str,
}

const CORE_FIELDS: EventFields = EventFields {
    involved: "/involvedObject",
    first_timestamp: "/firstTimestamp",
    last_timestamp: "/lastTimestamp",
    count: "/count",
    source_component: "/source/component",
    source_host: "/source/host",
    message: "/message",
};

const EVENTS_API_FIELDS: EventFields = EventFields {
    involved: "/regarding",
    first_timestamp: "/deprecatedFirstTimestamp",
    last_timestamp: "/deprecatedLastTimestamp",
    count: "/deprecatedCount",
    source_component: "/deprecatedSource/component",
    source_host: "/deprecatedSource/host",
    message: "/note",
};

fn core_event_cells(event: &Value, now: Timestamp) -> Vec<Value> {
    event_cells(event, &CORE_FIELDS, now)
}

fn events_api_event_cells(event: &Value, now: Timestamp) -> Vec<Value> {
    event_cells(event, &EVENTS_API_FIELDS, now)
}

fn first_non_empty<'a>(first: &'a str, second: &'a str) -> &'a str {
    if first.is_empty() {
        second
    } else {
        first
    }
}

fn event_cells(event: &Value, fields: &EventFields, now: Timestamp) -> Vec<Value> {
    let stamp = |pointer: &str| Some(text(event, pointer)).filter(|t| !t.is_empty());
    let first_seen = match stamp(fields.first_timestamp) {
        Some(first) => since(Some(first), now),
        None => since(stamp("/eventTime"), now),
    };
    let mut last_seen = match stamp(fields.last_timestamp) {
        Some(last) => since(Some(last), now),
        None => first_seen.clone(),
    };
    let series = event.get("series").filter(|s| s.is_object());
    let count = match series {
        Some(series) => {
            last_seen = since(
                Some(text(series, "/lastObservedTime")).filter(|t| !t.is_empty()),
                now,
            );
            int(series, "/count")
        }
        None => match int(event, fields.count) {
            0 => 1,
            count => count,
        },
    };
    let involved = event.pointer(fields.involved).unwrap_or(&Value::Null);
    let kind = text(involved, "/kind").to_lowercase();
    let target = match text(involved, "/name") {
        "" => kind,
        involved_name => format!("{kind}/{involved_name}"),
    };
    let component = first_non_empty(
        text(event, fields.source_component),
        text(event, "/reportingController"),
    );
    let host = first_non_empty(
        text(event, fields.source_host),
        text(event, "/reportingInstance"),
    );
    let source = if host.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {host}")
    };
    vec![
        json!(last_seen),
        json!(text(event, "/type")),
        json!(text(event, "/reason")),
        json!(target),
        json!(text(involved, "/fieldPath")),
        json!(source),
        json!(text(event, fields.message).trim()),
        json!(first_seen),
        json!(count),
        json!(name(event)),
    ]
}
