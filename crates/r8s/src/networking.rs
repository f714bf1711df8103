//! The node's networking components, started by the agent next to the kubelet: the pod network
//! between nodes, the service proxy, cluster DNS, NetworkPolicy and the ingress controller. Each
//! talks to the cluster only through the API, with the node's own client.

use std::net::IpAddr;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::cli::{Component, NodeArgs};

/// What every networking component knows about the node it runs on.
pub struct NodeNetwork<'a> {
    pub client: kube::Client,
    pub node_name: &'a str,
    pub node_ip: IpAddr,
    pub args: &'a NodeArgs,
}

/// Spawns the enabled components into `tasks`; each stops on `cancel`.
pub fn spawn(
    node: NodeNetwork<'_>,
    tasks: &mut JoinSet<anyhow::Result<()>>,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    spawn_pod_network(&node, tasks, cancel)?;
    if node.args.runs(Component::ServiceProxy) {
        spawn_service_proxy(&node, tasks, cancel)?;
    }
    if node.args.runs(Component::Dns) {
        spawn_dns(&node, tasks, cancel)?;
    }
    if node.args.runs(Component::NetworkPolicy) {
        spawn_network_policy(&node, tasks, cancel)?;
    }
    if node.args.runs(Component::Ingress) {
        spawn_ingress(&node, tasks, cancel)?;
    }
    Ok(())
}

fn spawn_pod_network(
    _node: &NodeNetwork<'_>,
    _tasks: &mut JoinSet<anyhow::Result<()>>,
    _cancel: &CancellationToken,
) -> anyhow::Result<()> {
    Ok(())
}

fn spawn_service_proxy(
    _node: &NodeNetwork<'_>,
    _tasks: &mut JoinSet<anyhow::Result<()>>,
    _cancel: &CancellationToken,
) -> anyhow::Result<()> {
    Ok(())
}

fn spawn_dns(
    _node: &NodeNetwork<'_>,
    _tasks: &mut JoinSet<anyhow::Result<()>>,
    _cancel: &CancellationToken,
) -> anyhow::Result<()> {
    Ok(())
}

fn spawn_network_policy(
    _node: &NodeNetwork<'_>,
    _tasks: &mut JoinSet<anyhow::Result<()>>,
    _cancel: &CancellationToken,
) -> anyhow::Result<()> {
    Ok(())
}

fn spawn_ingress(
    _node: &NodeNetwork<'_>,
    _tasks: &mut JoinSet<anyhow::Result<()>>,
    _cancel: &CancellationToken,
) -> anyhow::Result<()> {
    Ok(())
}
