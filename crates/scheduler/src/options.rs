//! How a scheduler instance is configured.

/// Options of [`crate::run`].
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Pods whose `spec.schedulerName` is this are ours.
    pub scheduler_name: String,
    /// Holder identity for leader election and `reportingInstance` of events.
    pub identity: String,
    /// `percentageOfNodesToScore`; `None` is upstream's adaptive default.
    pub percentage_of_nodes_to_score: Option<u32>,
    /// Threads that filter nodes of one pod in parallel (1: on the scheduling thread only).
    pub parallelism: usize,
    /// Bindings in flight at once.
    pub bind_concurrency: usize,
    /// Run leader election on Lease `kube-system/kube-scheduler` before scheduling.
    pub leader_elect: bool,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        // Half the cores: the API server and the binding tasks need the rest.
        let parallelism = std::thread::available_parallelism()
            .map(|n| n.get() / 2)
            .unwrap_or(1)
            .clamp(1, 16);
        SchedulerOptions {
            scheduler_name: "default-scheduler".to_string(),
            identity: format!("r8s-scheduler-{}", std::process::id()),
            percentage_of_nodes_to_score: None,
            parallelism,
            bind_concurrency: 256,
            leader_elect: true,
        }
    }
}
