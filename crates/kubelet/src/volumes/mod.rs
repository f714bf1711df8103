//! Pod volumes: prepared on the node before containers start, torn down after the pod is gone.
//!
//! Layout as upstream: `<root_dir>/pods/<uid>/volumes/<plugin>/<name>`, plugin being
//! `kubernetes.io~empty-dir`, `kubernetes.io~configmap`, `kubernetes.io~secret`,
//! `kubernetes.io~projected` or `kubernetes.io~downward-api`. hostPath and PersistentVolumeClaim
//! (bound to a hostPath or local PV) use the host path itself.

pub mod atomic_writer;
mod container_mounts;
pub mod fs_group;
pub mod host_path;
pub mod mounter;
pub mod payload;
mod service_account_token;
mod setup_volume;

use std::path::PathBuf;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;

pub use mounter::{MountCall, Mounter, RecordingMounter, SystemMounter};

use crate::KubeletError;

/// Sets up and tears down the volumes of pods under `<root_dir>/pods/<uid>/volumes`.
#[derive(Clone)]
pub struct VolumeManager {
    client: kube::Client,
    root_dir: PathBuf,
    mounter: Arc<dyn Mounter>,
    tokens: Arc<service_account_token::TokenCache>,
}

/// The prepared volumes of one pod: name → host path, and whether each is read-only.
#[derive(Debug, Clone, Default)]
pub struct PodVolumes {
    pub volumes: Vec<(String, PathBuf, bool)>,
}

impl VolumeManager {
    pub fn new(client: kube::Client, root_dir: PathBuf) -> Self {
        Self::with_mounter(client, root_dir, Arc::new(SystemMounter))
    }

    /// A manager whose mounts go through `mounter` (a `RecordingMounter` in tests).
    pub fn with_mounter(
        client: kube::Client,
        root_dir: PathBuf,
        mounter: Arc<dyn Mounter>,
    ) -> Self {
        Self {
            client,
            root_dir,
            mounter,
            tokens: Arc::default(),
        }
    }

    /// `<root_dir>/pods/<uid>`.
    pub fn pod_dir(&self, pod_uid: &str) -> PathBuf {
        self.root_dir.join("pods").join(pod_uid)
    }

    /// Makes every volume of `pod` ready (idempotent; called again on resync to refresh
    /// configMap/secret/downwardAPI/projected contents). The error text is upstream's FailedMount
    /// message: `MountVolume.SetUp failed for volume "<name>" : <cause>`.
    pub async fn setup(&self, pod: &Pod) -> Result<PodVolumes, KubeletError> {
        let uid = pod.metadata.uid.as_deref().unwrap_or_default();
        if uid.is_empty() {
            return Err(KubeletError::Failed("pod has no uid".into()));
        }
        let volumes_dir = self.pod_dir(uid).join("volumes");
        let mut prepared = PodVolumes::default();
        let context =
            setup_volume::SetupContext::new(&self.client, pod, &volumes_dir, &*self.mounter)
                .await?
                .with_tokens(&self.tokens);
        for volume in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
            let (path, read_only) = context.setup(volume).await.map_err(|e| {
                KubeletError::Failed(format!(
                    "MountVolume.SetUp failed for volume \"{}\" : {e}",
                    volume.name
                ))
            })?;
            prepared
                .volumes
                .push((volume.name.clone(), path, read_only));
        }
        Ok(prepared)
    }

    /// Unmounts and removes everything `setup` made for the pod with this uid.
    pub async fn teardown(&self, pod_uid: &str) -> Result<(), KubeletError> {
        if pod_uid.is_empty() {
            return Ok(());
        }
        self.tokens.forget_pod(pod_uid);
        let pod_dir = self.pod_dir(pod_uid);
        for mount_point in self.mounter.mount_points_under(&pod_dir) {
            self.mounter.unmount(&mount_point)?;
        }
        match std::fs::remove_dir_all(&pod_dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests;
