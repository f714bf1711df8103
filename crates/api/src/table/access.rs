//! Access: role bindings and certificate signing requests.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::duration::human_duration;
use super::fields::{age, list, name, text, text_or};
use super::printer::Printer;
use super::Column;

const BINDING_COLUMNS: &[Column] = &[
    Column::object_name(),
    Column::text("Role", "The role the binding grants."),
    Column::age(),
    Column::text("Users", "Users in the binding").wide(),
    Column::text("Groups", "Groups in the binding").wide(),
    Column::text("ServiceAccounts", "ServiceAccounts in the binding").wide(),
];

pub(crate) const ROLE_BINDING: Printer = Printer {
    columns: BINDING_COLUMNS,
    cells: binding_cells,
};

fn binding_cells(binding: &Value, now: Timestamp) -> Vec<Value> {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut service_accounts = Vec::new();
    for subject in list(binding, "/subjects") {
        match text(subject, "/kind") {
            "ServiceAccount" => service_accounts.push(format!(
                "{}/{}",
                text(subject, "/namespace"),
                text(subject, "/name")
            )),
            "User" => users.push(text(subject, "/name").to_string()),
            "Group" => groups.push(text(subject, "/name").to_string()),
            _ => {}
        }
    }
    vec![
        json!(name(binding)),
        json!(format!(
            "{}/{}",
            text(binding, "/roleRef/kind"),
            text(binding, "/roleRef/name")
        )),
        json!(age(binding, now)),
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(service_accounts.join(", ")),
    ]
}

pub(crate) const CERTIFICATE_SIGNING_REQUEST: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::age(),
        Column::text("SignerName", "The signer asked to sign the certificate."),
        Column::text("Requestor", "The user who created the request."),
        Column::text("RequestedDuration", "The validity the requestor asked for."),
        Column::text("Condition", "Approval and issuance state of the request."),
    ],
    cells: csr_cells,
};

fn csr_condition(csr: &Value) -> String {
    let has = |condition_type: &str| {
        list(csr, "/status/conditions")
            .iter()
            .any(|c| text(c, "/type") == condition_type)
    };
    let mut condition = if has("Denied") {
        "Denied".to_string()
    } else if has("Approved") {
        "Approved".to_string()
    } else {
        "Pending".to_string()
    };
    if has("Failed") {
        condition.push_str(",Failed");
    }
    if !text(csr, "/status/certificate").is_empty() {
        condition.push_str(",Issued");
    }
    condition
}

fn csr_cells(csr: &Value, now: Timestamp) -> Vec<Value> {
    let requested = csr
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_i64)
        .map_or_else(|| "<none>".to_string(), human_duration);
    vec![
        json!(name(csr)),
        json!(age(csr, now)),
        json!(text_or(csr, "/spec/signerName", "<none>")),
        json!(text(csr, "/spec/username")),
        json!(requested),
        json!(csr_condition(csr)),
    ]
}
