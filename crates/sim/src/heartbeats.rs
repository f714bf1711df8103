//! Node heartbeats: the Lease in kube-node-lease renewed every `--lease-renew-interval`, and the
//! Ready condition's lastHeartbeatTime posted every `--node-status-interval`. Renewals are spread
//! evenly over each period and run with bounded concurrency, so thousands of nodes make a steady
//! trickle of requests rather than bursts.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{Node, NodeStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference};
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::error::SimError;
use crate::node_registration::node_conditions;
use crate::sim_node::SimNode;

pub const LEASE_NAMESPACE: &str = "kube-node-lease";

/// The spreading tick: each node is due on one tick of every period.
const TICK: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy)]
pub struct HeartbeatConfig {
    pub lease_renew_interval: Duration,
    pub lease_duration_seconds: i32,
    pub node_status_interval: Duration,
    pub concurrency: usize,
    /// The Ready condition's lastTransitionTime: when the simulation registered its nodes.
    pub ready_since: Timestamp,
}

/// Renews leases and posts node status heartbeats until `cancel`.
pub async fn run(
    client: kube::Client,
    nodes: Arc<[Arc<SimNode>]>,
    config: HeartbeatConfig,
    cancel: CancellationToken,
) {
    let leases = spread_over(
        &nodes,
        config.lease_renew_interval,
        config.concurrency,
        &cancel,
        |node| {
            let client = client.clone();
            async move {
                if let Err(error) = renew_lease(&client, &node, config.lease_duration_seconds).await
                {
                    tracing::warn!(%error, "lease renewal failed");
                }
            }
        },
    );
    let statuses = spread_over(
        &nodes,
        config.node_status_interval,
        config.concurrency,
        &cancel,
        |node| {
            let client = client.clone();
            async move {
                if let Err(error) = post_ready_heartbeat(&client, &node, config.ready_since).await {
                    tracing::warn!(%error, "node status heartbeat failed");
                }
            }
        },
    );
    futures::join!(leases, statuses);
}

/// Calls `beat` for every alive node once per `period`, node i on tick i of the period, at most
/// `concurrency` at a time. The ticks never wait for the server: a node whose last beat is still
/// queued or in flight skips its turn, so a slow server sees at most one request per node.
async fn spread_over<F, Fut>(
    nodes: &[Arc<SimNode>],
    period: Duration,
    concurrency: usize,
    cancel: &CancellationToken,
    beat: F,
) where
    F: Fn(Arc<SimNode>) -> Fut,
    Fut: Future<Output = ()>,
{
    let ticks_per_period = (period.as_millis() / TICK.as_millis()).clamp(1, u128::from(u32::MAX));
    let ticks_per_period = ticks_per_period as usize;
    let tick = period / ticks_per_period as u32;
    let mut interval = tokio::time::interval(tick.max(Duration::from_millis(1)));
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut slot = 0;
    let mut busy = vec![false; nodes.len()];
    let mut waiting = VecDeque::new();
    let mut in_flight = FuturesUnordered::new();
    loop {
        while in_flight.len() < concurrency.max(1) {
            let Some(index) = waiting.pop_front() else {
                break;
            };
            let node: &Arc<SimNode> = &nodes[index];
            if node.is_alive() {
                in_flight.push(beat(node.clone()).map(move |()| index));
            } else {
                busy[index] = false;
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = interval.tick() => {
                for index in (slot..nodes.len()).step_by(ticks_per_period) {
                    if !busy[index] && nodes[index].is_alive() {
                        busy[index] = true;
                        waiting.push_back(index);
                    }
                }
                slot = (slot + 1) % ticks_per_period;
            }
            Some(index) = in_flight.next(), if !in_flight.is_empty() => busy[index] = false,
        }
    }
}

/// Creates the node's Lease, or renews the one there (taken over from an earlier run).
pub async fn claim_lease(
    client: &kube::Client,
    node: &SimNode,
    duration_seconds: i32,
) -> Result<(), SimError> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    let lease = lease_object(node, duration_seconds, Timestamp::now());
    match leases.create(&PostParams::default(), &lease).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => {
            renew_lease(client, node, duration_seconds).await
        }
        Err(source) => Err(SimError::lease(&node.name, source)),
    }
}

/// Sets renewTime to now (a merge patch), creating the Lease when it does not exist.
pub async fn renew_lease(
    client: &kube::Client,
    node: &SimNode,
    duration_seconds: i32,
) -> Result<(), SimError> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    let lease = lease_object(node, duration_seconds, Timestamp::now());
    let renewal = Lease {
        metadata: ObjectMeta::default(),
        spec: lease.spec.clone(),
    };
    match leases
        .patch(&node.name, &PatchParams::default(), &Patch::Merge(&renewal))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => {
            match leases.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(()),
                // Created meanwhile by a previous try: it is fresh.
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
                Err(source) => Err(SimError::lease(&node.name, source)),
            }
        }
        Err(source) => Err(SimError::lease(&node.name, source)),
    }
}

/// The node's Lease as a kubelet writes it, owned by the Node so that it goes with it.
pub fn lease_object(node: &SimNode, duration_seconds: i32, now: Timestamp) -> Lease {
    let owner = node.uid().map(|uid| {
        vec![OwnerReference {
            api_version: "v1".to_string(),
            kind: "Node".to_string(),
            name: node.name.clone(),
            uid,
            ..OwnerReference::default()
        }]
    });
    Lease {
        metadata: ObjectMeta {
            name: Some(node.name.clone()),
            namespace: Some(LEASE_NAMESPACE.to_string()),
            owner_references: owner,
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(node.name.clone()),
            lease_duration_seconds: Some(duration_seconds),
            renew_time: Some(MicroTime(now)),
            ..LeaseSpec::default()
        }),
    }
}

/// Posts the conditions with a fresh lastHeartbeatTime (strategic merge: by condition type).
async fn post_ready_heartbeat(
    client: &kube::Client,
    node: &SimNode,
    ready_since: Timestamp,
) -> Result<(), SimError> {
    let nodes: Api<Node> = Api::all(client.clone());
    let heartbeat = Node {
        metadata: ObjectMeta::default(),
        spec: None,
        status: Some(NodeStatus {
            conditions: Some(node_conditions(Timestamp::now(), ready_since)),
            ..NodeStatus::default()
        }),
    };
    nodes
        .patch_status(
            &node.name,
            &PatchParams::default(),
            &Patch::Strategic(&heartbeat),
        )
        .await
        .map(|_| ())
        .map_err(|source| SimError::node_status(&node.name, source))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn the_lease_names_its_holder_and_owner() {
        let node = SimNode::new("sim-node", 0);
        node.set_uid(Some("u-1".into()));
        let lease = lease_object(&node, 40, Timestamp::UNIX_EPOCH);
        assert_eq!(lease.metadata.namespace.as_deref(), Some(LEASE_NAMESPACE));
        let spec = lease.spec.unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("sim-node-0"));
        assert_eq!(spec.lease_duration_seconds, Some(40));
        let owner = &lease.metadata.owner_references.unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str()), ("Node", "u-1"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_server_gets_one_beat_per_node_at_a_time() {
        let nodes: Vec<Arc<SimNode>> = (0..3).map(|i| Arc::new(SimNode::new("n", i))).collect();
        let in_flight = std::sync::atomic::AtomicUsize::new(0);
        let most = std::sync::atomic::AtomicUsize::new(0);
        let beats = std::sync::atomic::AtomicUsize::new(0);
        let cancel = CancellationToken::new();
        let run = spread_over(&nodes, Duration::from_secs(1), 2, &cancel, |_| {
            let (in_flight, most, beats) = (&in_flight, &most, &beats);
            async move {
                use std::sync::atomic::Ordering::SeqCst;
                let now = in_flight.fetch_add(1, SeqCst) + 1;
                most.fetch_max(now, SeqCst);
                beats.fetch_add(1, SeqCst);
                tokio::time::sleep(Duration::from_millis(2500)).await;
                in_flight.fetch_sub(1, SeqCst);
            }
        });
        tokio::select! {
            _ = run => {}
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
        }
        use std::sync::atomic::Ordering::SeqCst;
        assert_eq!(most.load(SeqCst), 2, "bounded by the concurrency");
        let beats = beats.load(SeqCst);
        assert!((6..=9).contains(&beats), "{beats} beats in 10 s");
    }

    #[tokio::test(start_paused = true)]
    async fn every_alive_node_beats_once_per_period_spread_over_it() {
        let nodes: Vec<Arc<SimNode>> = (0..50).map(|i| Arc::new(SimNode::new("n", i))).collect();
        nodes[3].fail();
        let beats = Mutex::new(Vec::new());
        let cancel = CancellationToken::new();
        let start = tokio::time::Instant::now();
        let period = Duration::from_secs(1);
        let run = spread_over(&nodes, period, 4, &cancel, |node| {
            let at = start.elapsed();
            beats.lock().unwrap().push((node.index, at));
            async {}
        });
        tokio::select! {
            _ = run => {}
            _ = tokio::time::sleep(period * 2 - Duration::from_millis(1)) => {}
        }
        let beats = beats.into_inner().unwrap();
        for i in 0..50 {
            let count = beats.iter().filter(|(index, _)| *index == i).count();
            assert_eq!(count, if i == 3 { 0 } else { 2 }, "node {i}");
        }
        let first_period = beats.iter().filter(|(_, at)| *at < period).count();
        assert_eq!(first_period, 49);
        let per_tick = beats.iter().filter(|(_, at)| *at < TICK).count();
        assert!(per_tick <= 5, "{per_tick} beats on the first tick");
    }
}
