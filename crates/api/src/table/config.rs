//! Configuration objects: config maps, secrets, service accounts, resource quotas.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::fields::{age, entries, name, scalar_text, text};
use super::printer::Printer;
use super::Column;

pub(crate) const CONFIG_MAP: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Data", "Number of entries in data and binaryData."),
        Column::age(),
    ],
    cells: config_map_cells,
};

fn config_map_cells(object: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(object)),
        json!(entries(object, "/data") + entries(object, "/binaryData")),
        json!(age(object, now)),
    ]
}

pub(crate) const SECRET: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Type", "The type of the secret."),
        Column::text("Data", "Number of entries in data."),
        Column::age(),
    ],
    cells: secret_cells,
};

fn secret_cells(object: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(object)),
        json!(text(object, "/type")),
        json!(entries(object, "/data")),
        json!(age(object, now)),
    ]
}

pub(crate) const SERVICE_ACCOUNT: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text(
            "Secrets",
            "Number of secrets listed for the service account.",
        ),
        Column::age(),
    ],
    cells: service_account_cells,
};

fn service_account_cells(object: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(object)),
        json!(entries(object, "/secrets")),
        json!(age(object, now)),
    ]
}

pub(crate) const RESOURCE_QUOTA: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text(
            "Request",
            "Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        Column::text(
            "Limit",
            "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
        ),
        Column::age(),
    ],
    cells: resource_quota_cells,
};

/// "resource: used/hard" for each hard limit, sorted by resource name; `limits.*` resources
/// go to the limit column, every other to the request column.
fn resource_quota_cells(quota: &Value, now: Timestamp) -> Vec<Value> {
    let mut resources: Vec<&String> = quota
        .pointer("/status/hard")
        .and_then(Value::as_object)
        .map(|hard| hard.keys().collect())
        .unwrap_or_default();
    resources.sort();
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    for resource in resources {
        let key = resource.replace('~', "~0").replace('/', "~1");
        let used = scalar_text(quota, &format!("/status/used/{key}"), "0");
        let hard = scalar_text(quota, &format!("/status/hard/{key}"), "0");
        let entry = format!("{resource}: {used}/{hard}");
        if resource.starts_with("limits.") {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    vec![
        json!(name(quota)),
        json!(requests.join(", ")),
        json!(limits.join(", ")),
        json!(age(quota, now)),
    ]
}
