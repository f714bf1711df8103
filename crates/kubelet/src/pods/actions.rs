//! What to do with one pod given its spec and what the runtime holds (upstream's computePodActions).

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, Pod};

use super::backoff::{go_duration, BackOff, RESET_AFTER_RUNNING};
use super::container_hash::container_hash;
use super::runtime_state::{ContainerRecord, PodRuntimeState, RunState};
use super::sandbox_config::PodKey;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartContainer {
    pub name: String,
    pub init: bool,
    pub restart_count: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillContainer {
    pub id: String,
    pub name: String,
    /// For the Killing event; `None`: the plain "Stopping container <c>".
    pub message: Option<String>,
}

/// A container's waiting state decided here (CrashLoopBackOff).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodActions {
    /// Run a new sandbox with this attempt (killing everything in the old one first).
    pub create_sandbox: Option<u32>,
    pub kill: Vec<KillContainer>,
    pub start: Vec<StartContainer>,
    pub waiting: BTreeMap<String, Waiting>,
    /// Every container is done and none restarts: stop the sandbox.
    pub pod_finished: bool,
    /// Exited containers beyond the newest two of each name, and dead sandboxes no longer needed.
    pub remove_containers: Vec<String>,
    pub remove_sandboxes: Vec<String>,
}

impl PodActions {
    /// Whether applying these actions changes anything in the runtime (only waiting reasons and
    /// events otherwise): when not, the runtime state read before them still holds after.
    pub fn changes_runtime(&self) -> bool {
        self.create_sandbox.is_some()
            || !self.kill.is_empty()
            || !self.start.is_empty()
            || self.pod_finished
            || !self.remove_containers.is_empty()
            || !self.remove_sandboxes.is_empty()
    }
}

/// What the probes said about running containers (by container id).
#[derive(Debug, Clone, Default)]
pub struct ProbeView {
    pub started: HashSet<String>,
    pub liveness_failed: HashSet<String>,
    pub startup_failed: HashSet<String>,
}

fn restart_policy(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always")
}

fn should_restart(policy: &str, exit_code: i32) -> bool {
    match policy {
        "Never" => false,
        "OnFailure" => exit_code != 0,
        _ => true,
    }
}

fn is_sidecar(container: &Container) -> bool {
    container.restart_policy.as_deref() == Some("Always")
}

fn next_restart_count(state: &PodRuntimeState, name: &str) -> i32 {
    state.latest(name).map(|c| c.restart_count + 1).unwrap_or(0)
}

/// Start `name` now unless its back-off holds; records the restart in `backoff`.
fn restart_or_back_off(
    actions: &mut PodActions,
    backoff: &mut BackOff,
    key: &PodKey,
    last: &ContainerRecord,
    init: bool,
    state: &PodRuntimeState,
    now: Timestamp,
) {
    let ran = last.finished().as_nanosecond() - last.started().as_nanosecond();
    if last.started_at > 0 && ran >= RESET_AFTER_RUNNING.as_nanos() as i128 {
        backoff.reset(&last.name);
    }
    if let Some(current) = backoff.in_backoff_since(&last.name, last.finished(), now) {
        actions.waiting.insert(
            last.name.clone(),
            Waiting {
                reason: "CrashLoopBackOff".into(),
                message: format!(
                    "back-off {} restarting failed container={} pod={key}",
                    go_duration(current),
                    last.name
                ),
            },
        );
        return;
    }
    backoff.next(&last.name, now);
    actions.start.push(StartContainer {
        name: last.name.clone(),
        init,
        restart_count: next_restart_count(state, &last.name),
    });
}

pub fn compute_pod_actions(
    pod: &Pod,
    state: &PodRuntimeState,
    probes: &ProbeView,
    backoff: &mut BackOff,
    now: Timestamp,
) -> PodActions {
    let mut actions = PodActions::default();
    let key = PodKey::of(pod);
    let spec = pod.spec.clone().unwrap_or_default();
    let policy = restart_policy(pod);
    let init_containers = spec.init_containers.clone().unwrap_or_default();
    collect_garbage(state, &mut actions);

    let sandbox = state.latest_sandbox();
    let sandbox_ready = sandbox.is_some_and(|s| s.ready);
    if !sandbox_ready {
        // A pod that never restarts does not get a second sandbox once its containers ran.
        if policy == "Never" && sandbox.is_some() && !state.containers.is_empty() {
            actions.pod_finished = true;
            return actions;
        }
        if app_containers_done(&spec.containers, state, policy, None) {
            actions.pod_finished = true;
            return actions;
        }
        actions.create_sandbox = Some(sandbox.map(|s| s.attempt + 1).unwrap_or(0));
        actions.kill = state
            .running()
            .map(|c| KillContainer {
                id: c.id.clone(),
                name: c.name.clone(),
                message: None,
            })
            .collect();
        let first: Vec<&Container> = match init_containers.first() {
            Some(init) => vec![init],
            None => spec.containers.iter().collect(),
        };
        actions.start = first
            .into_iter()
            .map(|c| StartContainer {
                name: c.name.clone(),
                init: !init_containers.is_empty(),
                restart_count: next_restart_count(state, &c.name),
            })
            .collect();
        return actions;
    }
    let sandbox_id = sandbox.map(|s| s.id.clone()).unwrap_or_default();
    let in_sandbox = |name: &str| state.latest(name).filter(|c| c.sandbox_id == sandbox_id);

    // Init containers in order; stop at the first that is not through.
    for init in &init_containers {
        let sidecar = is_sidecar(init);
        match in_sandbox(&init.name) {
            None => {
                actions.start.push(StartContainer {
                    name: init.name.clone(),
                    init: true,
                    restart_count: next_restart_count(state, &init.name),
                });
                return actions;
            }
            Some(c) if c.state == RunState::Running && sidecar => {
                if let Some(kill) = probe_kill(c, probes) {
                    actions.kill.push(kill);
                }
                if !probes.started.contains(&c.id) {
                    return actions;
                }
            }
            Some(c) if c.state != RunState::Exited => return actions,
            Some(c) if c.exit_code == 0 && !sidecar => {}
            Some(c) => {
                if !sidecar && policy == "Never" {
                    actions.pod_finished = true;
                    return actions;
                }
                restart_or_back_off(&mut actions, backoff, &key, c, true, state, now);
                return actions;
            }
        }
    }

    for container in &spec.containers {
        match in_sandbox(&container.name) {
            None => actions.start.push(StartContainer {
                name: container.name.clone(),
                init: false,
                restart_count: next_restart_count(state, &container.name),
            }),
            Some(c) if c.state == RunState::Running => {
                if let Some(kill) = probe_kill(c, probes) {
                    actions.kill.push(kill);
                } else if !c.hash.is_empty() && c.hash != container_hash(container) {
                    actions.kill.push(KillContainer {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        message: Some(format!(
                            "Container {} definition changed, will be restarted",
                            c.name
                        )),
                    });
                }
            }
            Some(c) if c.state == RunState::Exited && should_restart(policy, c.exit_code) => {
                restart_or_back_off(&mut actions, backoff, &key, c, false, state, now);
            }
            Some(_) => {}
        }
    }
    if actions.start.is_empty()
        && app_containers_done(&spec.containers, state, policy, Some(&sandbox_id))
    {
        actions.pod_finished = true;
        // Sidecars stop with the pod.
        actions.kill.extend(
            state
                .running()
                .filter(|c| c.sandbox_id == sandbox_id)
                .map(|c| KillContainer {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    message: None,
                }),
        );
    }
    actions
}

/// The kill of a running container whose liveness or startup probe failed (upstream's message).
fn probe_kill(c: &ContainerRecord, probes: &ProbeView) -> Option<KillContainer> {
    let probe = if probes.startup_failed.contains(&c.id) {
        "startup"
    } else if probes.liveness_failed.contains(&c.id) {
        "liveness"
    } else {
        return None;
    };
    Some(KillContainer {
        id: c.id.clone(),
        name: c.name.clone(),
        message: Some(format!(
            "Container {} failed {probe} probe, will be restarted",
            c.name
        )),
    })
}

/// Every app container exited and none will restart.
fn app_containers_done(
    containers: &[Container],
    state: &PodRuntimeState,
    policy: &str,
    sandbox: Option<&str>,
) -> bool {
    !containers.is_empty()
        && containers
            .iter()
            .all(|container| match state.latest(&container.name) {
                Some(c) => {
                    sandbox.is_none_or(|s| c.sandbox_id == s)
                        && c.state == RunState::Exited
                        && !should_restart(policy, c.exit_code)
                }
                None => false,
            })
}

fn collect_garbage(state: &PodRuntimeState, actions: &mut PodActions) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &state.containers {
        let count = seen.entry(c.name.as_str()).or_default();
        *count += 1;
        if *count > 2 && c.state == RunState::Exited {
            actions.remove_containers.push(c.id.clone());
        }
    }
    let live_sandboxes: HashSet<&str> = state
        .containers
        .iter()
        .filter(|c| !actions.remove_containers.contains(&c.id))
        .map(|c| c.sandbox_id.as_str())
        .collect();
    actions.remove_sandboxes = state
        .sandboxes
        .iter()
        .skip(1)
        .filter(|s| !s.ready && !live_sandboxes.contains(s.id.as_str()))
        .map(|s| s.id.clone())
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pods::runtime_state::SandboxRecord;
    use serde_json::json;

    fn pod(policy: &str, init: bool) -> Pod {
        let inits = if init {
            json!([{"name": "init", "image": "busybox"}])
        } else {
            json!([])
        };
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
            "spec": {"restartPolicy": policy, "initContainers": inits, "containers": [{"name": "main", "image": "busybox"}]},
        }))
        .unwrap()
    }

    fn sandbox(ready: bool) -> SandboxRecord {
        SandboxRecord {
            id: "sb".into(),
            attempt: 0,
            ready,
            created_at: 1,
            ips: vec!["10.0.0.2".into()],
        }
    }

    fn exited(name: &str, code: i32, restart_count: i32, finished_s: i64) -> ContainerRecord {
        ContainerRecord {
            id: format!("{name}-{restart_count}"),
            sandbox_id: "sb".into(),
            name: name.into(),
            attempt: restart_count as u32,
            restart_count,
            hash: String::new(),
            state: RunState::Exited,
            exit_code: code,
            created_at: i64::from(restart_count),
            started_at: (finished_s - 1) * 1_000_000_000,
            finished_at: finished_s * 1_000_000_000,
            reason: String::new(),
            message: String::new(),
            image_ref: String::new(),
            termination_message_file: None,
            log_path: String::new(),
        }
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn only_actions_that_touch_the_runtime_change_it() {
        let mut running = exited("main", 0, 0, 100);
        running.state = RunState::Running;
        let state = PodRuntimeState::new(vec![sandbox(true)], vec![running]);
        let steady = compute_pod_actions(
            &pod("Always", false),
            &state,
            &ProbeView::default(),
            &mut BackOff::default(),
            at(200),
        );
        assert!(!steady.changes_runtime(), "{steady:?}");
        let new = compute_pod_actions(
            &pod("Always", false),
            &PodRuntimeState::default(),
            &ProbeView::default(),
            &mut BackOff::default(),
            at(200),
        );
        assert!(new.changes_runtime());
        let waiting_only = PodActions {
            waiting: [(
                "main".to_string(),
                Waiting {
                    reason: "CrashLoopBackOff".into(),
                    message: String::new(),
                },
            )]
            .into(),
            ..PodActions::default()
        };
        assert!(!waiting_only.changes_runtime());
    }

    #[test]
    fn new_pod_gets_a_sandbox_and_its_first_init_container() {
        let actions = compute_pod_actions(
            &pod("Always", true),
            &PodRuntimeState::default(),
            &ProbeView::default(),
            &mut BackOff::default(),
            at(100),
        );
        assert_eq!(actions.create_sandbox, Some(0));
        assert_eq!(
            actions.start,
            vec![StartContainer {
                name: "init".into(),
                init: true,
                restart_count: 0
            }]
        );
    }

    #[test]
    fn app_containers_wait_for_init_success() {
        let state = PodRuntimeState::new(vec![sandbox(true)], vec![exited("init", 0, 0, 100)]);
        let actions = compute_pod_actions(
            &pod("Always", true),
            &state,
            &ProbeView::default(),
            &mut BackOff::default(),
            at(101),
        );
        assert_eq!(
            actions.start,
            vec![StartContainer {
                name: "main".into(),
                init: false,
                restart_count: 0
            }]
        );
        let failed = PodRuntimeState::new(vec![sandbox(true)], vec![exited("init", 1, 0, 100)]);
        let actions = compute_pod_actions(
            &pod("Never", true),
            &failed,
            &ProbeView::default(),
            &mut BackOff::default(),
            at(101),
        );
        assert!(actions.pod_finished && actions.start.is_empty());
    }

    #[test]
    fn crash_loop_backs_off() {
        let mut backoff = BackOff::default();
        let pod = pod("Always", false);
        let first = PodRuntimeState::new(vec![sandbox(true)], vec![exited("main", 1, 0, 100)]);
        let actions =
            compute_pod_actions(&pod, &first, &ProbeView::default(), &mut backoff, at(100));
        assert_eq!(actions.start[0].restart_count, 1);
        let second = PodRuntimeState::new(
            vec![sandbox(true)],
            vec![exited("main", 1, 1, 101), exited("main", 1, 0, 100)],
        );
        let actions =
            compute_pod_actions(&pod, &second, &ProbeView::default(), &mut backoff, at(102));
        assert!(actions.start.is_empty());
        assert_eq!(
            actions.waiting["main"].message,
            "back-off 10s restarting failed container=main pod=p_ns(u)"
        );
        let actions =
            compute_pod_actions(&pod, &second, &ProbeView::default(), &mut backoff, at(112));
        assert_eq!(actions.start[0].restart_count, 2);
    }

    #[test]
    fn finished_pods_stop() {
        let state = PodRuntimeState::new(vec![sandbox(true)], vec![exited("main", 0, 0, 100)]);
        let actions = compute_pod_actions(
            &pod("OnFailure", false),
            &state,
            &ProbeView::default(),
            &mut BackOff::default(),
            at(101),
        );
        assert!(actions.pod_finished);
        let dead = PodRuntimeState::new(vec![sandbox(false)], vec![exited("main", 137, 0, 100)]);
        let actions = compute_pod_actions(
            &pod("Never", false),
            &dead,
            &ProbeView::default(),
            &mut BackOff::default(),
            at(101),
        );
        assert_eq!(actions.create_sandbox, None);
    }
}
