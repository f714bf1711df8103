//! `r8s bench services`: many selector-less ClusterIP Services, each with a hand-made
//! EndpointSlice of fake endpoints (198.18.0.0/15, the benchmarking range; never contacted), then
//! - how long until a node's nftables ruleset holds every endpoint,
//! - endpoint change → rule live: one endpoint address replaced, timed from the API write's return
//!   until the new address shows up in `nft monitor` on the node,
//! - full resync: the whole ruleset rendered by the proxy's renderer and applied with `nft -f` in
//!   a scratch network namespace,
//!
//! then deletes its namespace (unless `--keep`). Works with any nftables-based proxy.

mod monitor;
mod resync;

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Node, Service, ServicePort, ServiceSpec};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::{Api, ResourceExt};

use super::progress::Progress;
use super::stats::{millis, Latencies};
use crate::kube_client::client_from;
use monitor::RulesetMonitor;

const BENCH_LABEL: &str = "r8s.io/bench";
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
const PORT_NAME: &str = "http";
const SERVICE_PORT: i32 = 80;
const TARGET_PORT: i32 = 8080;
/// 198.18.0.0/15 (RFC 2544): addresses for benchmarks, never routed anywhere.
const FAKE_RANGE_START: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 0);
const FAKE_RANGE_SIZE: u32 = 1 << 17;

#[derive(Debug, clap::Args)]
pub struct ServicesBenchArgs {
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: PathBuf,
    #[arg(long, default_value_t = 1000)]
    pub services: usize,
    /// Endpoints per Service.
    #[arg(long, default_value_t = 10)]
    pub endpoints: usize,
    /// How many endpoint changes to time.
    #[arg(long, default_value_t = 20)]
    pub changes: usize,
    /// The node's network namespace (`/run/netns/<name>`) whose ruleset to watch (default: this
    /// process's own).
    #[arg(long)]
    pub netns: Option<String>,
    /// The node the resync ruleset is rendered for (default: the first node).
    #[arg(long)]
    pub node: Option<String>,
    #[arg(long, default_value = "10.42.0.0/16")]
    pub cluster_cidr: String,
    #[arg(long, default_value = "10.43.0.0/16")]
    pub service_cidr: String,
    /// `nft -f` runs of the full ruleset in the scratch namespace.
    #[arg(long, default_value_t = 5)]
    pub resync_runs: usize,
    /// Concurrent create requests.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Give up waiting for the ruleset when no new endpoint showed up for this many seconds.
    #[arg(long, default_value_t = 60)]
    pub stall_timeout: u64,
    /// Give up on one endpoint change after this many seconds.
    #[arg(long, default_value_t = 10)]
    pub change_timeout: u64,
    /// Leave the namespace and its Services behind.
    #[arg(long)]
    pub keep: bool,
}

/// The `index`-th fake endpoint address.
fn fake_ip(index: usize) -> anyhow::Result<Ipv4Addr> {
    let offset = u32::try_from(index + 1)
        .ok()
        .filter(|offset| *offset < FAKE_RANGE_SIZE - 1)
        .context("more endpoints than 198.18.0.0/15 holds")?;
    Ok(Ipv4Addr::from(u32::from(FAKE_RANGE_START) + offset))
}

fn bench_service(name: &str) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some([(BENCH_LABEL.to_string(), "services".to_string())].into()),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            ports: Some(vec![ServicePort {
                name: Some(PORT_NAME.into()),
                port: SERVICE_PORT,
                target_port: Some(IntOrString::Int(TARGET_PORT)),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn bench_slice(service: &str, ips: &[Ipv4Addr]) -> EndpointSlice {
    EndpointSlice {
        metadata: ObjectMeta {
            name: Some(format!("{service}-bench")),
            labels: Some(
                [
                    (SERVICE_NAME_LABEL.to_string(), service.to_string()),
                    (MANAGED_BY_LABEL.to_string(), "r8s-bench".to_string()),
                    (BENCH_LABEL.to_string(), "services".to_string()),
                ]
                .into(),
            ),
            ..ObjectMeta::default()
        },
        address_type: "IPv4".into(),
        endpoints: ips.iter().map(|ip| ready_endpoint(*ip)).collect(),
        ports: Some(vec![EndpointPort {
            name: Some(PORT_NAME.into()),
            port: Some(TARGET_PORT),
            protocol: Some("TCP".into()),
            ..EndpointPort::default()
        }]),
    }
}

fn ready_endpoint(ip: Ipv4Addr) -> Endpoint {
    Endpoint {
        addresses: vec![ip.to_string()],
        conditions: Some(EndpointConditions {
            ready: Some(true),
            serving: Some(true),
            terminating: Some(false),
        }),
        ..Endpoint::default()
    }
}

/// Which Service and which of its endpoints the `change`-th change replaces: spread over all.
fn changed_endpoint(change: usize, services: usize, endpoints: usize) -> (usize, usize) {
    ((change * 7919 + 13) % services, change % endpoints)
}

pub async fn run(args: ServicesBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.services > 0 && args.endpoints > 0,
        "--services and --endpoints must be positive"
    );
    let client = client_from(&args.kubeconfig).await?;
    let namespace = format!("r8s-bench-services-{}", std::process::id());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let object = Namespace {
        metadata: ObjectMeta {
            name: Some(namespace.clone()),
            labels: Some([(BENCH_LABEL.to_string(), "services".to_string())].into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    namespaces
        .create(&PostParams::default(), &object)
        .await
        .context("creating the bench namespace")?;
    let result = measure(&client, &namespace, &args).await;
    if args.keep {
        println!("kept namespace {namespace}");
    } else {
        let cleanup = Instant::now();
        namespaces
            .delete(&namespace, &DeleteParams::default())
            .await
            .context("deleting the bench namespace")?;
        println!(
            "namespace {namespace} deletion requested ({:.2} s)",
            cleanup.elapsed().as_secs_f64()
        );
    }
    result
}

async fn measure(
    client: &kube::Client,
    namespace: &str,
    args: &ServicesBenchArgs,
) -> anyhow::Result<()> {
    let total = args.services * args.endpoints;
    let where_ = args
        .netns
        .as_deref()
        .map(|name| format!("network namespace {name}"))
        .unwrap_or_else(|| "this network namespace".into());
    println!(
        "bench services: {} Services × {} endpoints in namespace {namespace}, ruleset watched in {where_}",
        args.services, args.endpoints
    );
    let mut monitor = RulesetMonitor::start(args.netns.as_deref())?;
    monitor.check_running().await?;
    // Addresses no rule names yet, so that a listing never mistakes leftovers for ours.
    let first = free_block(&monitor.list_addresses()?, total + args.changes)?;
    let initial_ips: Vec<Ipv4Addr> = (first..first + total)
        .map(fake_ip)
        .collect::<anyhow::Result<_>>()?;

    let services: Api<Service> = Api::namespaced(client.clone(), namespace);
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), namespace);
    let progress = Progress::new("creating", args.services);
    let started = Instant::now();
    let mut created: Vec<(usize, EndpointSlice)> = futures::stream::iter(0..args.services)
        .map(|index| {
            let (services, slices, progress) = (&services, &slices, &progress);
            let ips = &initial_ips[index * args.endpoints..(index + 1) * args.endpoints];
            async move {
                let name = format!("svc-{index}");
                services
                    .create(&PostParams::default(), &bench_service(&name))
                    .await
                    .with_context(|| format!("creating Service {name}"))?;
                let slice = slices
                    .create(&PostParams::default(), &bench_slice(&name, ips))
                    .await
                    .with_context(|| format!("creating the EndpointSlice of {name}"))?;
                progress.tick();
                anyhow::Ok((index, slice))
            }
        })
        .buffer_unordered(args.concurrency.max(1))
        .try_collect()
        .await?;
    let created_in = started.elapsed();
    created.sort_by_key(|(index, _)| *index);
    let mut slices_by_service: Vec<EndpointSlice> =
        created.into_iter().map(|(_, slice)| slice).collect();
    println!(
        "created {} Services and EndpointSlices in {:.2} s",
        args.services,
        created_in.as_secs_f64()
    );

    let last = wait_until_all_live(&monitor, &initial_ips, args).await?;
    println!(
        "all {total} endpoints live in the ruleset: {:.2} s after the first create, {} after the last write returned",
        last.saturating_duration_since(started).as_secs_f64(),
        millis(last.saturating_duration_since(started + created_in)),
    );

    let change_timeout = Duration::from_secs(args.change_timeout);
    let mut latencies = Vec::with_capacity(args.changes);
    let mut missed = 0;
    // Live, but `nft monitor` never printed it (netlink events dropped).
    let mut unseen = 0;
    for change in 0..args.changes {
        let (service, endpoint) = changed_endpoint(change, args.services, args.endpoints);
        let new_ip = fake_ip(first + total + change)?;
        let mut slice = slices_by_service[service].clone();
        slice.endpoints[endpoint] = ready_endpoint(new_ip);
        let written = slices
            .replace(&slice.name_any(), &PostParams::default(), &slice)
            .await
            .with_context(|| format!("updating EndpointSlice {}", slice.name_any()))?;
        let returned = Instant::now();
        slices_by_service[service] = written;
        match monitor.log().wait_for(new_ip, change_timeout).await {
            Some(seen) => latencies.push(seen.saturating_duration_since(returned)),
            None if monitor.list_addresses()?.contains(&new_ip) => unseen += 1,
            None => missed += 1,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(monitor);
    let changes = Latencies::new(latencies);
    println!(
        "endpoint change → rule live: p50 {}, p90 {}, p99 {}, max {} over {} changes{}",
        millis(changes.quantile(0.5)),
        millis(changes.quantile(0.9)),
        millis(changes.quantile(0.99)),
        millis(changes.quantile(1.0)),
        changes.len(),
        match (missed, unseen) {
            (0, 0) => String::new(),
            _ => format!(
                " ({missed} not live within {}s, {unseen} live but missed by nft monitor)",
                args.change_timeout
            ),
        }
    );

    let options = proxy::RenderOptions {
        node_name: match &args.node {
            Some(node) => node.clone(),
            None => first_node(client).await?,
        },
        cluster_cidr: args.cluster_cidr.clone(),
        service_cidr: args.service_cidr.clone(),
    };
    let resync = resync::measure(client, &options, args.resync_runs).await?;
    let applies = Latencies::new(resync.applies.clone());
    println!(
        "full resync ({} Services, {} EndpointSlices in the cluster; {} lines, {:.1} KiB): render {}, nft -f first {}, then p50 {}, max {} over {} runs",
        resync.services,
        resync.slices,
        resync.script_lines,
        resync.script_bytes as f64 / 1024.0,
        millis(resync.render),
        millis(resync.applies.first().copied().unwrap_or_default()),
        millis(applies.quantile(0.5)),
        millis(applies.quantile(1.0)),
        applies.len()
    );
    Ok(())
}

/// When the last of `ips` went live. Watches `nft monitor`; whenever it falls quiet for a while,
/// a full listing fills in what it may have dropped (then the time is that of the listing).
async fn wait_until_all_live(
    monitor: &RulesetMonitor,
    ips: &[Ipv4Addr],
    args: &ServicesBenchArgs,
) -> anyhow::Result<Instant> {
    const QUIET: Duration = Duration::from_secs(3);
    let stall = Duration::from_secs(args.stall_timeout);
    let mut best = 0;
    let mut progressed = Instant::now();
    loop {
        if let Ok(last) = monitor.log().wait_for_all(ips, QUIET).await {
            return Ok(last);
        }
        let listed_at = Instant::now();
        let listed = monitor.list_addresses()?;
        monitor.note_listing(&listed, listed_at);
        let (seen, last) = monitor.log().seen(ips);
        if seen == ips.len() {
            if let Some(last) = last {
                return Ok(last);
            }
        }
        if seen > best {
            best = seen;
            progressed = Instant::now();
        } else if progressed.elapsed() > stall {
            anyhow::bail!(
                "only {seen} of {} endpoints showed up in the ruleset within {}s of the last one; is an nftables service proxy running there?",
                ips.len(),
                args.stall_timeout
            );
        }
    }
}

/// The first index of `needed` consecutive fake addresses that `present` names none of.
fn free_block(present: &HashSet<Ipv4Addr>, needed: usize) -> anyhow::Result<usize> {
    let needed = needed.max(1);
    let taken: HashSet<usize> = present
        .iter()
        .filter_map(|ip| u32::from(*ip).checked_sub(u32::from(FAKE_RANGE_START) + 1))
        .filter(|index| *index < FAKE_RANGE_SIZE)
        .map(|index| index as usize / needed)
        .collect();
    let block = (0..)
        .find(|block| !taken.contains(block))
        .unwrap_or_default();
    fake_ip(block * needed + needed - 1)?;
    Ok(block * needed)
}

async fn first_node(client: &kube::Client) -> anyhow::Result<String> {
    let nodes: Api<Node> = Api::all(client.clone());
    nodes
        .list(&ListParams::default().limit(1))
        .await
        .context("listing nodes")?
        .items
        .first()
        .map(|node| node.name_any())
        .context("no node to render the ruleset for (pass --node)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_addresses_stay_in_the_benchmark_range() {
        assert_eq!(fake_ip(0).unwrap(), Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!(fake_ip(255).unwrap(), Ipv4Addr::new(198, 18, 1, 0));
        assert_eq!(fake_ip(70_000).unwrap(), Ipv4Addr::new(198, 19, 17, 113));
        assert!(fake_ip(131_070).is_err());
    }

    #[test]
    fn free_blocks_skip_addresses_in_use() {
        let none = HashSet::new();
        assert_eq!(free_block(&none, 100).unwrap(), 0);
        let used: HashSet<Ipv4Addr> = [fake_ip(5).unwrap(), fake_ip(150).unwrap()].into();
        assert_eq!(free_block(&used, 100).unwrap(), 200);
        let elsewhere: HashSet<Ipv4Addr> = [Ipv4Addr::new(10, 43, 0, 1)].into();
        assert_eq!(free_block(&elsewhere, 100).unwrap(), 0);
        assert!(free_block(&none, 200_000).is_err());
    }

    #[test]
    fn changes_spread_over_services_and_endpoints() {
        let picked: std::collections::BTreeSet<(usize, usize)> =
            (0..20).map(|c| changed_endpoint(c, 1000, 10)).collect();
        assert_eq!(picked.len(), 20);
        assert!(picked.iter().all(|(s, e)| *s < 1000 && *e < 10));
    }

    #[test]
    fn slices_belong_to_their_service_and_match_its_port() {
        let slice = bench_slice("svc-3", &[Ipv4Addr::new(198, 18, 0, 1)]);
        let labels = slice.metadata.labels.unwrap();
        assert_eq!(labels[SERVICE_NAME_LABEL], "svc-3");
        assert_ne!(labels[MANAGED_BY_LABEL], "endpointslice-controller.k8s.io");
        let service = bench_service("svc-3");
        let port = &service.spec.unwrap().ports.unwrap()[0];
        assert_eq!(slice.ports.unwrap()[0].name, port.name);
        assert_eq!(slice.endpoints[0].addresses, ["198.18.0.1"]);
    }
}
