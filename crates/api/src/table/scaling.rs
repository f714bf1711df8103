//! Autoscaling and disruption budgets: HorizontalPodAutoscalers (v2 and v1 shapes) and
//! PodDisruptionBudgets.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::fields::{age, int, list, name, scalar_text, text};
use super::printer::Printer;
use super::Column;

pub(crate) const HORIZONTAL_POD_AUTOSCALER: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Reference", "The object whose scale is managed."),
        Column::text("Targets", "Current and target values of each metric."),
        Column::text("MinPods", "The lower replica limit."),
        Column::text("MaxPods", "The upper replica limit."),
        Column::text("Replicas", "Current number of replicas."),
        Column::age(),
    ],
    cells: horizontal_pod_autoscaler_cells,
};

const UNKNOWN: &str = "<unknown>";

/// The quantity at `pointer` of a metric status, or "<unknown>".
fn current(status: Option<&Value>, pointer: &str) -> String {
    status
        .map(|s| scalar_text(s, pointer, UNKNOWN))
        .unwrap_or_else(|| UNKNOWN.to_string())
}

fn percent(value: Option<&Value>, fallback: &str) -> String {
    value
        .and_then(Value::as_i64)
        .map_or_else(|| fallback.to_string(), |n| format!("{n}%"))
}

/// One metric as "current/target", upstream's layout per metric type.
fn format_metric(spec: &Value, status: Option<&Value>) -> String {
    let metric_type = text(spec, "/type");
    let source_key = match metric_type {
        "External" => "external",
        "Pods" => "pods",
        "Object" => "object",
        "Resource" => "resource",
        "ContainerResource" => "containerResource",
        _ => return "<unknown type>".to_string(),
    };
    let source = spec.get(source_key).unwrap_or(&Value::Null);
    let status = status
        .and_then(|s| s.get(source_key))
        .filter(|s| s.is_object());
    let target = source.get("target").unwrap_or(&Value::Null);
    let average_target = target.get("averageValue").filter(|v| !v.is_null());
    match metric_type {
        "Pods" => format!(
            "{}/{}",
            current(status, "/current/averageValue"),
            scalar_text(target, "/averageValue", "")
        ),
        "External" | "Object" => match average_target {
            Some(_) => format!(
                "{}/{} (avg)",
                current(status, "/current/averageValue"),
                scalar_text(target, "/averageValue", "")
            ),
            None => format!(
                "{}/{}",
                current(status, "/current/value"),
                scalar_text(target, "/value", "")
            ),
        },
        _ => {
            let resource = text(source, "/name");
            match average_target {
                Some(_) => format!(
                    "{resource}: {}/{}",
                    current(status, "/current/averageValue"),
                    scalar_text(target, "/averageValue", "")
                ),
                None => format!(
                    "{resource}: {}/{}",
                    percent(
                        status.and_then(|s| s.pointer("/current/averageUtilization")),
                        UNKNOWN
                    ),
                    percent(target.get("averageUtilization"), "<auto>")
                ),
            }
        }
    }
}

/// The metrics of a v2 HPA, or the CPU target of a v1 one, as v2 metric specs and statuses.
fn metrics_of(hpa: &Value) -> (Vec<Value>, Vec<Value>) {
    if hpa.pointer("/spec/metrics").is_some()
        || hpa
            .pointer("/spec/targetCPUUtilizationPercentage")
            .is_none()
    {
        return (
            list(hpa, "/spec/metrics").to_vec(),
            list(hpa, "/status/currentMetrics").to_vec(),
        );
    }
    let spec = json!({
        "type": "Resource",
        "resource": {"name": "cpu", "target": {
            "type": "Utilization",
            "averageUtilization": hpa.pointer("/spec/targetCPUUtilizationPercentage"),
        }},
    });
    let statuses = match hpa.pointer("/status/currentCPUUtilizationPercentage") {
        Some(current) => vec![json!({
            "type": "Resource",
            "resource": {"name": "cpu", "current": {"averageUtilization": current}},
        })],
        None => Vec::new(),
    };
    (vec![spec], statuses)
}

fn targets(hpa: &Value) -> String {
    let (specs, statuses) = metrics_of(hpa);
    if specs.is_empty() {
        return "<none>".to_string();
    }
    let shown: Vec<String> = specs
        .iter()
        .enumerate()
        .take(2)
        .map(|(i, spec)| format_metric(spec, statuses.get(i)))
        .collect();
    if specs.len() > 2 {
        format!("{} + {} more...", shown.join(", "), specs.len() - 2)
    } else {
        shown.join(", ")
    }
}

fn horizontal_pod_autoscaler_cells(hpa: &Value, now: Timestamp) -> Vec<Value> {
    let min_pods = hpa
        .pointer("/spec/minReplicas")
        .and_then(Value::as_i64)
        .map_or_else(|| "<unset>".to_string(), |n| n.to_string());
    vec![
        json!(name(hpa)),
        json!(format!(
            "{}/{}",
            text(hpa, "/spec/scaleTargetRef/kind"),
            text(hpa, "/spec/scaleTargetRef/name")
        )),
        json!(targets(hpa)),
        json!(min_pods),
        json!(int(hpa, "/spec/maxReplicas")),
        json!(int(hpa, "/status/currentReplicas")),
        json!(age(hpa, now)),
    ]
}

pub(crate) const POD_DISRUPTION_BUDGET: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text(
            "Min Available",
            "The minimum number of pods that must be available.",
        ),
        Column::text(
            "Max Unavailable",
            "The maximum number of pods that may be unavailable.",
        ),
        Column::integer(
            "Allowed Disruptions",
            "Calculated number of pods that may be disrupted at this time.",
        ),
        Column::age(),
    ],
    cells: pod_disruption_budget_cells,
};

fn pod_disruption_budget_cells(budget: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(budget)),
        json!(scalar_text(budget, "/spec/minAvailable", "N/A")),
        json!(scalar_text(budget, "/spec/maxUnavailable", "N/A")),
        json!(int(budget, "/status/disruptionsAllowed")),
        json!(age(budget, now)),
    ]
}
