//! Workload controllers: deployments, replica sets, replication controllers, stateful sets,
//! daemon sets, jobs, cron jobs and controller revisions.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::column::{CONTAINERS_DESCRIPTION, IMAGES_DESCRIPTION};
use super::duration::{between, parse_time, since};
use super::fields::{
    age, bool_text, containers_and_images, controller_of, flag, formatted_label_selector, int,
    int_or, is_deleting, list, name, text, text_or,
};
use super::printer::Printer;
use super::Column;
use crate::selector::{format_labels, LabelSelector};

const CONTAINERS: Column = Column::text("Containers", CONTAINERS_DESCRIPTION).wide();
const IMAGES: Column = Column::text("Images", IMAGES_DESCRIPTION).wide();
const SELECTOR: Column =
    Column::text("Selector", "The label selector of the pods it manages.").wide();

fn template_containers(object: &Value) -> (String, String) {
    containers_and_images(object.pointer("/spec/template/spec"))
}

pub(crate) const DEPLOYMENT: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Ready", "Number of the pod with ready state"),
        Column::text(
            "Up-to-date",
            "Total number of pods running the latest template.",
        ),
        Column::text(
            "Available",
            "Total number of pods available for at least minReadySeconds.",
        ),
        Column::age(),
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    cells: deployment_cells,
};

fn deployment_cells(object: &Value, now: Timestamp) -> Vec<Value> {
    let (containers, images) = template_containers(object);
    let selector = match LabelSelector::from_label_selector_json(object.pointer("/spec/selector")) {
        Ok(selector) => selector.to_string(),
        Err(_) => "<invalid>".to_string(),
    };
    vec![
        json!(name(object)),
        json!(format!(
            "{}/{}",
            int(object, "/status/readyReplicas"),
            int_or(object, "/spec/replicas", 1)
        )),
        json!(int(object, "/status/updatedReplicas")),
        json!(int(object, "/status/availableReplicas")),
        json!(age(object, now)),
        json!(containers),
        json!(images),
        json!(selector),
    ]
}

const REPLICA_COLUMNS: &[Column] = &[
    Column::object_name(),
    Column::integer("Desired", "Number of desired pods."),
    Column::integer("Current", "Number of pods currently present."),
    Column::integer("Ready", "Number of pods that are ready."),
    Column::age(),
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

pub(crate) const REPLICA_SET: Printer = Printer {
    columns: REPLICA_COLUMNS,
    cells: replica_set_cells,
};

pub(crate) const REPLICATION_CONTROLLER: Printer = Printer {
    columns: REPLICA_COLUMNS,
    cells: replication_controller_cells,
};

fn replica_counts(object: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(object)),
        json!(int_or(object, "/spec/replicas", 1)),
        json!(int(object, "/status/replicas")),
        json!(int(object, "/status/readyReplicas")),
        json!(age(object, now)),
    ]
}

fn replica_set_cells(object: &Value, now: Timestamp) -> Vec<Value> {
    let (containers, images) = template_containers(object);
    let mut cells = replica_counts(object, now);
    cells.extend([
        json!(containers),
        json!(images),
        json!(formatted_label_selector(object.pointer("/spec/selector"))),
    ]);
    cells
}

fn replication_controller_cells(object: &Value, now: Timestamp) -> Vec<Value> {
    let (containers, images) = template_containers(object);
    let mut cells = replica_counts(object, now);
    cells.extend([
        json!(containers),
        json!(images),
        json!(format_labels(object.pointer("/spec/selector"))),
    ]);
    cells
}

pub(crate) const STATEFUL_SET: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Ready", "Number of the pod with ready state"),
        Column::age(),
        CONTAINERS,
        IMAGES,
    ],
    cells: stateful_set_cells,
};

fn stateful_set_cells(object: &Value, now: Timestamp) -> Vec<Value> {
    let (containers, images) = template_containers(object);
    vec![
        json!(name(object)),
        json!(format!(
            "{}/{}",
            int(object, "/status/readyReplicas"),
            int_or(object, "/spec/replicas", 1)
        )),
        json!(age(object, now)),
        json!(containers),
        json!(images),
    ]
}

pub(crate) const DAEMON_SET: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::integer("Desired", "Number of nodes that should run the daemon pod."),
        Column::integer(
            "Current",
            "Number of nodes running at least one daemon pod.",
        ),
        Column::integer("Ready", "Number of nodes with a ready daemon pod."),
        Column::integer(
            "Up-to-date",
            "Number of nodes running the updated daemon pod.",
        ),
        Column::integer("Available", "Number of nodes with an available daemon pod."),
        Column::text("Node Selector", "The node selector of the pod template."),
        Column::age(),
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    cells: daemon_set_cells,
};

fn daemon_set_cells(object: &Value, now: Timestamp) -> Vec<Value> {
    let (containers, images) = template_containers(object);
    vec![
        json!(name(object)),
        json!(int(object, "/status/desiredNumberScheduled")),
        json!(int(object, "/status/currentNumberScheduled")),
        json!(int(object, "/status/numberReady")),
        json!(int(object, "/status/updatedNumberScheduled")),
        json!(int(object, "/status/numberAvailable")),
        json!(format_labels(
            object.pointer("/spec/template/spec/nodeSelector")
        )),
        json!(age(object, now)),
        json!(containers),
        json!(images),
        json!(formatted_label_selector(object.pointer("/spec/selector"))),
    ]
}

pub(crate) const JOB: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Status", "Status of the job."),
        Column::text(
            "Completions",
            "The number of pods which reached phase Succeeded.",
        ),
        Column::text("Duration", "Time required to complete the job."),
        Column::age(),
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    cells: job_cells,
};

/// Whether the first condition of this type is true.
fn has_condition(object: &Value, condition_type: &str) -> bool {
    list(object, "/status/conditions")
        .iter()
        .find(|c| text(c, "/type") == condition_type)
        .is_some_and(|c| text(c, "/status") == "True")
}

fn job_status(job: &Value) -> &'static str {
    if has_condition(job, "Complete") {
        "Complete"
    } else if has_condition(job, "Failed") {
        "Failed"
    } else if is_deleting(job) {
        "Terminating"
    } else if has_condition(job, "Suspended") {
        "Suspended"
    } else if has_condition(job, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

fn job_cells(job: &Value, now: Timestamp) -> Vec<Value> {
    let succeeded = int(job, "/status/succeeded");
    let completions = match job.pointer("/spec/completions").and_then(Value::as_i64) {
        Some(wanted) => format!("{succeeded}/{wanted}"),
        None => match int(job, "/spec/parallelism") {
            parallelism if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let started = parse_time(job.pointer("/status/startTime").and_then(Value::as_str));
    let completed = parse_time(
        job.pointer("/status/completionTime")
            .and_then(Value::as_str),
    );
    let duration = match (started, completed) {
        (None, _) => String::new(),
        (Some(start), None) => between(start, now),
        (Some(start), Some(end)) => between(start, end),
    };
    let (containers, images) = template_containers(job);
    vec![
        json!(name(job)),
        json!(job_status(job)),
        json!(completions),
        json!(duration),
        json!(age(job, now)),
        json!(containers),
        json!(images),
        json!(formatted_label_selector(job.pointer("/spec/selector"))),
    ]
}

pub(crate) const CRON_JOB: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Schedule", "The schedule in Cron format."),
        Column::text("Timezone", "The time zone the schedule is read in."),
        Column::boolean("Suspend", "Whether further runs are suspended."),
        Column::integer("Active", "Number of jobs currently running."),
        Column::text("Last Schedule", "Time since the job was last scheduled."),
        Column::age(),
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    cells: cron_job_cells,
};

fn cron_job_cells(cron_job: &Value, now: Timestamp) -> Vec<Value> {
    let last_schedule = match cron_job
        .pointer("/status/lastScheduleTime")
        .and_then(Value::as_str)
    {
        Some(time) => since(Some(time), now),
        None => "<none>".to_string(),
    };
    let job_template = cron_job.pointer("/spec/jobTemplate/spec");
    let (containers, images) =
        containers_and_images(job_template.and_then(|t| t.pointer("/template/spec")));
    vec![
        json!(name(cron_job)),
        json!(text(cron_job, "/spec/schedule")),
        json!(text_or(cron_job, "/spec/timeZone", "<none>")),
        json!(bool_text(flag(cron_job, "/spec/suspend"))),
        json!(list(cron_job, "/status/active").len()),
        json!(last_schedule),
        json!(age(cron_job, now)),
        json!(containers),
        json!(images),
        json!(formatted_label_selector(
            job_template.and_then(|t| t.get("selector"))
        )),
    ]
}

pub(crate) const CONTROLLER_REVISION: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Controller", "Controller of the object"),
        Column::text("Revision", "The revision number of the state it records."),
        Column::age(),
    ],
    cells: controller_revision_cells,
};

fn controller_revision_cells(object: &Value, now: Timestamp) -> Vec<Value> {
    let controller = controller_of(object).map_or_else(
        || "<none>".to_string(),
        |owner| {
            let api_version = text(owner, "/apiVersion");
            let kind = text(owner, "/kind").to_lowercase();
            let group = api_version
                .rsplit_once('/')
                .map(|(g, _)| g)
                .unwrap_or_default();
            let group_kind = if group.is_empty() {
                kind
            } else {
                format!("{kind}.{group}")
            };
            format!("{group_kind}/{}", text(owner, "/name"))
        },
    );
    vec![
        json!(name(object)),
        json!(controller),
        json!(int(object, "/revision")),
        json!(age(object, now)),
    ]
}
