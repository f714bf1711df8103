//! The watch loop: Nodes in, one programming pass whenever what matters of them changes, and every
//! `RESYNC_PERIOD` regardless (a route someone deleted comes back).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Patch, PatchParams};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::Api;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::node_view::{node_view, NodeView};
use crate::programmer::{Programmed, Programmer};
use crate::publish::annotation_patch;
use crate::subnet::Subnet;
use crate::tools::{IpRoute2, NetTools};
use crate::{PodNetworkError, PodNetworkOptions};

pub const RESYNC_PERIOD: Duration = Duration::from_secs(60);
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(5);

/// Programs the pod network of the namespace this process runs in until `cancel`.
pub async fn run(
    client: kube::Client,
    options: PodNetworkOptions,
    cancel: CancellationToken,
) -> Result<(), PodNetworkError> {
    run_with(client, options, IpRoute2::current_namespace(), cancel).await
}

/// `run` with the given effects.
pub async fn run_with<T: NetTools + 'static>(
    client: kube::Client,
    options: PodNetworkOptions,
    tools: T,
    cancel: CancellationToken,
) -> Result<(), PodNetworkError> {
    let IpAddr::V4(node_ip) = options.node_ip else {
        return Err(PodNetworkError::NotIpv4(options.node_ip));
    };
    let programmer = Arc::new(Programmer {
        tools,
        backend: options.backend,
        node_name: options.node_name.clone(),
        node_ip,
        cluster: Subnet::parse(&options.cluster_cidr),
    });
    let forwarding = Arc::clone(&programmer);
    match tokio::task::spawn_blocking(move || forwarding.tools.enable_ip_forwarding()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "pods on other nodes may be unreachable"),
        Err(error) => tracing::warn!(%error, "enabling IP forwarding"),
    }

    let nodes: Api<Node> = Api::all(client);
    let (store, writer) = reflector::store();
    let events = watcher(nodes.clone(), watcher::Config::default())
        .default_backoff()
        .reflect(writer);
    let mut events = std::pin::pin!(events);
    let next_pass = tokio::time::sleep(Duration::ZERO);
    let mut next_pass = std::pin::pin!(next_pass);
    let mut ready = false;
    let mut last: Option<Vec<NodeView>> = None;
    tracing::info!(backend = ?options.backend, node = %options.node_name, "pod network started");
    loop {
        let due = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            event = events.next() => match event {
                None => return Ok(()),
                Some(Err(error)) => {
                    tracing::warn!(%error, "watching nodes");
                    continue;
                }
                Some(Ok(watcher::Event::InitDone)) => {
                    ready = true;
                    false
                }
                Some(Ok(_)) => false,
            },
            _ = next_pass.as_mut() => true,
        };
        if !ready {
            continue;
        }
        let mut views: Vec<NodeView> = store.state().iter().filter_map(|n| node_view(n)).collect();
        views.sort();
        if !due && last.as_ref() == Some(&views) {
            continue;
        }
        let pass = Arc::clone(&programmer);
        let for_pass = views.clone();
        let outcome = tokio::task::spawn_blocking(move || pass.sync_views(&for_pass)).await;
        let wait = match outcome {
            Ok(Ok(programmed)) => {
                last = Some(views);
                publish(&nodes, &store, &options.node_name, node_ip, &programmed).await;
                RESYNC_PERIOD
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "programming the pod network; retrying");
                last = None;
                RETRY_AFTER_ERROR
            }
            Err(error) => {
                tracing::warn!(%error, "pod network pass panicked; retrying");
                last = None;
                RETRY_AFTER_ERROR
            }
        };
        next_pass.as_mut().reset(Instant::now() + wait);
    }
}

async fn publish(
    nodes: &Api<Node>,
    store: &Store<Node>,
    node_name: &str,
    node_ip: Ipv4Addr,
    programmed: &Programmed,
) {
    let Some(mac) = &programmed.vxlan_mac else {
        return;
    };
    let Some(own) = store.get(&ObjectRef::new(node_name)) else {
        return;
    };
    let Some(patch) = annotation_patch(&own, mac, node_ip) else {
        return;
    };
    match nodes
        .patch(node_name, &PatchParams::default(), &Patch::Merge(patch))
        .await
    {
        Ok(_) => tracing::info!(node = node_name, %mac, "published the VXLAN device address"),
        Err(source) => {
            let error = PodNetworkError::Publish {
                node: node_name.to_owned(),
                source,
            };
            tracing::warn!(%error, "other nodes cannot reach this node's pods yet");
        }
    }
}
