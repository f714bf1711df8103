//! The control loops that run inside `r8s server`: controller manager and scheduler. They reach the
//! cluster only through the API: a kube client on the in-process transport, which runs every
//! request through the same handler stack as HTTPS clients (authorization included).

use std::sync::Arc;

use apiserver::authn::UserInfo;
use apiserver::{ApiServer, InProcessTransport};
use tokio_util::sync::CancellationToken;

/// Which loops to run.
pub struct ControlLoops {
    pub controller_manager: bool,
    pub scheduler: bool,
    pub cluster_cidr: String,
    pub node_monitor_grace_period: std::time::Duration,
    /// ServiceLB, the built-in LoadBalancer Service controller (off with `--disable servicelb`).
    pub servicelb: bool,
}

fn identity(component: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "r8s".into());
    format!("{host}_{component}_{}", std::process::id())
}

/// A client acting as `system:<component>`. Until RBAC exists, components are system:masters.
pub fn component_client(server: &Arc<ApiServer>, component: &str) -> kube::Client {
    let user = UserInfo {
        name: format!("system:{component}"),
        uid: String::new(),
        groups: vec!["system:masters".into()],
    };
    kube::Client::new(InProcessTransport::new(server.clone(), user), "default")
}

/// Start the enabled loops; they stop on `cancel`.
pub fn start(
    loops: ControlLoops,
    server: &Arc<ApiServer>,
    ca_cert_pem: String,
    ca_key_pem: String,
    cancel: CancellationToken,
) {
    if loops.controller_manager {
        let client = component_client(server, "kube-controller-manager");
        let options = controllers::ControllerOptions {
            identity: identity("kube-controller-manager"),
            root_ca_pem: ca_cert_pem.clone(),
            signing_ca: Some(controllers::SigningCa {
                cert_pem: ca_cert_pem,
                key_pem: ca_key_pem,
            }),
            cluster_cidr: loops.cluster_cidr.clone(),
            node_monitor_grace_period: loops.node_monitor_grace_period,
            servicelb: loops.servicelb,
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
        let client = component_client(server, "kube-scheduler");
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
}
