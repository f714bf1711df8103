//! The node's networking components, started by the agent next to the kubelet: the pod network
//! between nodes, the service proxy, cluster DNS, NetworkPolicy and the ingress controller. Each
//! talks to the cluster only through the API, with the node's own client.

use std::net::IpAddr;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::cli::{Component, NodeArgs, PodNetworkBackend};

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
    node: &NodeNetwork<'_>,
    tasks: &mut JoinSet<anyhow::Result<()>>,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let backend = match node.args.pod_network {
        PodNetworkBackend::Vxlan => podnetwork::Backend::Vxlan,
        PodNetworkBackend::HostGw => podnetwork::Backend::HostGw,
        PodNetworkBackend::None => return Ok(()),
    };
    let options = podnetwork::PodNetworkOptions {
        node_name: node.node_name.to_owned(),
        node_ip: node.node_ip,
        backend,
        cluster_cidr: node.args.cluster_cidr.clone(),
    };
    let client = node.client.clone();
    let stop = cancel.clone();
    spawn_component(tasks, cancel, "the pod network", async move {
        podnetwork::run(client, options, stop).await
    });
    Ok(())
}

/// The service proxy: Services and EndpointSlices into the node's `ip r8s` nftables table, and
/// the service CIDR routed to `lo`.
fn spawn_service_proxy(
    node: &NodeNetwork<'_>,
    tasks: &mut JoinSet<anyhow::Result<()>>,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let options = proxy::ProxyOptions::new(
        node.node_name,
        vec![node.node_ip],
        node.args.cluster_cidr.clone(),
        node.args.service_cidr.clone(),
    );
    let client = node.client.clone();
    let stop = cancel.clone();
    spawn_component(tasks, cancel, "the service proxy", async move {
        proxy::run(client, options, stop).await
    });
    Ok(())
}

/// Cluster DNS on `<node-ip>:53`, registered behind the `kube-dns` ClusterIP. A port already
/// taken only costs this node its DNS server, never the agent.
fn spawn_dns(
    node: &NodeNetwork<'_>,
    tasks: &mut JoinSet<anyhow::Result<()>>,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let options = dns::DnsOptions::new(
        node.node_name,
        node.node_ip,
        node.args.cluster_dns,
        &node.args.cluster_domain,
    );
    let client = node.client.clone();
    let stop = cancel.clone();
    spawn_component(tasks, cancel, "cluster DNS", async move {
        dns::bind(options).await?.serve(client, stop).await
    });
    Ok(())
}

fn spawn_network_policy(
    node: &NodeNetwork<'_>,
    tasks: &mut JoinSet<anyhow::Result<()>>,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let options = netpol::NetworkPolicyOptions::new(node.node_name);
    let client = node.client.clone();
    let stop = cancel.clone();
    spawn_component(tasks, cancel, "network policy enforcement", async move {
        netpol::run(client, options, stop).await
    });
    Ok(())
}

fn spawn_ingress(
    node: &NodeNetwork<'_>,
    tasks: &mut JoinSet<anyhow::Result<()>>,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let options = ingress::IngressOptions {
        node_name: node.node_name.to_owned(),
        node_ip: node.node_ip,
        http_port: node.args.ingress_http_port,
        https_port: node.args.ingress_https_port,
    };
    let client = node.client.clone();
    let stop = cancel.clone();
    spawn_component(tasks, cancel, "the ingress controller", async move {
        ingress::run(client, options, stop).await
    });
    Ok(())
}

/// Runs one component until `cancel`. A component that fails or ends early is logged and the
/// agent runs on without it: pods keep running whatever happens to the node's networking.
fn spawn_component<F, E>(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    cancel: &CancellationToken,
    name: &'static str,
    component: F,
) where
    F: std::future::Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let cancel = cancel.clone();
    tasks.spawn(async move {
        match component.await {
            Err(error) => tracing::error!(%error, "{name} stopped; the node runs on without it"),
            Ok(()) if !cancel.is_cancelled() => {
                tracing::error!("{name} ended; the node runs on without it");
            }
            Ok(()) => {}
        }
        cancel.cancelled().await;
        Ok(())
    });
}
