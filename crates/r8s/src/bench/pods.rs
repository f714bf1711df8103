//! `r8s bench pods`: real pods on one real node — create → Running latency and pods/s with a local
//! image, and the node agent's and shims' memory (when they run on this machine) before and with
//! the pods, then clean up.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Container, Namespace, Pod, PodSpec};
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams, WatchEvent, WatchParams};
use kube::Api;

use super::local_processes::local_r8s_processes;
use super::machine_cpu::CpuSample;
use super::progress::Progress;
use super::stats::{millis, Latencies};
use crate::kube_client::client_from;

const NAMESPACE: &str = "r8s-bench-pods";
const BENCH_LABEL: &str = "r8s.io/bench";

#[derive(Debug, clap::Args)]
pub struct PodsBenchArgs {
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: PathBuf,
    #[arg(long, default_value_t = 100)]
    pub pods: usize,
    /// The node to run them on (default: the first Ready node).
    #[arg(long)]
    pub node: Option<String>,
    /// An image already on the node (IfNotPresent).
    #[arg(long, default_value = "docker.io/library/busybox:1.35")]
    pub image: String,
    /// Concurrent create requests.
    #[arg(long, default_value_t = 10)]
    pub concurrency: usize,
    /// Pace the creates at this many pods per second (0: all at once, a burst).
    #[arg(long, default_value_t = 0.0)]
    pub qps: f64,
    /// Give up when no pod became Running for this many seconds.
    #[arg(long, default_value_t = 120)]
    pub stall_timeout: u64,
}

fn bench_pod(name: String, node: &str, image: &str) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name),
            labels: Some([(BENCH_LABEL.to_string(), "pods".to_string())].into()),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            node_name: Some(node.to_string()),
            termination_grace_period_seconds: Some(0),
            containers: vec![Container {
                name: "sleep".into(),
                image: Some(image.to_string()),
                image_pull_policy: Some("IfNotPresent".into()),
                command: Some(vec!["sleep".into(), "3600".into()]),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

async fn pick_node(client: &kube::Client, wanted: Option<String>) -> anyhow::Result<String> {
    if let Some(node) = wanted {
        return Ok(node);
    }
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    for node in nodes.list(&ListParams::default()).await?.items {
        let ready = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if ready {
            if let Some(name) = node.metadata.name {
                return Ok(name);
            }
        }
    }
    anyhow::bail!("no Ready node")
}

pub async fn run(args: PodsBenchArgs) -> anyhow::Result<()> {
    let client = client_from(&args.kubeconfig).await?;
    let node = pick_node(&client, args.node.clone()).await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    if let Err(e) = namespaces.create(&PostParams::default(), &namespace).await {
        if !matches!(&e, kube::Error::Api(s) if s.code == 409) {
            return Err(e).context("creating the bench namespace");
        }
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let pacing = if args.qps > 0.0 {
        format!("paced at {} pods/s", args.qps)
    } else {
        "all at once".to_string()
    };
    println!(
        "bench pods: {} pods on node {node}, image {}, {} concurrent creates, {pacing}",
        args.pods, args.image, args.concurrency
    );
    print_memory("before the pods (idle)");

    let created_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let running = watch_running(pods.clone(), args.pods, created_at.clone()).await?;

    let cpu_at_start = CpuSample::now();
    let started = Instant::now();
    let names: Vec<String> = (0..args.pods).map(|i| format!("bench-{i}")).collect();
    let qps = args.qps;
    futures::stream::iter(names.into_iter().enumerate())
        .map(|(index, name)| {
            let pods = pods.clone();
            let created_at = created_at.clone();
            let pod = bench_pod(name.clone(), &node, &args.image);
            async move {
                if qps > 0.0 {
                    let due = started + Duration::from_secs_f64(index as f64 / qps);
                    tokio::time::sleep_until(due.into()).await;
                }
                if let Ok(mut map) = created_at.lock() {
                    map.insert(name, Instant::now());
                }
                pods.create(&PostParams::default(), &pod).await
            }
        })
        .buffer_unordered(args.concurrency.max(1))
        .try_collect::<Vec<_>>()
        .await
        .context("creating pods")?;

    let progress = Progress::new("running", args.pods);
    let latencies = running
        .wait(Duration::from_secs(args.stall_timeout), &progress)
        .await?;
    let elapsed = started.elapsed();
    let cpu = cpu_at_start.as_ref().and_then(CpuSample::since);
    let latencies = Latencies::new(latencies);
    println!(
        "create → Running: p50 {}, p99 {}, max {} over {} pods",
        millis(latencies.quantile(0.5)),
        millis(latencies.quantile(0.99)),
        millis(latencies.quantile(1.0)),
        latencies.len()
    );
    println!(
        "throughput: {:.1} pods/s ({} pods Running {:.2} s after the first create)",
        args.pods as f64 / elapsed.as_secs_f64(),
        args.pods,
        elapsed.as_secs_f64()
    );
    if let Some(cpu) = cpu {
        // The CPU time there was: every CPU for the whole run.
        let available = cpu.cpus as f64 * elapsed.as_secs_f64();
        println!(
            "this machine's CPU: {:.2} s busy of {:.2} s on {} CPUs ({:.0} %), {:.1} ms per pod \
             (everything on the machine: runtime, CNI, shims, agent, API server, this benchmark)",
            cpu.busy_secs,
            available,
            cpu.cpus,
            100.0 * cpu.busy_secs / available.max(f64::EPSILON),
            1000.0 * cpu.busy_secs / args.pods.max(1) as f64,
        );
    }
    print_memory(&format!("with {} pods", args.pods));

    let cleanup = Instant::now();
    pods.delete_collection(
        &DeleteParams::default().grace_period(0),
        &ListParams::default().labels(&format!("{BENCH_LABEL}=pods")),
    )
    .await
    .context("deleting pods")?;
    loop {
        let left = pods.list(&ListParams::default()).await?.items.len();
        if left == 0 {
            break;
        }
        if cleanup.elapsed() > Duration::from_secs(args.stall_timeout) {
            anyhow::bail!("{left} pods still there after {}s", args.stall_timeout);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("deleted in {:.2} s", cleanup.elapsed().as_secs_f64());
    namespaces
        .delete(NAMESPACE, &DeleteParams::default())
        .await
        .context("deleting the bench namespace")?;
    Ok(())
}

/// Time from each pod's create call to the first watch event showing it Running.
struct RunningWatch {
    done: tokio::sync::mpsc::UnboundedReceiver<Duration>,
    expected: usize,
}

async fn watch_running(
    pods: Api<Pod>,
    expected: usize,
    created_at: Arc<Mutex<HashMap<String, Instant>>>,
) -> anyhow::Result<RunningWatch> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let version = pods
        .list(&ListParams::default().limit(1))
        .await?
        .metadata
        .resource_version
        .unwrap_or_default();
    let mut stream = pods
        .watch(
            &WatchParams::default().labels(&format!("{BENCH_LABEL}=pods")),
            &version,
        )
        .await?
        .boxed();
    tokio::spawn(async move {
        let mut seen = std::collections::HashSet::new();
        while let Some(Ok(event)) = stream.next().await {
            let pod = match event {
                WatchEvent::Added(pod) | WatchEvent::Modified(pod) => pod,
                _ => continue,
            };
            let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
            let Some(name) = pod.metadata.name else {
                continue;
            };
            if !running || !seen.insert(name.clone()) {
                continue;
            }
            let start = created_at.lock().ok().and_then(|m| m.get(&name).copied());
            if let Some(start) = start {
                if tx.send(start.elapsed()).is_err() {
                    return;
                }
            }
        }
    });
    Ok(RunningWatch { done: rx, expected })
}

impl RunningWatch {
    async fn wait(mut self, stall: Duration, progress: &Progress) -> anyhow::Result<Vec<Duration>> {
        let mut latencies = Vec::with_capacity(self.expected);
        while latencies.len() < self.expected {
            match tokio::time::timeout(stall, self.done.recv()).await {
                Ok(Some(latency)) => {
                    latencies.push(latency);
                    progress.tick();
                }
                Ok(None) => anyhow::bail!("the watch ended"),
                Err(_) => anyhow::bail!(
                    "only {} of {} pods Running after a {}s stall",
                    latencies.len(),
                    self.expected,
                    stall.as_secs()
                ),
            }
        }
        Ok(latencies)
    }
}

/// RSS of this machine's r8s processes: servers/agents, shims and pause processes.
fn print_memory(moment: &str) {
    let mut groups: std::collections::BTreeMap<&str, Vec<ProcessMemory>> = Default::default();
    for process in local_r8s_processes() {
        let role = match process.subcommand() {
            Some("shim") => "shim",
            Some("pause") => "pause",
            Some("server") if process.has_flag("--disable-agent") => "server (control plane)",
            Some("server") => "server (control plane + agent)",
            Some("agent") => "agent",
            _ => continue,
        };
        if let Some(memory) = ProcessMemory::read(&process.proc_dir) {
            groups.entry(role).or_default().push(memory);
        }
    }
    if groups.is_empty() {
        println!("memory {moment}: no r8s process on this machine (remote cluster?)");
    }
    for (role, processes) in groups {
        let count = processes.len() as f64;
        let mean = |f: fn(&ProcessMemory) -> u64| {
            processes.iter().map(f).sum::<u64>() as f64 / 1024.0 / count
        };
        println!(
            "memory {moment}: {} × {role}: mean RSS {:.2} MB, PSS {:.2} MB, private {:.2} MB",
            processes.len(),
            mean(|m| m.rss_kb),
            mean(|m| m.pss_kb),
            mean(|m| m.private_kb),
        );
    }
}

/// A process's resident memory: RSS counts the binary's shared pages in full, PSS shares
/// them out among the processes mapping them, private is what this process alone costs.
struct ProcessMemory {
    rss_kb: u64,
    pss_kb: u64,
    private_kb: u64,
}

impl ProcessMemory {
    fn read(proc_dir: &std::path::Path) -> Option<Self> {
        let rollup = std::fs::read_to_string(proc_dir.join("smaps_rollup")).ok()?;
        let field = |name: &str| -> u64 {
            rollup
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        Some(Self {
            rss_kb: field("Rss:"),
            pss_kb: field("Pss:"),
            private_kb: field("Private_Clean:") + field("Private_Dirty:"),
        })
    }
}
