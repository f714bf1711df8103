//! The eviction loop: every interval, read the signals, publish the node's pressure, and evict the
//! first-ranked pod while a threshold is met.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{ListParams, Patch, PatchParams};
use kube::Api;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::message::eviction_message;
use super::observation::{observe, thresholds_met};
use super::pressure::{PressureSender, PressureState};
use super::ranking::{is_critical, rank_for_disk, rank_for_memory, PodUsage};
use super::threshold::{Signal, Threshold};
use super::usage::containers_by_pod;
use crate::pods::events::EventRecorder;
use crate::pods::qos::milli;
use crate::{CriClient, KubeletError, KubeletOptions};

/// A pod this kubelet evicted, remembered until it leaves the API.
struct Evicted {
    namespace: String,
    name: String,
    message: String,
}

pub struct EvictionManager {
    client: kube::Client,
    cri: CriClient,
    options: KubeletOptions,
    pressure: PressureSender,
    events: EventRecorder,
    evicted: HashMap<String, Evicted>,
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

impl EvictionManager {
    pub fn new(
        client: kube::Client,
        cri: CriClient,
        options: KubeletOptions,
        pressure: PressureSender,
    ) -> Self {
        Self {
            events: EventRecorder::new(client.clone(), options.node_name.clone()),
            client,
            cri,
            options,
            pressure,
            evicted: HashMap::new(),
        }
    }

    async fn image_fs_mountpoint(&self) -> Option<PathBuf> {
        let info = self
            .cri
            .images
            .clone()
            .image_fs_info(cri::ImageFsInfoRequest {})
            .await
            .ok()?
            .into_inner();
        let mountpoint = info
            .image_filesystems
            .first()?
            .fs_id
            .as_ref()?
            .mountpoint
            .clone();
        (!mountpoint.is_empty()).then(|| PathBuf::from(mountpoint))
    }

    /// One pass: observe, publish pressure, evict at most one pod.
    pub async fn check(&mut self) -> Result<(), KubeletError> {
        let image_fs = self.image_fs_mountpoint().await;
        let observations = observe(&self.options.root_dir, image_fs.as_deref());
        let thresholds = self.options.eviction_hard.clone();
        let met = thresholds_met(&thresholds, &observations);
        let state = PressureState {
            memory: met.iter().any(|(t, _)| t.signal == Signal::MemoryAvailable),
            disk: met.iter().any(|(t, _)| t.signal != Signal::MemoryAvailable),
        };
        self.pressure.send_if_modified(|current| {
            let changed = *current != state;
            *current = state;
            changed
        });
        let pods: Api<Pod> = Api::all(self.client.clone());
        let on_node = pods
            .list(
                &ListParams::default().fields(&format!("spec.nodeName={}", self.options.node_name)),
            )
            .await?
            .items;
        self.reassert_evictions(&on_node).await;
        // Memory first, as upstream reclaims the first threshold met in signal order.
        let Some((threshold, observed)) = met.iter().min_by_key(|(t, _)| t.signal) else {
            return Ok(());
        };
        let usage = containers_by_pod(&self.cri).await;
        let mut candidates: Vec<PodUsage> = on_node
            .into_iter()
            .filter(|p| !is_terminal(p) && p.metadata.deletion_timestamp.is_none())
            .filter(|p| !is_critical(p))
            .filter(|p| {
                p.metadata
                    .uid
                    .as_ref()
                    .is_some_and(|uid| !self.evicted.contains_key(uid))
            })
            .map(|pod| {
                let containers = pod
                    .metadata
                    .uid
                    .as_ref()
                    .and_then(|uid| usage.get(uid))
                    .cloned()
                    .unwrap_or_default();
                PodUsage {
                    memory_bytes: containers.iter().map(|c| c.memory_bytes).sum(),
                    disk_bytes: containers.iter().map(|c| c.disk_bytes).sum(),
                    pod,
                }
            })
            .collect();
        if threshold.signal == Signal::MemoryAvailable {
            rank_for_memory(&mut candidates);
        } else {
            rank_for_disk(&mut candidates);
        }
        let Some(victim) = candidates.into_iter().next() else {
            tracing::info!(
                signal = threshold.signal.as_str(),
                "threshold met but no pod to evict"
            );
            return Ok(());
        };
        let containers = victim
            .pod
            .metadata
            .uid
            .as_ref()
            .and_then(|uid| usage.get(uid))
            .cloned()
            .unwrap_or_default();
        self.evict(&victim.pod, threshold, observed.available, &containers)
            .await
    }

    async fn evict(
        &mut self,
        pod: &Pod,
        threshold: &Threshold,
        available: u64,
        containers: &[super::usage::ContainerUsage],
    ) -> Result<(), KubeletError> {
        let resource = if threshold.signal == Signal::MemoryAvailable {
            "memory"
        } else {
            "ephemeral-storage"
        };
        let requests = |name: &str| -> u64 {
            pod.spec
                .iter()
                .flat_map(|s| s.containers.iter())
                .find(|c| c.name == name)
                .and_then(|c| c.resources.as_ref()?.requests.as_ref()?.get(resource))
                .and_then(milli)
                .map_or(0, |m| u64::try_from(m / 1000).unwrap_or(0))
        };
        let message = eviction_message(threshold, available, containers, &requests);
        let evicted = Evicted {
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            message: message.clone(),
        };
        tracing::info!(pod = %format!("{}/{}", evicted.namespace, evicted.name), %message, "evicting pod");
        self.events
            .record(pod, None, true, "Evicted", message.clone());
        self.write_evicted_status(pod, &evicted).await?;
        if let Some(uid) = pod.metadata.uid.clone() {
            self.evicted.insert(uid, evicted);
        }
        Ok(())
    }

    async fn write_evicted_status(&self, pod: &Pod, evicted: &Evicted) -> Result<(), KubeletError> {
        let now = Time(Timestamp::now());
        let mut conditions: Vec<PodCondition> = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        conditions.retain(|c| c.type_ != "DisruptionTarget");
        for c in conditions
            .iter_mut()
            .filter(|c| c.type_ == "Ready" || c.type_ == "ContainersReady")
        {
            if c.status != "False" {
                c.status = "False".into();
                c.reason = Some("PodFailed".into());
                c.last_transition_time = Some(now.clone());
            }
        }
        conditions.push(PodCondition {
            type_: "DisruptionTarget".into(),
            status: "True".into(),
            reason: Some("TerminationByKubelet".into()),
            message: Some(evicted.message.clone()),
            last_transition_time: Some(now),
            ..Default::default()
        });
        let patch = json!({"status": {
            "phase": "Failed",
            "reason": "Evicted",
            "message": evicted.message,
            "conditions": conditions,
        }});
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &evicted.namespace);
        match pods
            .patch_status(
                &evicted.name,
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// An evicted pod stays Failed: a status write racing the eviction is undone; pods gone
    /// from the API are forgotten.
    async fn reassert_evictions(&mut self, on_node: &[Pod]) {
        let present: HashMap<&str, &Pod> = on_node
            .iter()
            .filter_map(|p| Some((p.metadata.uid.as_deref()?, p)))
            .collect();
        self.evicted
            .retain(|uid, _| present.contains_key(uid.as_str()));
        for (uid, evicted) in &self.evicted {
            let Some(pod) = present.get(uid.as_str()) else {
                continue;
            };
            if !is_terminal(pod) {
                if let Err(e) = self.write_evicted_status(pod, evicted).await {
                    tracing::debug!(error = %e, "rewriting an evicted pod's status");
                }
            }
        }
    }
}

/// Runs the eviction checks every `options.eviction_interval` until `cancel`.
pub async fn run_eviction_manager(
    client: kube::Client,
    cri: CriClient,
    options: KubeletOptions,
    pressure: PressureSender,
    cancel: CancellationToken,
) {
    let interval = options.eviction_interval.max(Duration::from_secs(1));
    let mut manager = EvictionManager::new(client, cri, options, pressure);
    loop {
        if let Err(e) = manager.check().await {
            tracing::debug!(error = %e, "eviction check");
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
