//! `r8s bench scheduler`: creates fake nodes and pending pods, measures how fast the cluster's
//! scheduler binds them (creation → bound, observed through a watch), then cleans up.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{
    Container, Namespace, Node, NodeCondition, NodeStatus, Pod, PodSpec, ResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams, WatchEvent, WatchParams};
use kube::Api;

use super::leader_leases::{print_leader_leases, LeaderLeaseWatch};
use super::progress::Progress;
use super::stats::{millis, Latencies};
use crate::kube_client::client_from;
use placement::Placement;

mod placement;

const NAMESPACE: &str = "r8s-bench-sched";
const BENCH_LABEL: &str = "r8s.io/bench";
const BENCH_VALUE: &str = "scheduler";

#[derive(Debug, clap::Args)]
pub struct SchedulerBenchArgs {
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: PathBuf,
    #[arg(long, default_value_t = 5000)]
    pub nodes: usize,
    #[arg(long, default_value_t = 10000)]
    pub pods: usize,
    /// Concurrent create requests.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Give up when no pod was bound for this many seconds.
    #[arg(long, default_value_t = 60)]
    pub stall_timeout: u64,
}

fn quantities(items: &[(&str, &str)]) -> std::collections::BTreeMap<String, Quantity> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
        .collect()
}

fn bench_node(name: String) -> Node {
    let resources = quantities(&[("cpu", "32"), ("memory", "256Gi"), ("pods", "110")]);
    Node {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(
                [
                    (BENCH_LABEL.to_string(), BENCH_VALUE.to_string()),
                    ("kubernetes.io/hostname".to_string(), name),
                ]
                .into(),
            ),
            ..ObjectMeta::default()
        },
        status: Some(NodeStatus {
            capacity: Some(resources.clone()),
            allocatable: Some(resources),
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: "True".into(),
                ..NodeCondition::default()
            }]),
            ..NodeStatus::default()
        }),
        ..Node::default()
    }
}

/// scheduler_perf's default pod: one pause container requesting 100m cpu and 500Mi memory.
fn bench_pod(name: String) -> Pod {
    let resources = quantities(&[("cpu", "100m"), ("memory", "500Mi")]);
    Pod {
        metadata: ObjectMeta {
            name: Some(name),
            labels: Some([(BENCH_LABEL.to_string(), BENCH_VALUE.to_string())].into()),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "pause".into(),
                image: Some("registry.k8s.io/pause:3.10".into()),
                resources: Some(ResourceRequirements {
                    requests: Some(resources.clone()),
                    limits: Some(resources),
                    ..ResourceRequirements::default()
                }),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

/// Runs `count` creates with `concurrency` in flight.
async fn create_all<F, Fut>(
    label: &str,
    count: usize,
    concurrency: usize,
    op: F,
) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let progress = Progress::new(label, count);
    futures::stream::iter(0..count)
        .map(|i| {
            let fut = op(i);
            let progress = &progress;
            async move {
                fut.await?;
                progress.tick();
                Ok::<_, anyhow::Error>(())
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect::<Vec<()>>()
        .await
        .map(|_| ())
}

async fn create_nodes(client: &kube::Client, args: &SchedulerBenchArgs) -> anyhow::Result<()> {
    let nodes: Api<Node> = Api::all(client.clone());
    create_all("creating nodes", args.nodes, args.concurrency, |i| {
        let nodes = nodes.clone();
        async move {
            let node = bench_node(format!("r8s-bench-node-{i}"));
            let created = nodes
                .create(&PostParams::default(), &node)
                .await
                .context("creating node")?;
            // A server that drops status on create gets it through the status subresource.
            let has_allocatable = created
                .status
                .as_ref()
                .and_then(|s| s.allocatable.as_ref())
                .is_some_and(|a| !a.is_empty());
            if !has_allocatable {
                let mut with_status = created;
                with_status.status = node.status;
                nodes
                    .replace_status(
                        &with_status.metadata.name.clone().unwrap_or_default(),
                        &PostParams::default(),
                        &with_status,
                    )
                    .await
                    .context("setting node status")?;
            }
            Ok(())
        }
    })
    .await
}

/// The collection path of the bench's pods.
fn pods_path() -> String {
    format!("/api/v1/namespaces/{NAMESPACE}/pods")
}

/// Records when each pod was first seen bound.
async fn watch_bindings(
    client: kube::Client,
    bound: Arc<Mutex<HashMap<String, Instant>>>,
    ready: tokio::sync::oneshot::Sender<()>,
) -> anyhow::Result<()> {
    let params = WatchParams::default().labels(&format!("{BENCH_LABEL}={BENCH_VALUE}"));
    let mut ready = Some(ready);
    let mut resource_version = "0".to_string();
    // A server may end a watch at any time (a timeout, or a watcher that fell behind): resume it
    // from the last revision seen.
    loop {
        let request = kube::core::Request::new(pods_path()).watch(&params, &resource_version)?;
        let mut stream = client.request_events::<Placement>(request).await?.boxed();
        if let Some(ready) = ready.take() {
            let _ = ready.send(());
        }
        while let Some(event) = stream.try_next().await? {
            let pod = match event {
                WatchEvent::Added(pod) | WatchEvent::Modified(pod) => pod,
                WatchEvent::Bookmark(bookmark) => {
                    resource_version = bookmark.metadata.resource_version;
                    continue;
                }
                WatchEvent::Error(e) => anyhow::bail!("watch error: {e:?}"),
                WatchEvent::Deleted(_) => continue,
            };
            if let Some(rv) = pod.metadata.resource_version.clone() {
                resource_version = rv;
            }
            if pod.is_bound() {
                if let Ok(mut bound) = bound.lock() {
                    bound.entry(pod.metadata.name).or_insert_with(Instant::now);
                }
            }
        }
    }
}

async fn cleanup(client: &kube::Client) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let nodes: Api<Node> = Api::all(client.clone());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let selector = ListParams::default().labels(&format!("{BENCH_LABEL}={BENCH_VALUE}"));
    let background = DeleteParams::background().grace_period(0);
    if let Err(e) = pods.delete_collection(&background, &selector).await {
        eprintln!("cleanup: deleting pods: {e}");
    }
    if let Err(e) = nodes
        .delete_collection(&DeleteParams::default(), &selector)
        .await
    {
        eprintln!("cleanup: deleting nodes: {e}");
    }
    if let Err(e) = namespaces.delete(NAMESPACE, &DeleteParams::default()).await {
        eprintln!("cleanup: deleting namespace: {e}");
    }
}

/// How long a previous run's namespace may take to finish terminating.
const NAMESPACE_GONE_TIMEOUT: Duration = Duration::from_secs(180);

/// A namespace left terminating by the previous run (its cleanup does not wait) refuses new
/// pods: wait until it is gone.
async fn wait_for_terminating_namespace(namespaces: &Api<Namespace>) -> anyhow::Result<()> {
    let deadline = Instant::now() + NAMESPACE_GONE_TIMEOUT;
    loop {
        let terminating = namespaces
            .get_opt(NAMESPACE)
            .await
            .context("reading namespace")?
            .is_some_and(|ns| ns.metadata.deletion_timestamp.is_some());
        if !terminating {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("namespace {NAMESPACE} is still terminating");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub async fn run(args: SchedulerBenchArgs) -> anyhow::Result<()> {
    let client = client_from(&args.kubeconfig).await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    wait_for_terminating_namespace(&namespaces).await?;
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(NAMESPACE.to_string()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    match namespaces.create(&PostParams::default(), &namespace).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => return Err(e).context("creating namespace"),
    }
    let leases = LeaderLeaseWatch::start(&client);
    let result = measure(&client, &args).await;
    let lease_lines = leases.finish().await;
    cleanup(&client).await;
    print_leader_leases(&lease_lines);
    result
}

async fn measure(client: &kube::Client, args: &SchedulerBenchArgs) -> anyhow::Result<()> {
    create_nodes(client, args).await?;
    // Let the scheduler's node watch catch up before the clock starts.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let bound: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let watch = tokio::spawn(watch_bindings(client.clone(), bound.clone(), ready_tx));
    ready_rx.await.context("pod watch did not start")?;

    let created: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let started = Instant::now();
    create_all("creating pods", args.pods, args.concurrency, |i| {
        let client = client.clone();
        let created = created.clone();
        async move {
            let name = format!("bench-pod-{i}");
            let body = serde_json::to_vec(&bench_pod(name.clone()))?;
            let request =
                kube::core::Request::new(pods_path()).create(&PostParams::default(), body)?;
            let at = Instant::now();
            // The bench shares the machine with the server: the created pod it is sent back is
            // checked for success only, not decoded.
            client.request_text(request).await.context("creating pod")?;
            if let Ok(mut created) = created.lock() {
                created.insert(name, at);
            }
            Ok(())
        }
    })
    .await?;
    let created_in = started.elapsed();

    let progress = Progress::new("waiting for bindings", args.pods);
    let mut seen = 0;
    let mut last_progress = Instant::now();
    loop {
        let count = bound.lock().map(|b| b.len()).unwrap_or(0);
        for _ in seen..count.min(args.pods) {
            progress.tick();
        }
        if count > seen {
            last_progress = Instant::now();
        }
        seen = seen.max(count);
        if seen >= args.pods {
            break;
        }
        if last_progress.elapsed() > Duration::from_secs(args.stall_timeout) {
            eprintln!(
                "\nno binding for {}s: stopping with {seen}/{} bound",
                args.stall_timeout, args.pods
            );
            break;
        }
        if watch.is_finished() {
            eprintln!("\npod watch ended early");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    watch.abort();

    let bound = bound.lock().map(|b| b.clone()).unwrap_or_default();
    let created = created.lock().map(|c| c.clone()).unwrap_or_default();
    let last_bound = bound.values().max().copied().unwrap_or(started);
    let samples: Vec<Duration> = created
        .iter()
        .filter_map(|(name, at)| bound.get(name).map(|b| b.saturating_duration_since(*at)))
        .collect();
    let latencies = Latencies::new(samples);
    let wall = last_bound.saturating_duration_since(started);
    println!(
        "scheduler: {} nodes, {}/{} pods bound in {:.2} s (pods created in {:.2} s)",
        args.nodes,
        latencies.len(),
        args.pods,
        wall.as_secs_f64(),
        created_in.as_secs_f64()
    );
    println!(
        "  throughput {:.0} pods/s (first create → last bound)",
        latencies.len() as f64 / wall.as_secs_f64().max(1e-9)
    );
    println!(
        "  creation → bound latency: p50 {}  p99 {}  max {}",
        millis(latencies.quantile(0.5)),
        millis(latencies.quantile(0.99)),
        millis(latencies.quantile(1.0))
    );
    Ok(())
}
