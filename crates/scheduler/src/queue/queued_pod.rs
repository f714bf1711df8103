//! A pod waiting in the scheduling queue, with its attempt history.

use std::sync::Arc;
use std::time::Instant;

use crate::snapshot::PodInfo;

#[derive(Debug, Clone)]
pub struct QueuedPodInfo {
    pub pod: Arc<PodInfo>,
    /// When the pod was last added to a queue (activeQ orders on it).
    pub timestamp: Instant,
    pub attempts: u32,
    pub initial_attempt: Option<Instant>,
    /// Plugins that rejected the pod in its last attempt.
    pub unschedulable_plugins: Vec<&'static str>,
    /// Held back by a PreEnqueue plugin (scheduling gates).
    pub gated: bool,
}

impl QueuedPodInfo {
    pub fn new(pod: Arc<PodInfo>, now: Instant) -> QueuedPodInfo {
        QueuedPodInfo {
            pod,
            timestamp: now,
            attempts: 0,
            initial_attempt: None,
            unschedulable_plugins: Vec::new(),
            gated: false,
        }
    }
}
