//! Pods and pod templates.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::column::{CONTAINERS_DESCRIPTION, IMAGES_DESCRIPTION};
use super::duration::{between, parse_time};
use super::fields::{
    age, containers_and_images, flag, int, is_deleting, list, name, text, text_or,
};
use super::printer::Printer;
use super::Column;
use crate::selector::format_labels;

pub(crate) const POD: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        Column::text("Status", "The aggregate status of the containers in this pod."),
        Column::text(
            "Restarts",
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        ),
        Column::age(),
        Column::text("IP", "IP address allocated to the pod.").wide(),
        Column::text("Node", "The node the pod is scheduled onto.").wide(),
        Column::text("Nominated Node", "The node the scheduler nominated for preemption.").wide(),
        Column::text("Readiness Gates", "How many readiness gates of the pod are true.").wide(),
    ],
    cells: pod_cells,
};

pub(crate) const POD_TEMPLATE: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Containers", CONTAINERS_DESCRIPTION),
        Column::text("Images", IMAGES_DESCRIPTION),
        Column::text("Pod Labels", "The labels for the pod template."),
    ],
    cells: pod_template_cells,
};

fn pod_template_cells(object: &Value, _now: Timestamp) -> Vec<Value> {
    let (names, images) = containers_and_images(object.pointer("/template/spec"));
    vec![
        json!(name(object)),
        json!(names),
        json!(images),
        json!(format_labels(object.pointer("/template/metadata/labels"))),
    ]
}

/// Restart counts and the latest restart time seen so far.
#[derive(Default)]
struct Restarts {
    count: i64,
    last: Option<Timestamp>,
}

impl Restarts {
    fn add(&mut self, status: &Value) {
        self.count += int(status, "/restartCount");
        let finished = parse_time(
            status
                .pointer("/lastState/terminated/finishedAt")
                .and_then(Value::as_str),
        );
        if let Some(finished) = finished {
            if self.last.is_none_or(|last| last < finished) {
                self.last = Some(finished);
            }
        }
    }
}

fn condition_is_true(object: &Value, condition_type: &str) -> bool {
    list(object, "/status/conditions")
        .iter()
        .find(|c| text(c, "/type") == condition_type)
        .is_some_and(|c| text(c, "/status") == "True")
}

/// "Init:<reason>", "Init:Signal:<n>" or "Init:ExitCode:<n>" for a failed init container, and
/// the same without the prefix for a terminated app container.
fn terminated_reason(terminated: &Value, prefix: &str) -> String {
    let reason = text(terminated, "/reason");
    if !reason.is_empty() {
        return format!("{prefix}{reason}");
    }
    let signal = int(terminated, "/signal");
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!("{prefix}ExitCode:{}", int(terminated, "/exitCode"))
    }
}

fn pod_cells(pod: &Value, now: Timestamp) -> Vec<Value> {
    let init_specs = list(pod, "/spec/initContainers");
    let is_sidecar = |container_name: &str| {
        init_specs
            .iter()
            .any(|c| text(c, "/name") == container_name && text(c, "/restartPolicy") == "Always")
    };
    let sidecars = init_specs
        .iter()
        .filter(|c| text(c, "/restartPolicy") == "Always")
        .count();
    let total = list(pod, "/spec/containers").len() + sidecars;
    let mut ready = 0usize;

    let phase = text(pod, "/status/phase");
    let mut reason = text_or(pod, "/status/reason", phase);
    let scheduling_gated = list(pod, "/status/conditions")
        .iter()
        .any(|c| text(c, "/type") == "PodScheduled" && text(c, "/reason") == "SchedulingGated");
    if scheduling_gated {
        reason = "SchedulingGated".to_string();
    }

    let mut all_restarts = Restarts::default();
    let mut sidecar_restarts = Restarts::default();
    let mut initializing = false;
    for (i, status) in list(pod, "/status/initContainerStatuses")
        .iter()
        .enumerate()
    {
        all_restarts.add(status);
        let sidecar = is_sidecar(text(status, "/name"));
        if sidecar {
            sidecar_restarts.add(status);
        }
        let terminated = status
            .pointer("/state/terminated")
            .filter(|t| t.is_object());
        let waiting_reason = text(status, "/state/waiting/reason");
        if terminated.is_some_and(|t| int(t, "/exitCode") == 0) {
            continue;
        }
        if sidecar && flag(status, "/started") == Some(true) {
            if flag(status, "/ready") == Some(true) {
                ready += 1;
            }
            continue;
        }
        reason = match terminated {
            Some(t) => terminated_reason(t, "Init:"),
            None if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" => {
                format!("Init:{waiting_reason}")
            }
            None => format!("Init:{i}/{}", init_specs.len()),
        };
        initializing = true;
        break;
    }

    let mut restarts = all_restarts;
    if !initializing || condition_is_true(pod, "Initialized") {
        restarts = sidecar_restarts;
        let mut has_running = false;
        for status in list(pod, "/status/containerStatuses").iter().rev() {
            restarts.add(status);
            let waiting_reason = text(status, "/state/waiting/reason");
            let terminated = status
                .pointer("/state/terminated")
                .filter(|t| t.is_object());
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = terminated {
                reason = terminated_reason(t, "");
            } else if flag(status, "/ready") == Some(true)
                && status
                    .pointer("/state/running")
                    .is_some_and(Value::is_object)
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_is_true(pod, "Ready") {
                "Running".to_string()
            } else {
                "NotReady".to_string()
            };
        }
    }

    if is_deleting(pod) && text(pod, "/status/reason") == "NodeLost" {
        reason = "Unknown".to_string();
    } else if is_deleting(pod) && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }

    let restarts_text = match restarts.last {
        Some(last) if restarts.count != 0 => {
            format!("{} ({} ago)", restarts.count, between(last, now))
        }
        _ => restarts.count.to_string(),
    };

    vec![
        json!(name(pod)),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_text),
        json!(age(pod, now)),
        json!(text_or(pod, "/status/podIPs/0/ip", "<none>")),
        json!(text_or(pod, "/spec/nodeName", "<none>")),
        json!(text_or(pod, "/status/nominatedNodeName", "<none>")),
        json!(readiness_gates(pod)),
    ]
}

fn readiness_gates(pod: &Value) -> String {
    let gates = list(pod, "/spec/readinessGates");
    if gates.is_empty() {
        return "<none>".to_string();
    }
    let passing = gates
        .iter()
        .filter(|gate| condition_is_true(pod, text(gate, "/conditionType")))
        .count();
    format!("{passing}/{}", gates.len())
}
