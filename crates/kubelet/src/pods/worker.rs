//! One task per pod: syncs it on every change, every relist tick, and stops it when it goes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::Api;
use serde_json::json;
use tokio::sync::mpsc;

use super::actions::{compute_pod_actions, PodActions, Waiting};
use super::active_deadline::{
    deadline_passed, time_left, DEADLINE_EXCEEDED_MESSAGE, DEADLINE_EXCEEDED_REASON,
};
use super::backoff::BackOff;
use super::container_start::{start_container, StartTarget};
use super::context::PodContext;
use super::cri_calls::{pod_runtime_state, remove_container, remove_sandbox, stop_sandbox};
use super::probe_tracker::ProbeTracker;
use super::runtime_state::{PodRuntimeState, RunState};
use super::sandbox_config::{pod_log_directory, sandbox_config, PodKey};
use super::status::{pod_status, StatusInputs};
use super::termination::{
    finished_pod_grace_period_seconds, grace_period_seconds, kill_container, terminate_pod,
};
use super::termination_message::termination_message;
use crate::volumes::PodVolumes;
use crate::KubeletError;

/// How often a pod that is still converging (starting, backing off, failing) is synced.
pub const RESYNC: Duration = Duration::from_secs(1);

/// How often a settled pod is synced when nothing tells its worker otherwise. Its worker wakes at
/// once for a change of the pod, a probe result or (through the relist) of its containers; this
/// period only refreshes its volumes (upstream's sync frequency is a minute).
pub const SETTLED_RESYNC: Duration = VOLUME_REFRESH;

/// How often a running pod's configMap, secret, downwardAPI and projected volumes are read again
/// from the API (and the Node, for resource fields). Upstream syncs a pod about once a minute and
/// its volumes follow within that; reading them on every 1 s resync cost each pod two API reads a
/// second. A change of the pod's labels or annotations refreshes them at once (downward API).
pub const VOLUME_REFRESH: Duration = Duration::from_secs(10);

/// How long a container whose creation failed waits before the next try (upstream's pod worker
/// back-off period after a failed sync).
pub const START_ERROR_BACKOFF: Duration = Duration::from_secs(10);

/// Start failures that leave no exited container behind, so the crash-loop back-off cannot
/// pace them (image pulls have their own back-off).
fn retried_after_back_off(waiting: &Waiting) -> bool {
    matches!(
        waiting.reason.as_str(),
        "CreateContainerError" | "CreateContainerConfigError" | "RunContainerError"
    )
}

#[derive(Debug)]
pub enum WorkerMessage {
    Update(Box<Pod>),
    /// The relist saw the pod's sandboxes or containers change.
    RuntimeChanged,
    /// The pod left the API (or was never there): stop it without deleting anything there.
    Gone,
}

struct PodWorker {
    ctx: Arc<PodContext>,
    pod: Pod,
    backoff: BackOff,
    pull_backoff: BackOff,
    waiting: BTreeMap<String, Waiting>,
    /// Containers whose last start failed before anything ran (create or config errors): not
    /// tried again before this instant (upstream requeues such a pod worker after ~10 s).
    start_retry_after: HashMap<String, Instant>,
    probes: ProbeTracker,
    written_status: Option<serde_json::Value>,
    volumes: Option<PreparedVolumes>,
    /// The last sync left nothing to do until something changes (see [`SETTLED_RESYNC`]).
    settled: bool,
}

/// The volumes of the last successful setup, and what they were set up from.
struct PreparedVolumes {
    volumes: PodVolumes,
    at: Instant,
    metadata: MetadataProjected,
}

/// The parts of a pod's metadata that a downward API volume can show and that may change.
type MetadataProjected = (
    Option<BTreeMap<String, String>>,
    Option<BTreeMap<String, String>>,
);

impl PreparedVolumes {
    /// Set up less than [`VOLUME_REFRESH`] before `now`, from the same labels and annotations.
    fn reusable_for(&self, pod: &Pod, now: Instant) -> bool {
        let (labels, annotations) = &self.metadata;
        now.saturating_duration_since(self.at) < VOLUME_REFRESH
            && *labels == pod.metadata.labels
            && *annotations == pod.metadata.annotations
    }
}

fn projected_metadata(pod: &Pod) -> MetadataProjected {
    (
        pod.metadata.labels.clone(),
        pod.metadata.annotations.clone(),
    )
}

enum Outcome {
    Continue,
    Finished,
}

pub async fn run_pod_worker(
    ctx: Arc<PodContext>,
    pod: Pod,
    mut messages: mpsc::Receiver<WorkerMessage>,
) {
    let (wake_tx, mut wake) = mpsc::channel(1);
    let mut worker = PodWorker {
        probes: ProbeTracker::new(ctx.cri.clone(), ctx.events.clone(), wake_tx),
        ctx,
        pod,
        backoff: BackOff::default(),
        pull_backoff: BackOff::default(),
        waiting: BTreeMap::new(),
        start_retry_after: HashMap::new(),
        written_status: None,
        volumes: None,
        settled: false,
    };
    let mut gone = false;
    loop {
        let outcome = if gone {
            worker.finish(false).await
        } else {
            worker.sync().await
        };
        match outcome {
            Ok(Outcome::Finished) => {
                worker.probes.stop_all();
                return;
            }
            Ok(Outcome::Continue) => {}
            // A failed sync never leaves the worker settled: it retries after RESYNC.
            Err(e) => tracing::warn!(pod = %PodKey::of(&worker.pod), error = %e, "syncing pod"),
        }
        let resync = worker.next_sync_in();
        tokio::select! {
            message = messages.recv() => match message {
                Some(message) => worker.receive(message, &mut gone),
                // The kubelet is stopping (its pod manager is gone), not the pod: leave the pod
                // running for the next kubelet to adopt, as upstream's does across restarts.
                // Only `Gone` stops a pod.
                None => {
                    worker.probes.stop_all();
                    return;
                }
            },
            _ = wake.recv() => {}
            _ = tokio::time::sleep(resync) => {}
        }
        // Coalesce a burst of updates into one sync.
        while let Ok(message) = messages.try_recv() {
            worker.receive(message, &mut gone);
        }
    }
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

impl PodWorker {
    fn receive(&mut self, message: WorkerMessage, gone: &mut bool) {
        match message {
            WorkerMessage::Update(pod) => self.pod = *pod,
            WorkerMessage::RuntimeChanged => {}
            WorkerMessage::Gone => *gone = true,
        }
    }

    /// How long to wait for a message or a wake before syncing anyway.
    fn next_sync_in(&self) -> Duration {
        let resync = if self.settled { SETTLED_RESYNC } else { RESYNC };
        match time_left(&self.pod, Timestamp::now()) {
            Some(left) if !is_terminal(&self.pod) => resync.min(left),
            _ => resync,
        }
    }

    async fn sync(&mut self) -> Result<Outcome, KubeletError> {
        self.settled = false;
        if self.pod.metadata.deletion_timestamp.is_some() {
            return self.finish(true).await;
        }
        let ctx = self.ctx.clone();
        let pod = self.pod.clone();
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let state = pod_runtime_state(&ctx.cri, &uid).await?;
        if is_terminal(&pod) {
            self.stop_finished_pod(&state).await?;
            // Containers stopped here (an evicted pod's) are reported terminated.
            let state = pod_runtime_state(&ctx.cri, &uid).await?;
            let stopped = state.sandboxes.iter().all(|s| !s.ready)
                && state
                    .containers
                    .iter()
                    .all(|c| c.state != RunState::Running);
            self.settled = self.write_status(&pod, &state).await? && stopped;
            return Ok(Outcome::Continue);
        }
        if deadline_passed(&pod, Timestamp::now()) {
            self.fail_past_deadline(&pod).await?;
            return Ok(Outcome::Continue);
        }
        let volumes = match self.fresh_volumes(&pod) {
            Some(volumes) => Ok(volumes),
            None => ctx.volumes.setup(&pod).await.inspect(|volumes| {
                self.volumes = Some(PreparedVolumes {
                    volumes: volumes.clone(),
                    at: Instant::now(),
                    metadata: projected_metadata(&pod),
                });
            }),
        };
        let volumes = match volumes {
            Ok(volumes) => volumes,
            Err(e) => {
                self.volumes = None;
                ctx.events
                    .record(&pod, None, true, "FailedMount", e.to_string());
                // The containers wait in ContainerCreating until the volumes can be set up.
                self.write_status(&pod, &state).await?;
                return Err(e);
            }
        };
        let probe_view = self.probes.view(&pod, &state);
        let actions = compute_pod_actions(
            &pod,
            &state,
            &probe_view,
            &mut self.backoff,
            Timestamp::now(),
        );
        self.apply(&pod, &state, &actions, &volumes).await?;
        // A sync that changed nothing in the runtime (the usual one for a running pod) needs no
        // second read of it.
        let state = if actions.changes_runtime() {
            pod_runtime_state(&ctx.cri, &uid).await?
        } else {
            state
        };
        self.probes.track(&pod, &state);
        let status_current = self.write_status(&pod, &state).await?;
        self.settled = status_current
            && !actions.changes_runtime()
            && self.waiting.is_empty()
            && self.start_retry_after.is_empty();
        Ok(Outcome::Continue)
    }

    /// The volumes of the last setup, while they may be reused for `pod`.
    fn fresh_volumes(&self, pod: &Pod) -> Option<PodVolumes> {
        let prepared = self.volumes.as_ref()?;
        prepared
            .reusable_for(pod, Instant::now())
            .then(|| prepared.volumes.clone())
    }

    async fn apply(
        &mut self,
        pod: &Pod,
        state: &PodRuntimeState,
        actions: &PodActions,
        volumes: &crate::volumes::PodVolumes,
    ) -> Result<(), KubeletError> {
        let ctx = self.ctx.clone();
        let grace = grace_period_seconds(pod);
        let key = PodKey::of(pod);
        // Back-off decisions replace those of the last sync; pull/config errors stay until a start succeeds.
        self.waiting.retain(|_, w| w.reason != "CrashLoopBackOff");
        for (name, waiting) in &actions.waiting {
            let init = pod
                .spec
                .as_ref()
                .and_then(|s| s.init_containers.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| &c.name == name));
            ctx.events.record(
                pod,
                Some((name, init)),
                true,
                "BackOff",
                format!("Back-off restarting failed container {name} in pod {key}"),
            );
            self.waiting.insert(name.clone(), waiting.clone());
        }
        let pod_ip = state.latest_sandbox().and_then(|s| s.ips.first().cloned());
        for kill in &actions.kill {
            if let Some(record) = state.containers.iter().find(|c| c.id == kill.id) {
                kill_container(
                    &ctx,
                    pod,
                    record,
                    kill.message.clone(),
                    grace,
                    pod_ip.as_deref(),
                )
                .await;
            }
        }
        let mut sandbox = state
            .latest_sandbox()
            .filter(|s| s.ready)
            .map(|s| (s.id.clone(), s.attempt, s.ips.first().cloned()));
        // Taken for the sandbox and for each container start, held until this sync's starts
        // are done.
        let mut turn = ctx.start_gate.slot();
        if let Some(attempt) = actions.create_sandbox {
            turn.hold().await;
            for old in state.sandboxes.iter().filter(|s| s.ready) {
                stop_sandbox(&ctx.cri, &old.id).await?;
            }
            tokio::fs::create_dir_all(pod_log_directory(&ctx.options, &key)).await?;
            super::pod_cgroup_setup::create_for_pod(&ctx.options, pod, &key.uid);
            let config = sandbox_config(pod, &ctx.options, attempt);
            let response = ctx
                .cri
                .runtime
                .clone()
                .run_pod_sandbox(cri::RunPodSandboxRequest {
                    config: Some(config),
                    runtime_handler: String::new(),
                })
                .await;
            match response {
                Ok(response) => {
                    let id = response.into_inner().pod_sandbox_id;
                    let refreshed = pod_runtime_state(&ctx.cri, &key.uid).await?;
                    let ip = refreshed
                        .sandboxes
                        .iter()
                        .find(|s| s.id == id)
                        .and_then(|s| s.ips.first().cloned());
                    sandbox = Some((id, attempt, ip));
                }
                Err(status) => {
                    ctx.events.record(
                        pod,
                        None,
                        true,
                        "FailedCreatePodSandBox",
                        format!("Failed to create pod sandbox: {}", status.message()),
                    );
                    return Err(status.into());
                }
            }
        }
        if let Some((sandbox_id, attempt, ip)) = &sandbox {
            let config = sandbox_config(pod, &ctx.options, *attempt);
            let target = StartTarget {
                pod,
                sandbox_id,
                sandbox_config: &config,
                pod_ip: ip.as_deref(),
                volumes,
            };
            for start in &actions.start {
                if self
                    .start_retry_after
                    .get(&start.name)
                    .is_some_and(|after| Instant::now() < *after)
                {
                    if start.init {
                        break;
                    }
                    continue;
                }
                turn.hold().await;
                match start_container(&ctx, &target, start, &mut self.pull_backoff, &mut turn).await
                {
                    Ok(_) => {
                        self.waiting.remove(&start.name);
                        self.start_retry_after.remove(&start.name);
                    }
                    Err(waiting) => {
                        if retried_after_back_off(&waiting) {
                            self.start_retry_after
                                .insert(start.name.clone(), Instant::now() + START_ERROR_BACKOFF);
                        }
                        self.waiting.insert(start.name.clone(), waiting);
                        if start.init {
                            break;
                        }
                    }
                }
            }
        }
        turn.release();
        for id in &actions.remove_containers {
            remove_container(&ctx.cri, id).await?;
        }
        for id in &actions.remove_sandboxes {
            remove_sandbox(&ctx.cri, id).await?;
        }
        if actions.pod_finished {
            for s in state.sandboxes.iter().filter(|s| s.ready) {
                stop_sandbox(&ctx.cri, &s.id).await?;
            }
        }
        Ok(())
    }

    /// The pod ran past `activeDeadlineSeconds`: it is Failed with upstream's reason and
    /// message, and the next sync stops it as any finished pod.
    async fn fail_past_deadline(&mut self, pod: &Pod) -> Result<(), KubeletError> {
        let key = PodKey::of(pod);
        self.ctx.events.record(
            pod,
            None,
            false,
            DEADLINE_EXCEEDED_REASON,
            DEADLINE_EXCEEDED_MESSAGE.to_string(),
        );
        let mut patch = json!({"status": {
            "phase": "Failed",
            "reason": DEADLINE_EXCEEDED_REASON,
            "message": DEADLINE_EXCEEDED_MESSAGE,
        }});
        if let Some(version) = &pod.metadata.resource_version {
            patch["metadata"] = json!({ "resourceVersion": version });
        }
        let pods: Api<Pod> = Api::namespaced(self.ctx.client.clone(), &key.namespace);
        match pods
            .patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(updated) => {
                self.pod.metadata.resource_version = updated.metadata.resource_version;
                self.pod.status = updated.status;
                Ok(())
            }
            // Gone, or changed since: the next sync looks again.
            Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A Succeeded/Failed pod keeps its status; its sandbox is stopped, not removed.
    async fn stop_finished_pod(&mut self, state: &PodRuntimeState) -> Result<(), KubeletError> {
        let ctx = self.ctx.clone();
        let grace = finished_pod_grace_period_seconds(&self.pod);
        for record in state
            .containers
            .iter()
            .filter(|c| c.state == RunState::Running)
        {
            kill_container(&ctx, &self.pod, record, None, grace, None).await;
        }
        for s in state.sandboxes.iter().filter(|s| s.ready) {
            stop_sandbox(&ctx.cri, &s.id).await?;
        }
        self.probes.stop_all();
        Ok(())
    }

    async fn finish(&mut self, delete_from_api: bool) -> Result<Outcome, KubeletError> {
        self.probes.stop_all();
        terminate_pod(&self.ctx, &self.pod).await?;
        if delete_from_api {
            let key = PodKey::of(&self.pod);
            let pods: Api<Pod> = Api::namespaced(self.ctx.client.clone(), &key.namespace);
            let params = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(Preconditions {
                    uid: Some(key.uid.clone()),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            match pods.delete(&key.name, &params).await {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Outcome::Finished)
    }

    /// Writes the pod's status when it changed. Whether the API now holds what was computed
    /// (false when the pod changed under the write and the next sync must compute again).
    async fn write_status(
        &mut self,
        pod: &Pod,
        state: &PodRuntimeState,
    ) -> Result<bool, KubeletError> {
        let ctx = &self.ctx;
        let mut messages = HashMap::new();
        for record in state
            .containers
            .iter()
            .filter(|c| c.state == RunState::Exited)
        {
            if let Some(message) = termination_message(pod, record, &ctx.options).await {
                messages.insert(record.id.clone(), message);
            }
        }
        let (ready, started): (HashSet<String>, HashSet<String>) = self.probes.results(pod, state);
        let node_ip = ctx.options.node_ip.to_string();
        let status = pod_status(&StatusInputs {
            pod,
            state,
            waiting: &self.waiting,
            ready: &ready,
            started: &started,
            runtime_name: &ctx.runtime_name,
            node_ip: &node_ip,
            termination_messages: &messages,
            now: Timestamp::now(),
        });
        let value =
            serde_json::to_value(&status).map_err(|e| KubeletError::Failed(e.to_string()))?;
        let current = pod
            .status
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok());
        if self.written_status.as_ref() == Some(&value) && current.as_ref() == Some(&value) {
            return Ok(true);
        }
        let key = PodKey::of(pod);
        let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &key.namespace);
        // The status was computed from this version of the pod: if someone else wrote it since
        // (the eviction manager failing it, say), the write must not undo theirs.
        let mut patch = json!({"status": value});
        if let Some(version) = &pod.metadata.resource_version {
            patch["metadata"] = json!({ "resourceVersion": version });
        }
        match pods
            .patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(updated) => {
                self.written_status = Some(value);
                self.pod.metadata.resource_version = updated.metadata.resource_version.clone();
                if is_terminal(&updated) {
                    self.pod.status = updated.status;
                }
                Ok(true)
            }
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                // Take the newer pod; the next sync computes from it.
                if let Some(fresh) = pods.get_opt(&key.name).await? {
                    if fresh.metadata.uid == self.pod.metadata.uid {
                        self.pod = fresh;
                    }
                }
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(labels: &[(&str, &str)]) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        pod
    }

    #[test]
    fn volumes_are_reused_until_the_refresh_period_or_a_metadata_change() {
        let at = Instant::now();
        let prepared = PreparedVolumes {
            volumes: PodVolumes::default(),
            at,
            metadata: projected_metadata(&pod(&[("app", "web")])),
        };
        let same = pod(&[("app", "web")]);
        assert!(prepared.reusable_for(&same, at + Duration::from_secs(1)));
        assert!(!prepared.reusable_for(&same, at + VOLUME_REFRESH));
        let relabelled = pod(&[("app", "web"), ("tier", "front")]);
        assert!(!prepared.reusable_for(&relabelled, at + Duration::from_secs(1)));
        let mut annotated = same.clone();
        annotated.metadata.annotations = Some([("a".to_string(), "b".to_string())].into());
        assert!(!prepared.reusable_for(&annotated, at + Duration::from_secs(1)));
    }
}
