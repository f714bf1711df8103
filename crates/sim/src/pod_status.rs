//! The statuses a kubelet would post for a pod: running, completed, or stopped for deletion.
//! Pure functions: the pod and the facts in, the status (to strategic-merge-patch) out.

use std::net::Ipv4Addr;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStatus,
    HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Where a started pod lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub host_ip: Ipv4Addr,
    pub pod_ip: Ipv4Addr,
}

/// How the containers of a pod that stops ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Ran to completion: exit 0, phase Succeeded.
    Completed,
    /// Stopped by SIGTERM before completing: exit 143, phase Failed.
    Killed,
}

impl Ending {
    /// A pod deleted while it runs: a restartPolicy Always pod ends cleanly as servers do on
    /// SIGTERM; a Job's pod (Never, OnFailure) was killed before its work was done.
    pub fn on_deletion(pod: &Pod) -> Ending {
        if restart_policy(pod) == "Always" {
            Ending::Completed
        } else {
            Ending::Killed
        }
    }

    fn phase(self) -> &'static str {
        match self {
            Ending::Completed => "Succeeded",
            Ending::Killed => "Failed",
        }
    }

    fn terminated(self, started: Timestamp, finished: Timestamp) -> ContainerStateTerminated {
        let (exit_code, reason) = match self {
            Ending::Completed => (0, "Completed"),
            Ending::Killed => (143, "Error"),
        };
        ContainerStateTerminated {
            exit_code,
            reason: Some(reason.to_string()),
            started_at: Some(Time(started)),
            finished_at: Some(Time(finished)),
            ..ContainerStateTerminated::default()
        }
    }
}

pub fn restart_policy(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.restart_policy.as_deref())
        .unwrap_or("Always")
}

pub fn uses_host_network(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.host_network)
        .unwrap_or(false)
}

/// When the pod was started: its status.startTime.
pub fn start_time(pod: &Pod) -> Option<Timestamp> {
    pod.status
        .as_ref()
        .and_then(|status| status.start_time.as_ref())
        .map(|time| time.0)
}

/// The pod's current IPv4 address, if it has one.
pub fn current_pod_ip(pod: &Pod) -> Option<Ipv4Addr> {
    pod.status
        .as_ref()
        .and_then(|status| status.pod_ip.as_deref())
        .and_then(|ip| ip.parse().ok())
}

fn containers(pod: &Pod) -> &[Container] {
    pod.spec
        .as_ref()
        .map(|spec| spec.containers.as_slice())
        .unwrap_or_default()
}

fn init_containers(pod: &Pod) -> &[Container] {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.init_containers.as_deref())
        .unwrap_or_default()
}

/// A sidecar: an init container with restartPolicy Always keeps running beside the others.
fn is_sidecar(container: &Container) -> bool {
    container.restart_policy.as_deref() == Some("Always")
}

fn pod_uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or("")
}

/// True when the containers run as `running_status` describes them: the pod was started.
pub fn is_running(pod: &Pod) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    let statuses = status.container_statuses.as_deref().unwrap_or_default();
    status.phase.as_deref() == Some("Running")
        && statuses.len() == containers(pod).len()
        && statuses.iter().all(|s| {
            s.state
                .as_ref()
                .is_some_and(|state| state.running.is_some())
        })
}

/// The pod started and ready: init containers completed, containers running.
pub fn running_status(pod: &Pod, placement: Placement, now: Timestamp) -> PodStatus {
    let started = start_time(pod).unwrap_or(now);
    let uid = pod_uid(pod);
    let running = |container: &Container| ContainerStatus {
        state: Some(ContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(Time(started)),
            }),
            ..ContainerState::default()
        }),
        ready: true,
        started: Some(true),
        ..container_status(uid, container)
    };
    let init = init_containers(pod)
        .iter()
        .map(|container| {
            if is_sidecar(container) {
                running(container)
            } else {
                ContainerStatus {
                    state: Some(ContainerState {
                        terminated: Some(Ending::Completed.terminated(started, started)),
                        ..ContainerState::default()
                    }),
                    ready: true,
                    started: Some(false),
                    ..container_status(uid, container)
                }
            }
        })
        .collect::<Vec<_>>();
    let host_ip = placement.host_ip.to_string();
    let pod_ip = placement.pod_ip.to_string();
    PodStatus {
        phase: Some("Running".to_string()),
        conditions: Some(conditions(pod, now, true)),
        host_ip: Some(host_ip.clone()),
        host_ips: Some(vec![HostIP { ip: host_ip }]),
        pod_ip: Some(pod_ip.clone()),
        pod_ips: Some(vec![PodIP { ip: pod_ip }]),
        start_time: Some(Time(started)),
        container_statuses: Some(containers(pod).iter().map(running).collect()),
        init_container_statuses: (!init.is_empty()).then_some(init),
        ..PodStatus::default()
    }
}

/// The pod stopped: every container (sidecars included) terminated as `ending` says, phase
/// terminal. Addresses and startTime stay as they were.
pub fn stopped_status(pod: &Pod, ending: Ending, now: Timestamp) -> PodStatus {
    let started = start_time(pod).unwrap_or(now);
    let uid = pod_uid(pod);
    let stopped = |container: &Container, ending: Ending| ContainerStatus {
        state: Some(ContainerState {
            terminated: Some(ending.terminated(started, now)),
            ..ContainerState::default()
        }),
        ready: false,
        started: Some(false),
        ..container_status(uid, container)
    };
    let init = init_containers(pod)
        .iter()
        .map(|container| {
            // Ordinary init containers completed long before; sidecars end with the pod.
            let ending = if is_sidecar(container) {
                ending
            } else {
                Ending::Completed
            };
            stopped(container, ending)
        })
        .collect::<Vec<_>>();
    PodStatus {
        phase: Some(ending.phase().to_string()),
        conditions: Some(conditions(pod, now, false)),
        start_time: Some(Time(started)),
        container_statuses: Some(
            containers(pod)
                .iter()
                .map(|container| stopped(container, ending))
                .collect(),
        ),
        init_container_statuses: (!init.is_empty()).then_some(init),
        ..PodStatus::default()
    }
}

fn container_status(pod_uid: &str, container: &Container) -> ContainerStatus {
    let image = container.image.clone().unwrap_or_default();
    ContainerStatus {
        name: container.name.clone(),
        image_id: format!("sim://{image}"),
        image,
        container_id: Some(format!("sim://{pod_uid}/{}", container.name)),
        restart_count: 0,
        ..ContainerStatus::default()
    }
}

/// The pod conditions: all True for a running pod; for a stopped one the containers are no longer
/// ready (reason PodCompleted) and the sandbox is gone.
fn conditions(pod: &Pod, now: Timestamp, running: bool) -> Vec<PodCondition> {
    let scheduled_at = pod
        .status
        .as_ref()
        .and_then(|status| status.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map_or(now, |time| time.0);
    let condition = |type_: &str, status: bool, at: Timestamp| PodCondition {
        type_: type_.to_string(),
        status: if status { "True" } else { "False" }.to_string(),
        reason: (!status && type_ != "PodReadyToStartContainers")
            .then(|| "PodCompleted".to_string()),
        last_transition_time: Some(Time(at)),
        ..PodCondition::default()
    };
    vec![
        condition("PodReadyToStartContainers", running, now),
        condition("Initialized", true, now),
        condition("Ready", running, now),
        condition("ContainersReady", running, now),
        condition("PodScheduled", true, scheduled_at),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(restart_policy: &str, init: bool) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "default", "uid": "u-1"},
            "spec": {
                "nodeName": "sim-node-0",
                "restartPolicy": restart_policy,
                "initContainers": if init { serde_json::json!([
                    {"name": "setup", "image": "busybox"},
                    {"name": "proxy", "image": "envoy", "restartPolicy": "Always"}
                ]) } else { serde_json::json!([]) },
                "containers": [
                    {"name": "app", "image": "nginx:1.27"},
                    {"name": "log", "image": "fluentbit"}
                ]
            },
            "status": {
                "phase": "Pending",
                "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"}]
            }
        }))
        .unwrap()
    }

    fn placement() -> Placement {
        Placement {
            host_ip: Ipv4Addr::new(10, 240, 0, 1),
            pod_ip: Ipv4Addr::new(10, 244, 0, 2),
        }
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    fn condition<'a>(status: &'a PodStatus, type_: &str) -> &'a PodCondition {
        status
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == type_)
            .unwrap()
    }

    #[test]
    fn a_started_pod_runs_ready_with_its_addresses() {
        let status = running_status(&pod("Always", false), placement(), at(0));
        assert_eq!(status.phase.as_deref(), Some("Running"));
        for type_ in [
            "PodScheduled",
            "PodReadyToStartContainers",
            "Initialized",
            "ContainersReady",
            "Ready",
        ] {
            assert_eq!(condition(&status, type_).status, "True", "{type_}");
        }
        assert_eq!(
            condition(&status, "PodScheduled").last_transition_time,
            Some(Time("2024-01-01T00:00:00Z".parse().unwrap())),
            "the scheduler's time is kept"
        );
        assert_eq!(status.pod_ip.as_deref(), Some("10.244.0.2"));
        assert_eq!(status.pod_ips.as_ref().unwrap()[0].ip, "10.244.0.2");
        assert_eq!(status.host_ip.as_deref(), Some("10.240.0.1"));
        assert_eq!(status.start_time, Some(Time(at(0))));
        let containers = status.container_statuses.unwrap();
        assert_eq!(containers.len(), 2);
        let app = &containers[0];
        assert_eq!(app.name, "app");
        assert_eq!(app.image, "nginx:1.27");
        assert_eq!(app.image_id, "sim://nginx:1.27");
        assert_eq!(app.container_id.as_deref(), Some("sim://u-1/app"));
        assert!(app.ready);
        assert_eq!(app.started, Some(true));
        assert_eq!(app.restart_count, 0);
        assert!(app.state.as_ref().unwrap().running.is_some());
        assert_eq!(status.init_container_statuses, None);
    }

    #[test]
    fn init_containers_completed_and_sidecars_run() {
        let status = running_status(&pod("Always", true), placement(), at(0));
        let init = status.init_container_statuses.unwrap();
        let setup = init[0].state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!(
            (setup.exit_code, setup.reason.as_deref()),
            (0, Some("Completed"))
        );
        assert!(init[1].state.as_ref().unwrap().running.is_some());
    }

    #[test]
    fn the_running_status_is_recognised() {
        let mut pod = pod("Always", false);
        assert!(!is_running(&pod));
        pod.status = Some(running_status(&pod, placement(), at(0)));
        assert!(is_running(&pod));
        assert_eq!(start_time(&pod), Some(at(0)));
        assert_eq!(current_pod_ip(&pod), Some(Ipv4Addr::new(10, 244, 0, 2)));
        let again = running_status(&pod, placement(), at(5));
        assert_eq!(
            again.start_time,
            Some(Time(at(0))),
            "startTime does not move"
        );
    }

    #[test]
    fn a_completed_pod_succeeds_with_exit_code_zero() {
        let mut pod = pod("Never", true);
        pod.status = Some(running_status(&pod, placement(), at(0)));
        let status = stopped_status(&pod, Ending::Completed, at(3));
        assert_eq!(status.phase.as_deref(), Some("Succeeded"));
        assert_eq!(condition(&status, "Ready").status, "False");
        assert_eq!(
            condition(&status, "Ready").reason.as_deref(),
            Some("PodCompleted")
        );
        assert_eq!(condition(&status, "Initialized").status, "True");
        for container in status.container_statuses.unwrap() {
            let terminated = container.state.unwrap().terminated.unwrap();
            assert_eq!(terminated.exit_code, 0);
            assert_eq!(terminated.reason.as_deref(), Some("Completed"));
            assert_eq!(terminated.started_at, Some(Time(at(0))));
            assert_eq!(terminated.finished_at, Some(Time(at(3))));
            assert!(!container.ready);
        }
        assert_eq!(status.pod_ip, None, "left as it is by the merge patch");
    }

    #[test]
    fn deletion_ends_jobs_as_killed_and_services_as_completed() {
        assert_eq!(
            Ending::on_deletion(&pod("Always", false)),
            Ending::Completed
        );
        assert_eq!(Ending::on_deletion(&pod("Never", false)), Ending::Killed);
        assert_eq!(
            Ending::on_deletion(&pod("OnFailure", false)),
            Ending::Killed
        );
        let status = stopped_status(&pod("OnFailure", true), Ending::Killed, at(1));
        assert_eq!(status.phase.as_deref(), Some("Failed"));
        let terminated = |s: &ContainerStatus| s.state.clone().unwrap().terminated.unwrap();
        assert_eq!(
            terminated(&status.container_statuses.unwrap()[0]).exit_code,
            143
        );
        let init = status.init_container_statuses.unwrap();
        assert_eq!(terminated(&init[0]).exit_code, 0);
        assert_eq!(terminated(&init[1]).exit_code, 143);
    }
}
