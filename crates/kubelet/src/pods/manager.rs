//! Watches the pods bound to this node and runs one worker per pod uid; cleans up orphans.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::watcher;
use kube::Api;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::context::PodContext;
use super::cri_calls::{remove_sandbox, sandboxes_by_pod_uid, stop_sandbox};
use super::relist::run_relist;
use super::worker::{run_pod_worker, WorkerMessage};
use crate::static_pods::{mirror_hash, StaticPodEvent};

const ORPHAN_SWEEP: Duration = Duration::from_secs(10);

struct Workers {
    ctx: Arc<PodContext>,
    by_uid: HashMap<String, mpsc::Sender<WorkerMessage>>,
    /// Pods of the file source, by uid: run like API pods, never stopped by the API's view.
    static_pods: HashMap<String, Pod>,
}

impl Workers {
    fn update(&mut self, pod: Pod) {
        let Some(uid) = pod.metadata.uid.clone() else {
            return;
        };
        self.by_uid.retain(|_, tx| !tx.is_closed());
        match self.by_uid.get(&uid) {
            Some(tx) => {
                let _ = tx.try_send(WorkerMessage::Update(Box::new(pod)));
            }
            None => {
                let (tx, rx) = mpsc::channel(16);
                tokio::spawn(run_pod_worker(self.ctx.clone(), pod, rx));
                self.by_uid.insert(uid, tx);
            }
        }
    }

    /// A pod from the API: mirror pods are not run, their status is handed to their static pod.
    fn api_pod(&mut self, pod: Pod) {
        match mirror_hash(&pod) {
            Some(hash) => {
                if let Some(static_pod) = self.static_pods.get(hash) {
                    let mut with_status = static_pod.clone();
                    with_status.status = pod.status;
                    self.update(with_status);
                }
            }
            None => self.update(pod),
        }
    }

    fn file_pod_event(&mut self, event: StaticPodEvent) {
        match event {
            StaticPodEvent::Apply(pod) => {
                if let Some(uid) = pod.metadata.uid.clone() {
                    self.static_pods.insert(uid, (*pod).clone());
                }
                self.update(*pod);
            }
            StaticPodEvent::Remove(uid) => {
                self.static_pods.remove(&uid);
                self.gone(&uid);
            }
        }
    }

    /// The relist saw these pods' sandboxes or containers change: their workers sync now.
    fn runtime_changed(&self, uids: HashSet<String>) {
        for uid in uids {
            if let Some(tx) = self.by_uid.get(&uid) {
                let _ = tx.try_send(WorkerMessage::RuntimeChanged);
            }
        }
    }

    fn gone(&mut self, uid: &str) {
        if let Some(tx) = self.by_uid.get(uid) {
            // Unlike an update, this message must not be lost to a full queue.
            if let Err(mpsc::error::TrySendError::Full(message)) = tx.try_send(WorkerMessage::Gone)
            {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(message).await;
                });
            }
        }
    }

    /// Sandboxes of pods no worker owns are stopped and removed.
    async fn sweep_orphans(&mut self) {
        self.by_uid.retain(|_, tx| !tx.is_closed());
        let Ok(sandboxes) = sandboxes_by_pod_uid(&self.ctx.cri).await else {
            return;
        };
        for (uid, ids) in sandboxes {
            if self.by_uid.contains_key(&uid) {
                continue;
            }
            tracing::info!(pod_uid = %uid, "removing the sandboxes of a pod that no longer exists");
            for id in ids {
                let _ = stop_sandbox(&self.ctx.cri, &id).await;
                let _ = remove_sandbox(&self.ctx.cri, &id).await;
            }
            let _ = self.ctx.volumes.teardown(&uid).await;
        }
    }
}

pub async fn run_pods(ctx: Arc<PodContext>, cancel: CancellationToken) {
    let (_no_static_pods, static_pods) = mpsc::channel(1);
    run_pods_with_static(ctx, static_pods, cancel).await;
}

/// Runs the pods of the API and those of the file source (`static_pods`).
pub async fn run_pods_with_static(
    ctx: Arc<PodContext>,
    mut static_pods: mpsc::Receiver<StaticPodEvent>,
    cancel: CancellationToken,
) {
    let pods: Api<Pod> = Api::all(ctx.client.clone());
    let config =
        watcher::Config::default().fields(&format!("spec.nodeName={}", ctx.options.node_name));
    let mut stream = watcher(pods, config).boxed();
    let (relist_tx, mut relisted) = mpsc::channel(4);
    tokio::spawn(run_relist(ctx.cri.clone(), relist_tx, cancel.child_token()));
    let mut workers = Workers {
        ctx,
        by_uid: HashMap::new(),
        static_pods: HashMap::new(),
    };
    let mut file_source_open = true;
    let mut listed: Option<Vec<String>> = None;
    let mut sweep = tokio::time::interval(ORPHAN_SWEEP);
    let mut synced = false;
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => return,
            _ = sweep.tick(), if synced => {
                workers.sweep_orphans().await;
                continue;
            }
            Some(changed) = relisted.recv() => {
                workers.runtime_changed(changed);
                continue;
            }
            event = static_pods.recv(), if file_source_open => {
                match event {
                    Some(event) => workers.file_pod_event(event),
                    None => file_source_open = false,
                }
                continue;
            }
            event = stream.next() => event,
        };
        match event {
            None => return,
            Some(Err(e)) => tracing::debug!(error = %e, "watching pods"),
            Some(Ok(watcher::Event::Init)) => listed = Some(Vec::new()),
            Some(Ok(watcher::Event::InitApply(pod))) => {
                if let (Some(list), Some(uid)) = (listed.as_mut(), pod.metadata.uid.clone()) {
                    list.push(uid);
                }
                workers.api_pod(pod);
            }
            Some(Ok(watcher::Event::InitDone)) => {
                // Pods deleted while the watch was down: stop their workers.
                let present = listed.take().unwrap_or_default();
                let stale: Vec<String> = workers
                    .by_uid
                    .keys()
                    .filter(|uid| !present.contains(uid) && !workers.static_pods.contains_key(*uid))
                    .cloned()
                    .collect();
                for uid in stale {
                    workers.gone(&uid);
                }
                if !synced {
                    synced = true;
                    workers.sweep_orphans().await;
                }
            }
            Some(Ok(watcher::Event::Apply(pod))) => workers.api_pod(pod),
            Some(Ok(watcher::Event::Delete(pod))) => {
                if let Some(uid) = pod.metadata.uid.as_deref() {
                    workers.gone(uid);
                }
            }
        }
    }
}
