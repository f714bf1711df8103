//! Watches the own Node for spec.podCIDR and hands it to the runtime (CRI UpdateRuntimeConfig).

use std::sync::Arc;

use futures::StreamExt;
use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::Node;
use kube::runtime::watcher;
use kube::Api;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::CriClient;

pub async fn run_pod_cidr_watch(
    client: kube::Client,
    cri: CriClient,
    node_name: String,
    cidr_pushed: Arc<Notify>,
    cancel: CancellationToken,
) {
    let nodes: Api<Node> = Api::all(client);
    let config = watcher::Config::default().fields(&format!("metadata.name={node_name}"));
    let mut stream = watcher(nodes, config).boxed();
    let mut pushed: Option<String> = None;
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => return,
            event = stream.next() => event,
        };
        let node = match event {
            None => return,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "watching the own node");
                continue;
            }
            Some(Ok(watcher::Event::Apply(node) | watcher::Event::InitApply(node))) => node,
            Some(Ok(_)) => continue,
        };
        let Some(cidr) = node.spec.and_then(|s| s.pod_cidr).filter(|c| !c.is_empty()) else {
            continue;
        };
        if pushed.as_deref() == Some(cidr.as_str()) {
            continue;
        }
        let request = cri::UpdateRuntimeConfigRequest {
            runtime_config: Some(cri::RuntimeConfig {
                network_config: Some(cri::NetworkConfig {
                    pod_cidr: cidr.clone(),
                }),
            }),
        };
        match cri.runtime.clone().update_runtime_config(request).await {
            Ok(_) => {
                tracing::info!(%cidr, "pod CIDR handed to the runtime");
                pushed = Some(cidr);
                cidr_pushed.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, %cidr, "updating the runtime's pod CIDR"),
        }
    }
}
