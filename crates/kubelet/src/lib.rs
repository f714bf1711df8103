//! The kubelet: registers the node and runs the pods bound to it through a CRI runtime.
//!
//! It reaches the cluster only through a kube client and the container runtime only through CRI
//! v1 over a unix socket (`cri_client`), so it runs on r8s's runtime and on containerd alike.
#![forbid(unsafe_code)]

pub mod bootstrap;
pub mod container_logs;
pub mod cri_client;
pub mod env;
mod error;
pub mod eviction;
pub mod image_gc;
pub mod lifecycle;
pub mod node;
mod options;
pub mod pods;
pub mod probes;
pub mod server;
pub mod static_pods;
pub mod volumes;

pub use cri_client::CriClient;
pub use error::KubeletError;
pub use options::KubeletOptions;

use std::sync::Arc;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Registers the node, keeps its status and Lease fresh, and runs its pods until `cancel`.
pub async fn run(
    client: kube::Client,
    options: KubeletOptions,
    cancel: CancellationToken,
) -> Result<(), KubeletError> {
    let cri = CriClient::connect(&options.runtime_endpoint).await?;
    let runtime = node::runtime_version(&cri).await?;
    let registered = node::register_node(&client, &options).await?;
    let machine = node::machine::MachineInfo::read(&options.root_dir);
    let cidr_pushed = Arc::new(Notify::new());
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(node::run_pod_cidr_watch(
        client.clone(),
        cri.clone(),
        options.node_name.clone(),
        cidr_pushed.clone(),
        cancel.clone(),
    ));
    let pressure = eviction::no_pressure();
    tasks.spawn(node::run_node_status(
        client.clone(),
        cri.clone(),
        options.clone(),
        runtime.clone(),
        cidr_pushed,
        pressure.clone(),
        cancel.clone(),
    ));
    tasks.spawn(eviction::run_eviction_manager(
        client.clone(),
        cri.clone(),
        options.clone(),
        pressure,
        cancel.clone(),
    ));
    tasks.spawn(image_gc::run_image_gc(
        cri.clone(),
        options.clone(),
        cancel.clone(),
    ));
    tasks.spawn(container_logs::run_container_log_manager(
        cri.clone(),
        options.clone(),
        cancel.clone(),
    ));
    tasks.spawn(node::run_lease(
        client.clone(),
        options.clone(),
        registered.metadata.uid.clone(),
        cancel.clone(),
    ));
    let context = Arc::new(pods::context::PodContext {
        volumes: volumes::VolumeManager::new(client.clone(), options.root_dir.clone()),
        events: pods::events::EventRecorder::new(client.clone(), options.node_name.clone()),
        memory_capacity: i64::try_from(machine.memory_bytes).unwrap_or(i64::MAX),
        start_gate: pods::start_gate::StartGate::new(options.parallel_pod_starts),
        runtime_name: runtime.name.clone(),
        client: client.clone(),
        cri: cri.clone(),
        options: options.clone(),
    });
    let (static_tx, static_rx) = tokio::sync::mpsc::channel(16);
    tasks.spawn(static_pods::run_static_pods(
        client.clone(),
        options.clone(),
        static_tx,
        cancel.clone(),
    ));
    tasks.spawn(pods::run_pods_with_static(
        context,
        static_rx,
        cancel.clone(),
    ));
    let server_options = server::ServerOptions {
        bind_address: std::net::IpAddr::from([0, 0, 0, 0]),
        port: options.kubelet_port,
        node_name: options.node_name.clone(),
        node_ip: options.node_ip,
        serving_cert: None,
        client_ca_pem: options.client_ca_pem.clone(),
        pod_log_dir: options.pod_log_dir.clone(),
    };
    let server_cancel = cancel.clone();
    let access = Arc::new(server::access::Access::through_api(
        client.clone(),
        options.node_name.clone(),
    ));
    tasks.spawn(async move {
        if let Err(e) = server::serve(server_options, cri, access, server_cancel).await {
            tracing::error!(error = %e, "the kubelet server stopped");
        }
    });
    cancel.cancelled().await;
    while tasks.join_next().await.is_some() {}
    Ok(())
}
