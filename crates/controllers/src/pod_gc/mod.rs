//! The pod garbage collector: a periodic sweep over the pod and node caches (upstream's
//! podgc): terminated pods beyond `terminated_pod_gc_threshold`, pods of vanished nodes after a
//! quarantine, and unscheduled terminating pods are force-deleted.

mod plan;

use crate::informers::{wait_until_listed, Informers};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::DeleteParams;
use kube::runtime::reflector::Store;
use kube::{Api, Client, ResourceExt};
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
}

impl From<Error> for crate::ControllerError {
    fn from(Error::Kube(error): Error) -> Self {
        error.into()
    }
}

#[derive(Debug, Clone)]
pub struct PodGcOptions {
    /// Terminated pods kept before the oldest are deleted; 0 turns this off.
    pub terminated_pod_gc_threshold: usize,
    /// How long a node must be gone before its pods are deleted.
    pub orphan_quarantine: Duration,
    pub interval: Duration,
}

impl Default for PodGcOptions {
    fn default() -> Self {
        Self {
            terminated_pod_gc_threshold: 12500,
            orphan_quarantine: Duration::from_secs(40),
            interval: Duration::from_secs(20),
        }
    }
}

/// Sweeps the shared Pod and Node caches every `options.interval` until `cancel`.
pub async fn run(
    client: Client,
    informers: Informers,
    options: PodGcOptions,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let pods = informers.pods.store();
    let nodes = informers.nodes.store();
    tokio::select! {
        () = cancel.cancelled() => Ok(()),
        result = sweep_forever(&client, &options, &pods, &nodes) => result,
    }
}

async fn sweep_forever(
    client: &Client,
    options: &PodGcOptions,
    pods: &Store<Pod>,
    nodes: &Store<Node>,
) -> Result<(), Error> {
    let mut missing_since = HashMap::new();
    loop {
        if wait_until_listed(pods).await.is_err() || wait_until_listed(nodes).await.is_err() {
            return Ok(());
        }
        let all_pods = pods.state();
        let pod_refs: Vec<&Pod> = all_pods.iter().map(AsRef::as_ref).collect();
        let node_names: BTreeSet<String> = nodes.state().iter().map(|n| n.name_any()).collect();
        let now = jiff::Timestamp::now();
        let threshold = options.terminated_pod_gc_threshold;
        for doomed in plan::plan_gc(
            &pod_refs,
            &node_names,
            &mut missing_since,
            now,
            threshold,
            options.orphan_quarantine,
        ) {
            tracing::info!(pod = %doomed.name, namespace = %doomed.namespace, why = doomed.why, "garbage collecting pod");
            let api: Api<Pod> = Api::namespaced(client.clone(), &doomed.namespace);
            match api
                .delete(&doomed.name, &DeleteParams::default().grace_period(0))
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(error) => tracing::warn!(%error, pod = %doomed.name, "pod garbage collection"),
            }
        }
        tokio::time::sleep(options.interval).await;
    }
}
