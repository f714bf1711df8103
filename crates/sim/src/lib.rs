//! Simulated nodes (kwok-like): register Nodes, keep them alive, and drive the pods bound to them.
//!
//! Everything goes through the Kubernetes API of whatever server the client points at: no
//! containers run and no traffic is sent to the addresses written in the API.
//!
//! SIGUSR1 stops the heartbeats of the first simulated node still alive (see `node_failures`).
#![forbid(unsafe_code)]

mod args;
mod error;
mod heartbeats;
mod ip_pool;
mod node_failures;
mod node_registration;
mod pod_driver;
mod pod_plan;
mod pod_status;
mod sim_node;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

pub use args::SimArgs;
pub use error::SimError;

use heartbeats::HeartbeatConfig;
use node_registration::NodeTemplate;
use sim_node::SimNode;

/// Registers `args.nodes` nodes, then keeps them alive and drives their pods until `cancel`.
pub async fn run(
    client: kube::Client,
    args: SimArgs,
    cancel: CancellationToken,
) -> Result<(), SimError> {
    if args.nodes == 0 {
        return Err(SimError::NoNodes);
    }
    let nodes: Arc<[Arc<SimNode>]> = (0..args.nodes)
        .map(|index| Arc::new(SimNode::new(&args.node_prefix, index)))
        .collect();
    let doomed = node_failures::nodes_to_fail(&nodes, &args.fail_nodes)?;
    let concurrency = usize::from(args.concurrency.max(1));

    let template = NodeTemplate::from_args(&args);
    let registrations = node_registration::register_all(
        &client,
        &template,
        &nodes,
        args.lease_duration_seconds,
        concurrency,
    );
    tokio::select! {
        _ = cancel.cancelled() => return Ok(()),
        result = registrations => result?,
    }
    tracing::info!(nodes = nodes.len(), "simulated nodes registered");

    let config = HeartbeatConfig {
        lease_renew_interval: args.lease_renew_interval,
        lease_duration_seconds: args.lease_duration_seconds,
        node_status_interval: args.node_status_interval,
        concurrency,
        ready_since: jiff::Timestamp::now(),
    };
    let beats = heartbeats::run(client.clone(), nodes.clone(), config, cancel.clone());
    let pods = pod_driver::run(
        client,
        &nodes,
        args.pod_run_time,
        args.concurrency.max(1),
        cancel.clone(),
    );
    let failures = node_failures::run(nodes.clone(), doomed, args.fail_after, cancel.clone());
    let (_, _, failed) = tokio::join!(beats, pods, failures);
    failed
}
