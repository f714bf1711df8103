//! The control loops that run inside `r8s server`: controller manager and scheduler. They reach the
//! cluster only through the API, over HTTPS on loopback with the admin credentials, exactly as they
//! would from another process.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use crate::kube_client::client_from;

/// Which loops to run.
pub struct ControlLoops {
    pub controller_manager: bool,
    pub scheduler: bool,
    pub cluster_cidr: String,
    pub node_monitor_grace_period: std::time::Duration,
}

fn identity(component: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "r8s".into());
    format!("{host}_{component}_{}", std::process::id())
}

/// Start the enabled loops; they stop on `cancel`.
pub async fn start(
    loops: ControlLoops,
    kubeconfig: &Path,
    ca_cert_pem: String,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    if loops.controller_manager {
        let client = client_from(kubeconfig).await?;
        let options = controllers::ControllerOptions {
            identity: identity("kube-controller-manager"),
            root_ca_pem: ca_cert_pem,
            cluster_cidr: loops.cluster_cidr.clone(),
            node_monitor_grace_period: loops.node_monitor_grace_period,
            ..controllers::ControllerOptions::default()
        };
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if let Err(error) = controllers::run(client, options, cancel).await {
                tracing::error!(%error, "the controller manager stopped");
            }
        });
    }
    if loops.scheduler {
        let client = client_from(kubeconfig).await?;
        let options = scheduler::SchedulerOptions {
            identity: identity("kube-scheduler"),
            ..scheduler::SchedulerOptions::default()
        };
        tokio::spawn(async move {
            if let Err(error) = scheduler::run(client, options, cancel).await {
                tracing::error!(%error, "the scheduler stopped");
            }
        });
    }
    Ok(())
}
