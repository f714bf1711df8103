//! What every pod worker shares.

use crate::volumes::VolumeManager;
use crate::{CriClient, KubeletOptions};

use super::events::EventRecorder;

pub struct PodContext {
    pub client: kube::Client,
    pub cri: CriClient,
    pub options: KubeletOptions,
    /// From CRI Version: the prefix of container IDs (`containerd://…`).
    pub runtime_name: String,
    pub volumes: VolumeManager,
    pub events: EventRecorder,
    pub memory_capacity: i64,
    /// Pods take turns to create sandboxes and containers.
    pub start_gate: super::start_gate::StartGate,
}
