//! The running component: caches of Pods, Namespaces and NetworkPolicies, and a loop that
//! re-applies the node's table after each burst of changes.

use std::sync::Arc;
use std::time::Duration;

use futures::{stream, Stream, StreamExt};
use k8s_openapi::api::core::v1::{Container, Namespace, Pod, PodSpec, PodStatus};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource};
use nftables::{Nft, NftCommand};
use serde::de::DeserializeOwned;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::cluster::ClusterState;
use crate::sync::TableSync;
use crate::NetpolError;

/// How long to wait after a change for the rest of its burst before re-applying.
const DEFAULT_SETTLE: Duration = Duration::from_millis(100);
/// How long to wait before trying again when `nft` refuses or fails.
const RETRY_AFTER: Duration = Duration::from_secs(2);

pub struct NetworkPolicyOptions {
    /// Only pods bound to this node are enforced here.
    pub node_name: String,
    pub nft: Arc<dyn Nft>,
    /// Changes closer together than this are applied together.
    pub settle: Duration,
}

impl NetworkPolicyOptions {
    /// Options for `node_name` that program the kernel with `nft` itself.
    pub fn new(node_name: impl Into<String>) -> Self {
        Self {
            node_name: node_name.into(),
            nft: Arc::new(NftCommand::default()),
            settle: DEFAULT_SETTLE,
        }
    }
}

/// Enforces the cluster's NetworkPolicies for this node's pods until `cancel` fires.
pub async fn run(
    client: Client,
    options: NetworkPolicyOptions,
    cancel: CancellationToken,
) -> Result<(), NetpolError> {
    let changed = Arc::new(Notify::new());
    let (pods, pod_events) = cache(Api::<Pod>::all(client.clone()), keep_what_policies_need);
    let (namespaces, namespace_events) = cache(
        Api::<Namespace>::all(client.clone()),
        |_: &mut Namespace| {},
    );
    let (policies, policy_events) = cache(
        Api::<NetworkPolicy>::all(client),
        |_: &mut NetworkPolicy| {},
    );
    let watches = stream::select_all([pod_events, namespace_events, policy_events])
        .for_each(|()| async { changed.notify_one() });
    let caches = Caches {
        pods,
        namespaces,
        policies,
    };
    tokio::select! {
        () = cancel.cancelled() => Ok(()),
        () = watches => Ok(()),
        result = apply_changes(&caches, &options, &changed) => result,
    }
}

struct Caches {
    pods: Store<Pod>,
    namespaces: Store<Namespace>,
    policies: Store<NetworkPolicy>,
}

impl Caches {
    async fn wait_until_filled(&self) -> Result<(), NetpolError> {
        let pods = self.pods.wait_until_ready();
        let namespaces = self.namespaces.wait_until_ready();
        let policies = self.policies.wait_until_ready();
        let (pods, namespaces, policies) = tokio::join!(pods, namespaces, policies);
        pods.map_err(|_| NetpolError::CacheStopped("pod"))?;
        namespaces.map_err(|_| NetpolError::CacheStopped("namespace"))?;
        policies.map_err(|_| NetpolError::CacheStopped("networkpolicy"))?;
        Ok(())
    }

    fn state(&self) -> ClusterState {
        let pods = self.pods.state();
        let namespaces = self.namespaces.state();
        let policies = self.policies.state();
        ClusterState::from_objects(
            pods.iter().map(AsRef::as_ref),
            namespaces.iter().map(AsRef::as_ref),
            policies.iter().map(AsRef::as_ref),
        )
    }
}

/// A watch of `api` filling a store; the stream yields once per change (after the store has it).
fn cache<K>(
    api: Api<K>,
    trim: impl FnMut(&mut K) + Send + 'static,
) -> (Store<K>, std::pin::Pin<Box<dyn Stream<Item = ()> + Send>>)
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Default,
{
    let (store, writer) = reflector::store();
    let kind = K::kind(&K::DynamicType::default()).into_owned();
    let events = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(trim)
        .reflect(writer)
        .filter_map(move |event| {
            let kind = kind.clone();
            async move {
                match event {
                    Ok(_) => Some(()),
                    Err(error) => {
                        tracing::warn!(%kind, %error, "network policy watch failed; retrying");
                        None
                    }
                }
            }
        });
    (store, Box::pin(events))
}

/// Re-renders and applies the table whenever `changed` fires, skipping identical scripts.
async fn apply_changes(
    caches: &Caches,
    options: &NetworkPolicyOptions,
    changed: &Notify,
) -> Result<(), NetpolError> {
    caches.wait_until_filled().await?;
    let table = Arc::new(std::sync::Mutex::new(TableSync::default()));
    loop {
        let state = caches.state();
        let nft = options.nft.clone();
        let node_name = options.node_name.clone();
        let table = table.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let mut table = table
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            table.sync(&state, &node_name, nft.as_ref())
        })
        .await?;
        let retry = match outcome {
            Ok(Some(isolated_pods)) => {
                tracing::info!(node = %options.node_name, isolated_pods, "network policy rules applied");
                false
            }
            Ok(None) => false,
            Err(error) => {
                tracing::warn!(%error, "applying network policy rules failed; retrying");
                true
            }
        };
        if retry {
            tokio::select! {
                () = changed.notified() => {}
                () = tokio::time::sleep(RETRY_AFTER) => {}
            }
        } else {
            changed.notified().await;
        }
        tokio::time::sleep(options.settle).await;
    }
}

/// Drops everything policies never look at, so the pod cache stays small.
fn keep_what_policies_need(pod: &mut Pod) {
    pod.metadata.managed_fields = None;
    pod.metadata.annotations = None;
    pod.metadata.owner_references = None;
    if let Some(spec) = pod.spec.take() {
        pod.spec = Some(PodSpec {
            containers: spec
                .containers
                .into_iter()
                .map(|container| Container {
                    name: container.name,
                    ports: container.ports,
                    ..Default::default()
                })
                .collect(),
            node_name: spec.node_name,
            host_network: spec.host_network,
            ..Default::default()
        });
    }
    if let Some(status) = pod.status.take() {
        pod.status = Some(PodStatus {
            phase: status.phase,
            pod_ip: status.pod_ip,
            pod_ips: status.pod_ips,
            ..Default::default()
        });
    }
}
