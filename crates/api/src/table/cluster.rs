//! Cluster-wide policy objects: priority and runtime classes, admission webhooks and policies,
//! API priority and fairness, and aggregated APIServices.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::fields::{age, flag, int, list, name, text, text_or};
use super::printer::Printer;
use super::Column;
use crate::selector::LabelSelector;

pub(crate) const PRIORITY_CLASS: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::integer("Value", "The priority of pods of this class."),
        Column::boolean(
            "Global-Default",
            "Whether pods without a class get this one.",
        ),
        Column::age(),
        Column::text(
            "PreemptionPolicy",
            "Whether pods of this class may preempt others.",
        )
        .wide(),
    ],
    cells: priority_class_cells,
};

fn priority_class_cells(class: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(class)),
        json!(int(class, "/value")),
        json!(flag(class, "/globalDefault").unwrap_or(false)),
        json!(age(class, now)),
        json!(text(class, "/preemptionPolicy")),
    ]
}

pub(crate) const RUNTIME_CLASS: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Handler", "The container runtime handler of the class."),
        Column::age(),
    ],
    cells: runtime_class_cells,
};

fn runtime_class_cells(class: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(class)),
        json!(text(class, "/handler")),
        json!(age(class, now)),
    ]
}

pub(crate) const WEBHOOK_CONFIGURATION: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::integer(
            "Webhooks",
            "Webhooks indicates the number of webhooks registered in this configuration",
        ),
        Column::age(),
    ],
    cells: webhook_configuration_cells,
};

fn webhook_configuration_cells(configuration: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(configuration)),
        json!(list(configuration, "/webhooks").len()),
        json!(age(configuration, now)),
    ]
}

pub(crate) const VALIDATING_ADMISSION_POLICY: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::integer(
            "Validations",
            "Validations indicates the number of validation rules defined in this configuration",
        ),
        Column::text(
            "ParamKind",
            "ParamKind specifies the kind of resources used to parameterize this policy",
        ),
        Column::age(),
    ],
    cells: validating_admission_policy_cells,
};

fn validating_admission_policy_cells(policy: &Value, now: Timestamp) -> Vec<Value> {
    let param_kind = match policy.pointer("/spec/paramKind").filter(|p| p.is_object()) {
        Some(kind) => format!("{}/{}", text(kind, "/apiVersion"), text(kind, "/kind")),
        None => "<unset>".to_string(),
    };
    vec![
        json!(name(policy)),
        json!(list(policy, "/spec/validations").len()),
        json!(param_kind),
        json!(age(policy, now)),
    ]
}

pub(crate) const VALIDATING_ADMISSION_POLICY_BINDING: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text(
            "PolicyName",
            "PolicyName indicates the policy definition which the policy binding binded to",
        ),
        Column::text(
            "ParamRef",
            "ParamRef indicates the param resource which sets the configration param",
        ),
        Column::age(),
    ],
    cells: validating_admission_policy_binding_cells,
};

fn validating_admission_policy_binding_cells(binding: &Value, now: Timestamp) -> Vec<Value> {
    let param = match binding.pointer("/spec/paramRef").filter(|p| p.is_object()) {
        None => "<unset>".to_string(),
        Some(reference) => match (text(reference, "/name"), text(reference, "/namespace")) {
            ("", _) => match reference.get("selector").filter(|s| s.is_object()) {
                Some(selector) => LabelSelector::from_label_selector_json(Some(selector))
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                None => "<unset>".to_string(),
            },
            (param_name, "") => format!("*/{param_name}"),
            (param_name, namespace) => format!("{namespace}/{param_name}"),
        },
    };
    vec![
        json!(name(binding)),
        json!(text(binding, "/spec/policyName")),
        json!(param),
        json!(age(binding, now)),
    ]
}

pub(crate) const FLOW_SCHEMA: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text(
            "PriorityLevel",
            "The priority level requests of this schema go to.",
        ),
        Column::text("MatchingPrecedence", "Lower values are matched first."),
        Column::text("DistinguisherMethod", "How flows are told apart."),
        Column::age(),
        Column::text(
            "MissingPL",
            "references a broken or non-existent PriorityLevelConfiguration",
        ),
    ],
    cells: flow_schema_cells,
};

fn flow_schema_cells(schema: &Value, now: Timestamp) -> Vec<Value> {
    let missing = list(schema, "/status/conditions")
        .iter()
        .find(|c| text(c, "/type") == "Dangling")
        .map_or("?", |c| text(c, "/status"));
    vec![
        json!(name(schema)),
        json!(text(schema, "/spec/priorityLevelConfiguration/name")),
        json!(int(schema, "/spec/matchingPrecedence")),
        json!(text_or(schema, "/spec/distinguisherMethod/type", "<none>")),
        json!(age(schema, now)),
        json!(missing),
    ]
}

pub(crate) const PRIORITY_LEVEL_CONFIGURATION: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Type", "Exempt or Limited."),
        Column::text(
            "NominalConcurrencyShares",
            "The share of concurrency the level gets.",
        ),
        Column::text("Queues", "Number of queues."),
        Column::text("HandSize", "Number of queues a flow is dealt."),
        Column::text("QueueLengthLimit", "Requests a queue may hold."),
        Column::age(),
    ],
    cells: priority_level_cells,
};

fn number_or_none(object: &Value, pointer: &str) -> Value {
    object
        .pointer(pointer)
        .and_then(Value::as_i64)
        .map_or_else(|| json!("<none>"), |n| json!(n))
}

fn priority_level_cells(level: &Value, now: Timestamp) -> Vec<Value> {
    let limited = level.pointer("/spec/limited").filter(|l| l.is_object());
    let (shares, queues, hand_size, queue_length) = match limited {
        None => (
            json!("<none>"),
            json!("<none>"),
            json!("<none>"),
            json!("<none>"),
        ),
        Some(limited) => {
            let shares = json!(int(limited, "/nominalConcurrencyShares"));
            match limited
                .pointer("/limitResponse/queuing")
                .filter(|q| q.is_object())
            {
                Some(queuing) => (
                    shares,
                    number_or_none(queuing, "/queues"),
                    number_or_none(queuing, "/handSize"),
                    number_or_none(queuing, "/queueLengthLimit"),
                ),
                None => (shares, json!("<none>"), json!("<none>"), json!("<none>")),
            }
        }
    };
    vec![
        json!(name(level)),
        json!(text(level, "/spec/type")),
        shares,
        queues,
        hand_size,
        queue_length,
        json!(age(level, now)),
    ]
}

pub(crate) const API_SERVICE: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text(
            "Service",
            "The reference to the service that hosts this API endpoint.",
        ),
        Column::text("Available", "Whether this service is available."),
        Column::age(),
    ],
    cells: api_service_cells,
};

fn api_service_cells(service: &Value, now: Timestamp) -> Vec<Value> {
    let backend = match service.pointer("/spec/service").filter(|s| s.is_object()) {
        Some(s) => format!("{}/{}", text(s, "/namespace"), text(s, "/name")),
        None => "Local".to_string(),
    };
    let available = list(service, "/status/conditions")
        .iter()
        .find(|c| text(c, "/type") == "Available")
        .map_or_else(
            || "Unknown".to_string(),
            |c| match (text(c, "/status"), text(c, "/reason")) {
                ("True", _) => "True".to_string(),
                (status, "") => status.to_string(),
                (status, reason) => format!("{status} ({reason})"),
            },
        );
    vec![
        json!(name(service)),
        json!(backend),
        json!(available),
        json!(age(service, now)),
    ]
}
