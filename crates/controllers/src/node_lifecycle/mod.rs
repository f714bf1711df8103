//! The node lifecycle controller: marks nodes whose kubelet went silent (no Lease renewal nor
//! status heartbeat for the grace period) Unknown, taints nodes by their conditions, evicts pods
//! that do not tolerate NoExecute taints, and hands each node a pod CIDR.

mod cidr;
mod conditions;
mod error;
mod eviction;
mod health;
mod pod_cidrs;
mod reconcile;
mod taints;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, ResourceExt};
use tokio_util::sync::CancellationToken;

use crate::event_recorder::EventRecorder;
use crate::informers::Informers;

use cidr::ClusterCidr;
pub use error::Error;
use pod_cidrs::PodCidrs;

#[derive(Debug, Clone)]
pub struct NodeLifecycleOptions {
    /// How long a node may go without a Lease renewal or heartbeat before it is Unknown.
    pub node_monitor_grace_period: Duration,
    pub cluster_cidr: String,
    pub node_cidr_mask_size: u8,
}

impl Default for NodeLifecycleOptions {
    fn default() -> Self {
        Self {
            node_monitor_grace_period: Duration::from_secs(40),
            cluster_cidr: "10.42.0.0/16".into(),
            node_cidr_mask_size: 24,
        }
    }
}

pub struct Context {
    client: Client,
    options: NodeLifecycleOptions,
    nodes: Store<Node>,
    leases: Store<Lease>,
    pods: Store<Pod>,
    heartbeats: Mutex<HeartbeatBook>,
    /// Which pod CIDR blocks nodes hold, including those handed out that the node cache may not
    /// show yet.
    pod_cidrs: Mutex<PodCidrs>,
    recorder: EventRecorder,
}

/// Run until `cancel`, reading Pods and Nodes from the shared `informers`.
pub async fn run(
    client: Client,
    informers: Informers,
    options: NodeLifecycleOptions,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let cluster_cidr = ClusterCidr::parse(&options.cluster_cidr, options.node_cidr_mask_size)?;
    let (leases, lease_writer) = reflector::store();
    let lease_events = reflector::reflector(
        lease_writer,
        watcher(
            Api::<Lease>::namespaced(client.clone(), reconcile::LEASE_NAMESPACE),
            watcher::Config::default(),
        ),
    )
    .default_backoff()
    .touched_objects();
    let pods = informers.pods.store();
    let pod_events = informers.pods.touched_objects();
    let node_store = informers.nodes.store();
    let controller =
        Controller::for_shared_stream(informers.nodes.applied_objects(), informers.nodes.store());
    let ctx = Arc::new(Context {
        client: client.clone(),
        options,
        nodes: controller.store(),
        leases,
        pods,
        heartbeats: Mutex::new(HeartbeatBook::default()),
        pod_cidrs: Mutex::new(PodCidrs::new(cluster_cidr)),
        recorder: EventRecorder::new(client, "node-controller"),
    });
    controller
        .watches_stream(lease_events, |lease: Lease| {
            Some(ObjectRef::new(&lease.name_any()))
        })
        .watches_shared_stream(pod_events, move |pod: Arc<Pod>| {
            // Pods matter only on nodes with NoExecute taints (their tolerations are timed);
            // a node gaining such a taint is reconciled on its own change and sees its pods.
            let node = ObjectRef::new(pod.spec.as_ref()?.node_name.as_deref()?);
            let cached = node_store.get(&node)?;
            has_no_execute_taint(&cached).then_some(node)
        })
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile::reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "node lifecycle reconcile");
            }
        })
        .await;
    Ok(())
}

fn has_no_execute_taint(node: &Node) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|taints| taints.iter().any(|t| t.effect == "NoExecute"))
}

/// When each node was last seen alive. Entries of deleted nodes are dropped now and then, not
/// on every reconcile: that walk over all nodes, once per reconcile, dominated the controller's
/// CPU in clusters of thousands of nodes.
#[derive(Default)]
pub struct HeartbeatBook {
    pub seen: HashMap<String, health::Heartbeat>,
    pruned_at: Option<std::time::Instant>,
}

impl HeartbeatBook {
    const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

    /// Forget nodes `exists` no longer knows, at most once per [`Self::PRUNE_INTERVAL`].
    pub fn prune(&mut self, exists: impl Fn(&str) -> bool) {
        let now = std::time::Instant::now();
        if self
            .pruned_at
            .is_some_and(|at| now.duration_since(at) < Self::PRUNE_INTERVAL)
        {
            return;
        }
        self.pruned_at = Some(now);
        self.seen.retain(|name, _| exists(name));
    }
}

fn error_policy(node: Arc<Node>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(node = ?node.metadata.name, %error, "node lifecycle sync failed");
    Action::requeue(Duration::from_secs(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heartbeat() -> health::Heartbeat {
        health::Heartbeat {
            lease_renewed: None,
            ready_heartbeat: None,
            probed_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn heartbeats_of_gone_nodes_are_pruned_at_most_once_a_minute() {
        let mut book = HeartbeatBook::default();
        book.seen.insert("a".into(), heartbeat());
        book.seen.insert("b".into(), heartbeat());
        book.prune(|name| name == "a");
        assert_eq!(book.seen.len(), 1);
        book.seen.insert("c".into(), heartbeat());
        book.prune(|name| name == "a");
        assert_eq!(
            book.seen.len(),
            2,
            "the second prune within a minute does nothing"
        );
    }
}
