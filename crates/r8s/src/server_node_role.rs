//! The server's own node gets `node-role.kubernetes.io/control-plane` from the control plane, as
//! kubeadm labels its nodes after they register: NodeRestriction forbids a kubelet to set a
//! node-role label on itself.

use std::collections::HashSet;
use std::sync::Arc;

use apiserver::ApiServer;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Patch, PatchParams};
use kube::runtime::watcher;
use kube::Api;
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub const CONTROL_PLANE_LABEL: &str = "node-role.kubernetes.io/control-plane";

/// Labels the Node called `node_name` once each time it is registered (by uid): an administrator
/// who removes the label later is not overruled.
pub fn spawn(server: &Arc<ApiServer>, node_name: String, cancel: CancellationToken) {
    let client = crate::control_loops::component_client(server, "r8s-server");
    tokio::spawn(async move {
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = label_when_registered(client, node_name) => {}
        }
    });
}

async fn label_when_registered(client: kube::Client, node_name: String) {
    let nodes: Api<Node> = Api::all(client);
    let config = watcher::Config::default().fields(&format!("metadata.name={node_name}"));
    let mut events = watcher(nodes.clone(), config).boxed();
    let mut labelled: HashSet<String> = HashSet::new();
    while let Some(event) = events.next().await {
        let node = match event {
            Ok(watcher::Event::Apply(node) | watcher::Event::InitApply(node)) => node,
            Ok(_) => continue,
            Err(e) => {
                tracing::debug!(error = %e, "watching the server's node");
                continue;
            }
        };
        let Some(uid) = node.metadata.uid.clone() else {
            continue;
        };
        if labelled.contains(&uid) {
            continue;
        }
        let has_label = node
            .metadata
            .labels
            .as_ref()
            .is_some_and(|labels| labels.contains_key(CONTROL_PLANE_LABEL));
        if !has_label {
            let patch = json!({"metadata": {"uid": uid, "labels": {CONTROL_PLANE_LABEL: "true"}}});
            if let Err(e) = nodes
                .patch(&node_name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                tracing::warn!(node = %node_name, error = %e, "labelling the server's node");
                continue;
            }
            tracing::info!(node = %node_name, "labelled the server's node as control-plane");
        }
        labelled.insert(uid);
    }
}
