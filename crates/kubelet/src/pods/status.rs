//! The PodStatus the kubelet reports, computed from the spec and the runtime's state (pure).

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::actions::Waiting;
use super::qos::qos_class;
use super::runtime_state::{nanos_to_timestamp, ContainerRecord, PodRuntimeState, RunState};
use super::sandbox_config::host_network;

pub struct StatusInputs<'a> {
    pub pod: &'a Pod,
    pub state: &'a PodRuntimeState,
    pub waiting: &'a BTreeMap<String, Waiting>,
    /// Container ids whose readiness probe passed (or that have none).
    pub ready: &'a HashSet<String>,
    /// Container ids whose startup probe passed (or that have none).
    pub started: &'a HashSet<String>,
    pub runtime_name: &'a str,
    pub node_ip: &'a str,
    /// Termination messages read from the containers' files, by container id.
    pub termination_messages: &'a HashMap<String, String>,
    pub now: Timestamp,
}

fn seconds(ts: Timestamp) -> Time {
    Time(Timestamp::from_second(ts.as_second()).unwrap_or(ts))
}

fn is_sidecar(container: &Container) -> bool {
    container.restart_policy.as_deref() == Some("Always")
}

fn terminated(c: &ContainerRecord, inputs: &StatusInputs<'_>) -> ContainerStateTerminated {
    let reason = if c.reason == "OOMKilled" {
        "OOMKilled"
    } else if c.exit_code == 0 {
        "Completed"
    } else {
        "Error"
    };
    let message = inputs
        .termination_messages
        .get(&c.id)
        .cloned()
        .or_else(|| Some(c.message.clone()))
        .filter(|m| !m.is_empty());
    ContainerStateTerminated {
        exit_code: c.exit_code,
        reason: Some(reason.to_string()),
        message,
        started_at: (c.started_at > 0).then(|| seconds(nanos_to_timestamp(c.started_at))),
        finished_at: (c.finished_at > 0).then(|| seconds(nanos_to_timestamp(c.finished_at))),
        container_id: Some(format!("{}://{}", inputs.runtime_name, c.id)),
        signal: None,
    }
}

fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_string()),
            message,
        }),
        ..ContainerState::default()
    }
}

fn container_status(
    container: &Container,
    default_waiting: &str,
    inputs: &StatusInputs<'_>,
) -> ContainerStatus {
    let name = &container.name;
    let latest = inputs.state.latest(name);
    let override_waiting = inputs.waiting.get(name);
    let mut last_state = inputs
        .state
        .previous(name)
        .filter(|p| p.state == RunState::Exited)
        .map(|p| ContainerState {
            terminated: Some(terminated(p, inputs)),
            ..ContainerState::default()
        });
    let state = match (latest, override_waiting) {
        (Some(c), Some(w)) if c.state == RunState::Exited => {
            last_state = Some(ContainerState {
                terminated: Some(terminated(c, inputs)),
                ..ContainerState::default()
            });
            waiting(&w.reason, Some(w.message.clone()))
        }
        (None, Some(w)) | (Some(_), Some(w))
            if latest.is_none_or(|c| c.state != RunState::Running) =>
        {
            waiting(&w.reason, Some(w.message.clone()))
        }
        (None, _) => waiting(default_waiting, None),
        (Some(c), _) => match c.state {
            RunState::Running => ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: Some(seconds(nanos_to_timestamp(c.started_at))),
                }),
                ..ContainerState::default()
            },
            RunState::Exited => ContainerState {
                terminated: Some(terminated(c, inputs)),
                ..ContainerState::default()
            },
            RunState::Created | RunState::Unknown => waiting("ContainerCreating", None),
        },
    };
    let running = latest.filter(|c| c.state == RunState::Running);
    ContainerStatus {
        name: name.clone(),
        image: container.image.clone().unwrap_or_default(),
        image_id: latest.map(|c| c.image_ref.clone()).unwrap_or_default(),
        container_id: latest.map(|c| format!("{}://{}", inputs.runtime_name, c.id)),
        ready: running.is_some_and(|c| inputs.ready.contains(&c.id)),
        started: Some(running.is_some_and(|c| inputs.started.contains(&c.id))),
        restart_count: latest.map(|c| c.restart_count).unwrap_or(0),
        state: Some(state),
        last_state: Some(last_state.unwrap_or_default()),
        ..ContainerStatus::default()
    }
}

fn is_terminated_with(status: &ContainerStatus, ok: impl Fn(i32) -> bool) -> bool {
    status
        .state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .is_some_and(|t| ok(t.exit_code))
}

fn has_last_termination(status: &ContainerStatus) -> bool {
    status
        .last_state
        .as_ref()
        .is_some_and(|s| s.terminated.is_some())
}

/// A sidecar that started once no longer holds up the pod: it may have exited since (a pod
/// that finishes stops its sidecars) or be restarting.
fn sidecar_initialized(status: &ContainerStatus) -> bool {
    status.started == Some(true)
        || is_terminated_with(status, |_| true)
        || has_last_termination(status)
}

/// Upstream's getPhase.
fn phase(pod: &Pod, init: &[(Container, ContainerStatus)], app: &[ContainerStatus]) -> String {
    let policy = pod
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always");
    let mut pending_init = 0;
    let mut failed_init = 0;
    for (container, status) in init {
        if is_sidecar(container) {
            if !sidecar_initialized(status) {
                pending_init += 1;
            }
            continue;
        }
        if is_terminated_with(status, |code| code == 0) {
            continue;
        }
        if is_terminated_with(status, |code| code != 0)
            || (status
                .state
                .as_ref()
                .and_then(|s| s.waiting.as_ref())
                .is_some()
                && has_last_termination(status))
        {
            failed_init += 1;
        }
        pending_init += 1;
    }
    if failed_init > 0 && policy == "Never" {
        return "Failed".into();
    }
    let (mut waiting, mut running, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for status in app {
        let state = status.state.clone().unwrap_or_default();
        if state.running.is_some() {
            running += 1;
        } else if let Some(t) = &state.terminated {
            stopped += 1;
            if t.exit_code == 0 {
                succeeded += 1;
            }
        } else if has_last_termination(status) {
            stopped += 1;
        } else {
            waiting += 1;
        }
    }
    if pending_init > 0 || waiting > 0 {
        return "Pending".into();
    }
    if running > 0 {
        return "Running".into();
    }
    if stopped > 0 {
        if policy == "Always" {
            return "Running".into();
        }
        if stopped == succeeded {
            return "Succeeded".into();
        }
        if policy == "Never" {
            return "Failed".into();
        }
        return "Running".into();
    }
    "Pending".into()
}

fn condition(
    type_: &str,
    ok: bool,
    reason: Option<&str>,
    message: Option<String>,
    old: &[PodCondition],
    now: Timestamp,
) -> PodCondition {
    let status = if ok { "True" } else { "False" };
    let transition = old
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .and_then(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| seconds(now));
    PodCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: reason.map(str::to_string),
        message,
        last_transition_time: Some(transition),
        last_probe_time: None,
        observed_generation: None,
    }
}

const OWN_CONDITIONS: [&str; 4] = [
    "PodReadyToStartContainers",
    "Initialized",
    "ContainersReady",
    "Ready",
];

pub fn pod_status(inputs: &StatusInputs<'_>) -> PodStatus {
    let pod = inputs.pod;
    let old = pod.status.clone().unwrap_or_default();
    let old_conditions = old.conditions.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let init_specs = spec.init_containers.clone().unwrap_or_default();
    let init: Vec<(Container, ContainerStatus)> = init_specs
        .iter()
        .map(|c| (c.clone(), container_status(c, "PodInitializing", inputs)))
        .collect();
    let not_initialized: Vec<String> = init
        .iter()
        .filter(|(c, s)| {
            if is_sidecar(c) {
                !sidecar_initialized(s)
            } else {
                !is_terminated_with(s, |code| code == 0)
            }
        })
        .map(|(c, _)| c.name.clone())
        .collect();
    let app_waiting = if not_initialized.is_empty() {
        "ContainerCreating"
    } else {
        "PodInitializing"
    };
    let app: Vec<ContainerStatus> = spec
        .containers
        .iter()
        .map(|c| container_status(c, app_waiting, inputs))
        .collect();

    let mut phase = phase(pod, &init, &app);
    if matches!(old.phase.as_deref(), Some("Succeeded" | "Failed")) {
        phase = old.phase.clone().unwrap_or(phase);
    }
    let now = inputs.now;
    let sandbox_ready = inputs.state.latest_sandbox().is_some_and(|s| s.ready);
    let unready: Vec<String> = init
        .iter()
        .filter(|(c, s)| is_sidecar(c) && !s.ready)
        .map(|(c, _)| c.name.clone())
        .chain(app.iter().filter(|s| !s.ready).map(|s| s.name.clone()))
        .collect();
    let mut conditions: Vec<PodCondition> = old_conditions
        .iter()
        .filter(|c| !OWN_CONDITIONS.contains(&c.type_.as_str()))
        .cloned()
        .collect();
    conditions.push(condition(
        "PodReadyToStartContainers",
        sandbox_ready,
        None,
        None,
        &old_conditions,
        now,
    ));
    if phase == "Succeeded" {
        conditions.push(condition(
            "Initialized",
            true,
            Some("PodCompleted"),
            None,
            &old_conditions,
            now,
        ));
        conditions.push(condition(
            "Ready",
            false,
            Some("PodCompleted"),
            None,
            &old_conditions,
            now,
        ));
        conditions.push(condition(
            "ContainersReady",
            false,
            Some("PodCompleted"),
            None,
            &old_conditions,
            now,
        ));
    } else {
        let initialized = not_initialized.is_empty();
        conditions.push(condition(
            "Initialized",
            initialized,
            (!initialized).then_some("ContainersNotInitialized"),
            (!initialized).then(|| {
                format!(
                    "containers with incomplete status: [{}]",
                    not_initialized.join(" ")
                )
            }),
            &old_conditions,
            now,
        ));
        let ready = unready.is_empty();
        let message =
            (!ready).then(|| format!("containers with unready status: [{}]", unready.join(" ")));
        let reason = (!ready).then_some("ContainersNotReady");
        conditions.push(condition(
            "Ready",
            ready,
            reason,
            message.clone(),
            &old_conditions,
            now,
        ));
        conditions.push(condition(
            "ContainersReady",
            ready,
            reason,
            message,
            &old_conditions,
            now,
        ));
    }

    let pod_ips: Vec<String> = if host_network(pod) {
        vec![inputs.node_ip.to_string()]
    } else {
        inputs
            .state
            .latest_sandbox()
            .map(|s| s.ips.clone())
            .unwrap_or_default()
    };
    let pod_ips = if pod_ips.is_empty() {
        old.pod_ips
            .clone()
            .map(|ips| ips.into_iter().map(|p| p.ip).collect())
            .unwrap_or_default()
    } else {
        pod_ips
    };
    PodStatus {
        phase: Some(phase),
        conditions: Some(conditions),
        host_ip: Some(inputs.node_ip.to_string()),
        host_ips: Some(vec![HostIP {
            ip: inputs.node_ip.to_string(),
        }]),
        pod_ip: pod_ips.first().cloned(),
        pod_ips: (!pod_ips.is_empty())
            .then(|| pod_ips.iter().map(|ip| PodIP { ip: ip.clone() }).collect()),
        start_time: old.start_time.clone().or_else(|| Some(seconds(now))),
        qos_class: Some(qos_class(pod).as_str().to_string()),
        init_container_statuses: (!init.is_empty())
            .then(|| init.into_iter().map(|(_, s)| s).collect()),
        container_statuses: Some(app),
        ..old
    }
}
