//! Schedules liveness, readiness and startup probes of running containers and keeps their results.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Pod, Probe};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::actions::ProbeView;
use super::events::EventRecorder;
use super::runtime_state::{PodRuntimeState, RunState};
use crate::probes::{run_probe, ProbeResult};
use crate::CriClient;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Startup,
    Readiness,
    Liveness,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Startup => "Startup",
            Kind::Readiness => "Readiness",
            Kind::Liveness => "Liveness",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Results {
    started: bool,
    ready: bool,
    /// Liveness failed past its threshold: the container must be restarted.
    failed: bool,
    /// The startup probe failed past its threshold: the container must be restarted.
    startup_failed: bool,
}

type Shared = Arc<Mutex<HashMap<String, Results>>>;

pub struct ProbeTracker {
    cri: CriClient,
    events: EventRecorder,
    wake: mpsc::Sender<()>,
    results: Shared,
    tasks: HashMap<String, Vec<JoinHandle<()>>>,
}

fn spec_container<'a>(pod: &'a Pod, name: &str) -> Option<&'a Container> {
    let spec = pod.spec.as_ref()?;
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == name)
}

impl ProbeTracker {
    pub fn new(cri: CriClient, events: EventRecorder, wake: mpsc::Sender<()>) -> Self {
        Self {
            cri,
            events,
            wake,
            results: Arc::default(),
            tasks: HashMap::new(),
        }
    }

    fn current(&self, id: &str) -> Results {
        self.results
            .lock()
            .map(|r| r.get(id).copied().unwrap_or_default())
            .unwrap_or_default()
    }

    pub fn view(&self, pod: &Pod, state: &PodRuntimeState) -> ProbeView {
        let mut view = ProbeView::default();
        for record in state
            .containers
            .iter()
            .filter(|c| c.state == RunState::Running)
        {
            let Some(container) = spec_container(pod, &record.name) else {
                continue;
            };
            let results = self.current(&record.id);
            if container.startup_probe.is_none() || results.started {
                view.started.insert(record.id.clone());
            }
            if results.failed {
                view.liveness_failed.insert(record.id.clone());
            }
            if results.startup_failed {
                view.startup_failed.insert(record.id.clone());
            }
        }
        view
    }

    /// (ready, started) container ids among the running ones.
    pub fn results(
        &self,
        pod: &Pod,
        state: &PodRuntimeState,
    ) -> (HashSet<String>, HashSet<String>) {
        let mut ready = HashSet::new();
        let mut started = HashSet::new();
        for record in state
            .containers
            .iter()
            .filter(|c| c.state == RunState::Running)
        {
            let Some(container) = spec_container(pod, &record.name) else {
                continue;
            };
            let results = self.current(&record.id);
            let is_started = container.startup_probe.is_none() || results.started;
            if is_started {
                started.insert(record.id.clone());
            }
            if is_started && (container.readiness_probe.is_none() || results.ready) {
                ready.insert(record.id.clone());
            }
        }
        (ready, started)
    }

    /// Starts probing newly running containers and stops probing those no longer running.
    pub fn track(&mut self, pod: &Pod, state: &PodRuntimeState) {
        let running: HashSet<&str> = state
            .containers
            .iter()
            .filter(|c| c.state == RunState::Running)
            .map(|c| c.id.as_str())
            .collect();
        self.tasks.retain(|id, handles| {
            let keep = running.contains(id.as_str());
            if !keep {
                handles.iter().for_each(JoinHandle::abort);
            }
            keep
        });
        if let Ok(mut results) = self.results.lock() {
            results.retain(|id, _| running.contains(id.as_str()));
        }
        let pod_ip = state.latest_sandbox().and_then(|s| s.ips.first().cloned());
        for record in state
            .containers
            .iter()
            .filter(|c| c.state == RunState::Running)
        {
            if self.tasks.contains_key(&record.id) {
                continue;
            }
            let Some(container) = spec_container(pod, &record.name) else {
                continue;
            };
            let init = pod
                .spec
                .as_ref()
                .and_then(|s| s.init_containers.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.name == record.name));
            let mut handles = Vec::new();
            for (kind, probe) in [
                (Kind::Startup, &container.startup_probe),
                (Kind::Readiness, &container.readiness_probe),
                (Kind::Liveness, &container.liveness_probe),
            ] {
                let Some(probe) = probe.clone() else { continue };
                let worker = ProbeWorker {
                    cri: self.cri.clone(),
                    events: self.events.clone(),
                    wake: self.wake.clone(),
                    results: self.results.clone(),
                    pod: pod.clone(),
                    container: (container.name.clone(), init),
                    has_startup: container.startup_probe.is_some(),
                    id: record.id.clone(),
                    pod_ip: pod_ip.clone(),
                    kind,
                    probe,
                };
                handles.push(tokio::spawn(worker.run()));
            }
            self.tasks.insert(record.id.clone(), handles);
        }
    }

    pub fn stop_all(&mut self) {
        for (_, handles) in self.tasks.drain() {
            handles.iter().for_each(JoinHandle::abort);
        }
    }
}

impl Drop for ProbeTracker {
    fn drop(&mut self) {
        self.stop_all();
    }
}

struct ProbeWorker {
    cri: CriClient,
    events: EventRecorder,
    wake: mpsc::Sender<()>,
    results: Shared,
    pod: Pod,
    container: (String, bool),
    has_startup: bool,
    id: String,
    pod_ip: Option<String>,
    kind: Kind,
    probe: Probe,
}

fn secs(value: Option<i32>, default: i32) -> Duration {
    Duration::from_secs(value.unwrap_or(default).max(0) as u64)
}

impl ProbeWorker {
    fn update(&self, change: impl FnOnce(&mut Results)) {
        let changed = match self.results.lock() {
            Ok(mut results) => {
                let entry = results.entry(self.id.clone()).or_default();
                let before = *entry;
                change(entry);
                before != *entry
            }
            Err(_) => false,
        };
        if changed {
            let _ = self.wake.try_send(());
        }
    }

    fn started(&self) -> bool {
        !self.has_startup
            || self
                .results
                .lock()
                .map(|r| r.get(&self.id).is_some_and(|r| r.started))
                .unwrap_or(false)
    }

    async fn run(self) {
        let period = secs(self.probe.period_seconds, 10).max(Duration::from_secs(1));
        let timeout = secs(self.probe.timeout_seconds, 1).max(Duration::from_secs(1));
        let success_threshold = self.probe.success_threshold.unwrap_or(1).max(1);
        let failure_threshold = self.probe.failure_threshold.unwrap_or(3).max(1);
        tokio::time::sleep(secs(self.probe.initial_delay_seconds, 0)).await;
        let (mut successes, mut failures) = (0, 0);
        loop {
            if self.kind == Kind::Startup || self.started() {
                let result = tokio::time::timeout(
                    timeout,
                    run_probe(&self.cri, &self.probe, &self.id, self.pod_ip.as_deref()),
                )
                .await
                .unwrap_or_else(|_| {
                    ProbeResult::Failure(format!("probe timed out after {}s", timeout.as_secs()))
                });
                match result {
                    ProbeResult::Success => {
                        failures = 0;
                        successes += 1;
                        if successes >= success_threshold {
                            match self.kind {
                                Kind::Startup => {
                                    self.update(|r| r.started = true);
                                    return;
                                }
                                Kind::Readiness => self.update(|r| r.ready = true),
                                Kind::Liveness => {}
                            }
                        }
                    }
                    ProbeResult::Failure(message) => {
                        successes = 0;
                        failures += 1;
                        self.events.record(
                            &self.pod,
                            Some((&self.container.0, self.container.1)),
                            true,
                            "Unhealthy",
                            format!("{} probe failed: {message}", self.kind.label()),
                        );
                        if failures >= failure_threshold {
                            match self.kind {
                                Kind::Readiness => self.update(|r| r.ready = false),
                                Kind::Startup => {
                                    self.update(|r| r.startup_failed = true);
                                    return;
                                }
                                Kind::Liveness => {
                                    self.update(|r| r.failed = true);
                                    return;
                                }
                            }
                        }
                    }
                }
            }
            tokio::time::sleep(period).await;
        }
    }
}
