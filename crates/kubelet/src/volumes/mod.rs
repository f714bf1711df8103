//! Pod volumes: prepared on the node before containers start, torn down after the pod is gone.

use std::path::PathBuf;

use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Container, Pod};

use crate::KubeletError;

/// Sets up and tears down the volumes of pods under `<root_dir>/pods/<uid>/volumes`.
#[derive(Clone)]
pub struct VolumeManager {
    client: kube::Client,
    root_dir: PathBuf,
}

/// The prepared volumes of one pod: name → host path, and whether each is read-only.
#[derive(Debug, Clone, Default)]
pub struct PodVolumes {
    pub volumes: Vec<(String, PathBuf, bool)>,
}

impl VolumeManager {
    pub fn new(client: kube::Client, root_dir: PathBuf) -> Self {
        Self { client, root_dir }
    }

    /// Makes every volume of `pod` ready (idempotent; called again on resync to refresh
    /// configMap/secret/downwardAPI/projected contents).
    pub async fn setup(&self, pod: &Pod) -> Result<PodVolumes, KubeletError> {
        let _ = (&self.client, &self.root_dir, pod);
        Ok(PodVolumes::default())
    }

    /// Unmounts and removes everything `setup` made for the pod with this uid.
    pub async fn teardown(&self, pod_uid: &str) -> Result<(), KubeletError> {
        let _ = pod_uid;
        Ok(())
    }
}

impl PodVolumes {
    /// The CRI mounts of one container (volumeMounts with subPath, readOnly; plus the pod's
    /// /etc/hosts and termination-log file are added by the caller).
    pub fn mounts_for(&self, container: &Container) -> Result<Vec<cri::Mount>, KubeletError> {
        let _ = container;
        Ok(Vec::new())
    }
}
