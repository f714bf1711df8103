//! `r8s bench scale`: API latency on a loaded cluster. Registers simulated nodes (in this
//! process), fills one namespace with pods, waits until all run, then measures list / get / patch
//! latency and reports the server's memory.
//!
//! The pods come from ReplicaSets of `PODS_PER_REPLICA_SET` replicas, all created at once: the
//! server's ReplicaSet controller creates the pods in-process, in parallel over the sets and in
//! bursts of up to 500 a sync, which is faster than a client on the same small machine posting
//! each pod over HTTPS, and keeps the client's CPU for the simulated nodes. Readiness is read
//! from a watch on the ReplicaSets' status (readyReplicas), not on the pods.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{Future, StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;
use kube::Api;

use super::leader_leases::{print_leader_leases, LeaderLeaseWatch};
use super::local_processes::local_r8s_processes;
use super::progress::Progress;
use super::stats::{millis, Latencies};
use super::workloads::{
    create_namespace, delete_namespace, follow, pause_pod_spec, pods_per_node, wait_pods_gone,
    SimNodes, WatchView,
};
use crate::kube_client::client_from;

const APP_LABEL: &str = "app";
const APP_VALUE: &str = "r8s-bench-scale";
const SET_LABEL: &str = "r8s.io/bench-replica-set";
const PODS_PER_REPLICA_SET: usize = 1000;
/// Pod deletecollection requests in flight during cleanup.
const CLEANUP_BATCHES_IN_FLIGHT: usize = 4;
/// Concurrent ReplicaSet creates.
const CREATE_CONCURRENCY: usize = 16;
/// Requests in flight while measuring latency.
const REQUEST_CONCURRENCY: usize = 16;
const LIST_LIMIT: u32 = 500;

#[derive(Debug, clap::Args)]
pub struct ScaleBenchArgs {
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: PathBuf,
    /// Simulated nodes started in this process.
    #[arg(long, default_value_t = 5000)]
    pub nodes: usize,
    /// Pods to run before measuring.
    #[arg(long, default_value_t = 150000)]
    pub pods: usize,
    /// Calls of each kind (list, get, patch) measured.
    #[arg(long, default_value_t = 2000)]
    pub requests: usize,
    /// Give up on a phase when it has not advanced for this many seconds.
    #[arg(long, default_value_t = 300)]
    pub stall_timeout: u64,
}

pub async fn run(args: ScaleBenchArgs) -> anyhow::Result<()> {
    let client = client_from(&args.kubeconfig).await?;
    let server_port = server_port(&args.kubeconfig).await;
    let namespace = format!("r8s-bench-scale-{}", std::process::id());
    print_header(&args, &namespace);
    let mut summary = ScaleSummary {
        rss_idle: server_rss(server_port),
        ..ScaleSummary::default()
    };
    let stall = Duration::from_secs(args.stall_timeout);
    let max_pods = pods_per_node(args.pods, args.nodes);
    let mut sim = SimNodes::start(&client, args.nodes, max_pods);
    let leases = LeaderLeaseWatch::start(&client);
    let result = async {
        summary.nodes_ready = sim.wait_ready(&client, stall).await?;
        println!(
            "nodes ready           {:>9.2} s",
            summary.nodes_ready.as_secs_f64()
        );
        create_namespace(&client, &namespace).await?;
        measure(&client, &namespace, &args, server_port, &mut summary).await
    }
    .await;
    let cleaned = cleanup(&client, &namespace, args.pods, stall).await;
    sim.stop_and_delete(&client).await;
    let lease_lines = leases.finish().await;
    result?;
    summary.pods_deleted = cleaned.ok();
    summary.print(&args);
    print_leader_leases(&lease_lines);
    Ok(())
}

fn print_header(args: &ScaleBenchArgs, namespace: &str) {
    println!("# r8s bench scale");
    println!(
        "#   nodes {} (simulated in this process), pods {} (ReplicaSets of {PODS_PER_REPLICA_SET})",
        args.nodes, args.pods
    );
    println!(
        "#   {} calls each of list (limit {LIST_LIMIT}), get, patch at concurrency {REQUEST_CONCURRENCY}",
        args.requests
    );
    println!("#   namespace {namespace}");
}

/// The figures of one run.
#[derive(Default)]
struct ScaleSummary {
    nodes_ready: Duration,
    pods_running: Duration,
    calls: Vec<(&'static str, Latencies, Duration)>,
    rss_idle: Option<ServerMemory>,
    rss_loaded: Option<ServerMemory>,
    pods_deleted: Option<Duration>,
}

impl ScaleSummary {
    fn print(&self, args: &ScaleBenchArgs) {
        println!("## summary: {} nodes, {} pods", args.nodes, args.pods);
        println!(
            "  nodes ready          {:>9.2} s",
            self.nodes_ready.as_secs_f64()
        );
        println!(
            "  pods running         {:>9.2} s  {:>8.0} pods/s",
            self.pods_running.as_secs_f64(),
            args.pods as f64 / self.pods_running.as_secs_f64().max(1e-9)
        );
        for (name, latencies, wall) in &self.calls {
            println!("  {}", call_line(name, latencies, *wall));
        }
        if let Some(deleted) = self.pods_deleted {
            println!("  pods deleted         {:>9.2} s", deleted.as_secs_f64());
        }
        println!(
            "  server RSS idle      {}",
            describe(self.rss_idle.as_ref())
        );
        println!(
            "  server RSS loaded    {}",
            describe(self.rss_loaded.as_ref())
        );
    }
}

fn call_line(name: &str, latencies: &Latencies, wall: Duration) -> String {
    format!(
        "{name:<6} n={:<6} p50={:>10} p99={:>10} {:>8.0} ops/s",
        latencies.len(),
        millis(latencies.quantile(0.5)),
        millis(latencies.quantile(0.99)),
        latencies.len() as f64 / wall.as_secs_f64().max(1e-9)
    )
}

async fn measure(
    client: &kube::Client,
    namespace: &str,
    args: &ScaleBenchArgs,
    server_port: Option<u16>,
    summary: &mut ScaleSummary,
) -> anyhow::Result<()> {
    summary.pods_running = run_pods(client, namespace, args).await?;
    println!(
        "pods running          {:>9.2} s",
        summary.pods_running.as_secs_f64()
    );
    summary.rss_loaded = server_rss(server_port);
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let names = pod_names(&pods, args.requests.min(args.pods)).await?;
    for (name, latencies, wall) in [
        measure_list(client, &pods, args.requests).await?,
        measure_get(&pods, &names, args.requests).await?,
        measure_patch(&pods, &names, args.requests).await?,
    ] {
        println!("{}", call_line(name, &latencies, wall));
        summary.calls.push((name, latencies, wall));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Filling the cluster.

/// Creates the ReplicaSets and waits until all their pods are ready; answers how long it took.
async fn run_pods(
    client: &kube::Client,
    namespace: &str,
    args: &ScaleBenchArgs,
) -> anyhow::Result<Duration> {
    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
    let mut updates = watcher(sets.clone(), watcher::Config::default())
        .default_backoff()
        .boxed();
    let started = Instant::now();
    let sizes = replica_set_sizes(args.pods);
    futures::stream::iter(sizes.iter().enumerate())
        .map(|(index, size)| {
            let sets = sets.clone();
            async move {
                let set = bench_replica_set(index, *size)?;
                sets.create(&PostParams::default(), &set)
                    .await
                    .context("creating a ReplicaSet")
            }
        })
        .buffer_unordered(CREATE_CONCURRENCY)
        .try_for_each(|_| async { Ok(()) })
        .await?;
    let mut view = ReadyPodsView {
        ready: std::collections::HashMap::new(),
        total: args.pods,
    };
    let stall = Duration::from_secs(args.stall_timeout);
    follow(&mut updates, &mut view, "pods running", stall).await?;
    Ok(started.elapsed())
}

/// `pods` split into sets of `PODS_PER_REPLICA_SET`, the last one smaller.
fn replica_set_sizes(pods: usize) -> Vec<usize> {
    (0..pods)
        .step_by(PODS_PER_REPLICA_SET)
        .map(|first| (pods - first).min(PODS_PER_REPLICA_SET))
        .collect()
}

fn bench_replica_set(index: usize, size: usize) -> anyhow::Result<ReplicaSet> {
    let labels = std::collections::BTreeMap::from([
        (APP_LABEL.to_string(), APP_VALUE.to_string()),
        (SET_LABEL.to_string(), index.to_string()),
    ]);
    Ok(ReplicaSet {
        metadata: ObjectMeta {
            name: Some(format!("bench-{index}")),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(i32::try_from(size).context("too many replicas")?),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..LabelSelector::default()
            },
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(pause_pod_spec("registry.k8s.io/pause:3.10", true)),
            }),
            ..ReplicaSetSpec::default()
        }),
        ..ReplicaSet::default()
    })
}

/// readyReplicas of each ReplicaSet, as last seen.
struct ReadyPodsView {
    ready: std::collections::HashMap<String, usize>,
    total: usize,
}

fn ready_replicas(set: &ReplicaSet) -> usize {
    let ready = set
        .status
        .as_ref()
        .and_then(|status| status.ready_replicas)
        .unwrap_or(0);
    usize::try_from(ready).unwrap_or(0)
}

impl WatchView<Event<ReplicaSet>> for ReadyPodsView {
    fn apply(&mut self, event: Event<ReplicaSet>) {
        match event {
            Event::Apply(set) | Event::InitApply(set) => {
                let ready = ready_replicas(&set);
                self.ready
                    .insert(set.metadata.name.unwrap_or_default(), ready);
            }
            Event::Delete(set) => {
                self.ready.remove(&set.metadata.name.unwrap_or_default());
            }
            Event::Init | Event::InitDone => {}
        }
    }

    fn progress(&self) -> usize {
        self.ready.values().sum()
    }

    fn total(&self) -> usize {
        self.total
    }

    fn done(&self) -> bool {
        self.progress() >= self.total
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring calls.

/// Up to `count` pod names, from one metadata list.
async fn pod_names(pods: &Api<Pod>, count: usize) -> anyhow::Result<Vec<String>> {
    let limit = u32::try_from(count.max(1)).unwrap_or(u32::MAX);
    let list = pods
        .list_metadata(&ListParams::default().limit(limit))
        .await
        .context("listing pod names")?;
    let names: Vec<String> = list
        .items
        .into_iter()
        .filter_map(|pod| pod.metadata.name)
        .collect();
    anyhow::ensure!(!names.is_empty(), "no pods to call");
    Ok(names)
}

/// Runs `count` calls, `REQUEST_CONCURRENCY` in flight; answers their latencies and wall time.
async fn timed_calls<F, Fut>(
    label: &'static str,
    count: usize,
    call: F,
) -> anyhow::Result<(&'static str, Latencies, Duration)>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let progress = Progress::new(label, count);
    let started = Instant::now();
    let samples: Vec<Duration> = futures::stream::iter(0..count)
        .map(|i| {
            let pending = call(i);
            let progress = &progress;
            async move {
                let sent = Instant::now();
                pending.await?;
                progress.tick();
                Ok::<_, anyhow::Error>(sent.elapsed())
            }
        })
        .buffer_unordered(REQUEST_CONCURRENCY)
        .try_collect()
        .await?;
    Ok((label, Latencies::new(samples), started.elapsed()))
}

/// Lists of `LIST_LIMIT` pods, read whole but not decoded (to spare the client's CPU).
async fn measure_list(
    client: &kube::Client,
    pods: &Api<Pod>,
    count: usize,
) -> anyhow::Result<(&'static str, Latencies, Duration)> {
    let url = pods.resource_url().to_string();
    let params = ListParams::default().limit(LIST_LIMIT);
    timed_calls("list", count, |_| {
        let request = kube::core::Request::new(url.clone()).list(&params);
        async move {
            let body = client.request_text(request?).await.context("list")?;
            anyhow::ensure!(!body.is_empty(), "an empty list answer");
            Ok(())
        }
    })
    .await
}

async fn measure_get(
    pods: &Api<Pod>,
    names: &[String],
    count: usize,
) -> anyhow::Result<(&'static str, Latencies, Duration)> {
    timed_calls("get", count, |i| {
        let name = &names[i % names.len()];
        async move {
            pods.get(name).await.context("get")?;
            Ok(())
        }
    })
    .await
}

/// A merge patch setting a label on each pod in turn.
async fn measure_patch(
    pods: &Api<Pod>,
    names: &[String],
    count: usize,
) -> anyhow::Result<(&'static str, Latencies, Duration)> {
    let params = PatchParams::default();
    timed_calls("patch", count, |i| {
        let name = &names[i % names.len()];
        let patch =
            serde_json::json!({"metadata": {"labels": {"r8s.io/bench-patched": i.to_string()}}});
        let params = &params;
        async move {
            pods.patch(name, params, &Patch::Merge(patch))
                .await
                .context("patch")?;
            Ok(())
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// The server's memory.

struct ServerMemory {
    pid: u32,
    rss_kib: u64,
}

fn describe(memory: Option<&ServerMemory>) -> String {
    match memory {
        Some(memory) => format!(
            "{:.1} MiB (pid {})",
            memory.rss_kib as f64 / 1024.0,
            memory.pid
        ),
        None => "n/a".to_string(),
    }
}

/// The port of the API server the kubeconfig points at.
async fn server_port(kubeconfig: &Path) -> Option<u16> {
    let kubeconfig = Kubeconfig::read_from(kubeconfig).ok()?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .ok()?;
    config
        .cluster_url
        .port_u16()
        .or(match config.cluster_url.scheme_str() {
            Some("http") => Some(80),
            _ => Some(443),
        })
}

/// VmRSS of the `r8s server` process on this machine that listens on `port`; `None` when there
/// is no such process (the server runs elsewhere) or more than one.
fn server_rss(port: Option<u16>) -> Option<ServerMemory> {
    let port = port?;
    let mut found = local_r8s_processes()
        .into_iter()
        .filter(|p| p.argv.iter().any(|arg| arg == "server") && listen_port(&p.argv) == Some(port))
        .map(|p| p.pid);
    let pid = found.next()?;
    if found.next().is_some() {
        return None;
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(ServerMemory { pid, rss_kib })
}

/// The server's `--https-listen-port`, 6443 when not given.
fn listen_port(args: &[String]) -> Option<u16> {
    const FLAG: &str = "--https-listen-port";
    for (index, arg) in args.iter().enumerate() {
        if let Some(value) = arg.strip_prefix(FLAG).and_then(|v| v.strip_prefix('=')) {
            return value.parse().ok();
        }
        if arg == FLAG {
            return args.get(index + 1)?.parse().ok();
        }
    }
    Some(6443)
}

// ---------------------------------------------------------------------------------------------
// Cleanup.

/// Deletes the ReplicaSets and their pods, waits for the pods to go (the simulated nodes still
/// finish graceful deletions), then removes the namespace. Answers how long the pods took.
async fn cleanup(
    client: &kube::Client,
    namespace: &str,
    pods: usize,
    stall: Duration,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
    let selector = ListParams::default().labels(&format!("{APP_LABEL}={APP_VALUE}"));
    if let Err(error) = sets
        .delete_collection(&DeleteParams::background(), &selector)
        .await
    {
        eprintln!("cleanup: deleting the ReplicaSets: {error}");
    }
    delete_pods_by_set(client, namespace, pods).await;
    delete_namespace(client, namespace).await;
    let selector = format!("{APP_LABEL}={APP_VALUE}");
    let gone = wait_pods_gone(client, namespace, &selector, pods, stall).await;
    if let Err(error) = &gone {
        eprintln!("cleanup: {error:#}");
    }
    gone.map(|()| started.elapsed())
}

/// Deletes the pods one ReplicaSet's worth (1,000) per request, a few requests at a time: a
/// single deletecollection of 150,000 pods outlasts any client's patience.
async fn delete_pods_by_set(client: &kube::Client, namespace: &str, pods: usize) {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let now = DeleteParams::background().grace_period(0);
    let failures = futures::stream::iter(0..replica_set_sizes(pods).len())
        .map(|index| {
            let (api, now) = (&api, &now);
            async move {
                let selector = set_selector(index);
                api.delete_collection(now, &ListParams::default().labels(&selector))
                    .await
                    .err()
            }
        })
        .buffer_unordered(CLEANUP_BATCHES_IN_FLIGHT)
        .filter_map(|failed| async move { failed })
        .collect::<Vec<_>>()
        .await;
    if let Some(first) = failures.first() {
        eprintln!(
            "cleanup: {} pod batches not deleted (the namespace deletion takes them), first: {first}",
            failures.len()
        );
    }
}

/// The label selector of one bench ReplicaSet's pods.
fn set_selector(index: usize) -> String {
    format!("{APP_LABEL}={APP_VALUE},{SET_LABEL}={index}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_split_into_replica_sets() {
        assert_eq!(replica_set_sizes(2500), [1000, 1000, 500]);
        assert_eq!(replica_set_sizes(1000), [1000]);
        assert!(replica_set_sizes(0).is_empty());
    }

    #[test]
    fn a_set_selector_names_one_replica_set() {
        assert_eq!(
            set_selector(7),
            "app=r8s-bench-scale,r8s.io/bench-replica-set=7"
        );
    }

    #[test]
    fn listen_port_from_flags() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            listen_port(&args(&["r8s", "server", "--https-listen-port", "17443"])),
            Some(17443)
        );
        assert_eq!(
            listen_port(&args(&["r8s", "server", "--https-listen-port=1"])),
            Some(1)
        );
        assert_eq!(listen_port(&args(&["r8s", "server"])), Some(6443));
    }
}
