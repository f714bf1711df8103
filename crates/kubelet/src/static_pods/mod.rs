//! Static pods (upstream's file pod source and mirror pods): every manifest in the static pod
//! directory runs on this node without the API, and is shown in the API as a mirror pod.

mod directory;
pub mod manifest;
pub mod mirror;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use directory::read_static_pods;
pub use manifest::{is_mirror_pod, mirror_hash};

use crate::KubeletOptions;

/// How often the directory is read and the mirror pods checked.
pub const POLL: Duration = Duration::from_secs(4);

/// What the file source tells the pod manager.
#[derive(Debug)]
pub enum StaticPodEvent {
    /// A static pod appeared (a new or edited manifest).
    Apply(Box<Pod>),
    /// The static pod with this uid is gone (manifest removed or edited).
    Remove(String),
}

/// Reads the static pod directory every `POLL`, tells the pod manager what changed and keeps the
/// mirror pods in the API in line, until `cancel`.
pub async fn run_static_pods(
    client: kube::Client,
    options: KubeletOptions,
    events: mpsc::Sender<StaticPodEvent>,
    cancel: CancellationToken,
) {
    if let Err(e) = tokio::fs::create_dir_all(&options.static_pod_dir).await {
        tracing::warn!(error = %e, dir = %options.static_pod_dir.display(), "creating the static pod directory");
    }
    let nodes: Api<Node> = Api::all(client.clone());
    let mut node_uid: Option<String> = None;
    let mut running: BTreeMap<String, Pod> = BTreeMap::new();
    let mut reported = BTreeSet::new();
    loop {
        let desired = read_static_pods(
            &options.static_pod_dir,
            &options.node_name,
            &running,
            &mut reported,
        );
        for uid in running.keys().filter(|uid| !desired.contains_key(*uid)) {
            tracing::info!(pod_uid = %uid, "static pod removed");
            if events
                .send(StaticPodEvent::Remove(uid.clone()))
                .await
                .is_err()
            {
                return;
            }
        }
        for (uid, pod) in desired
            .iter()
            .filter(|(uid, _)| !running.contains_key(*uid))
        {
            tracing::info!(pod = ?pod.metadata.name, pod_uid = %uid, "static pod added");
            if events
                .send(StaticPodEvent::Apply(Box::new(pod.clone())))
                .await
                .is_err()
            {
                return;
            }
        }
        running = desired;
        if node_uid.is_none() {
            node_uid = nodes
                .get(&options.node_name)
                .await
                .ok()
                .and_then(|n| n.metadata.uid);
        }
        if let Some(uid) = &node_uid {
            if let Err(e) = mirror::sync_mirrors(&client, &options.node_name, uid, &running).await {
                tracing::debug!(error = %e, "syncing mirror pods");
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}
