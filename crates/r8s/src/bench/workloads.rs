//! `r8s bench workloads`: a Deployment's life on a cluster: created until fully available, rolled
//! to a new image until the old ReplicaSet is at zero, deleted until its last pod is gone.
//!
//! Nodes are simulated in this process (the `sim` crate) unless `--no-sim`. Progress is read from
//! watches (the Deployment and its ReplicaSets; pod metadata only while deleting), never by
//! polling objects.
//!
//! The node simulation, the watch-following loop and the cleanup helpers here are shared with
//! `r8s bench scale` (`pub(super)`).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, ReplicaSet};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Container, Namespace, Node, Pod, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::core::PartialObjectMeta;
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Resource};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::leader_leases::{print_leader_leases, LeaderLeaseWatch};
use super::progress::Progress;
use crate::kube_client::client_from;

const DEPLOYMENT: &str = "bench";
const APP_LABEL: &str = "app";
const APP_VALUE: &str = "r8s-bench-workloads";
const FIRST_IMAGE: &str = "registry.k8s.io/pause:3.10";
const SECOND_IMAGE: &str = "registry.k8s.io/pause:3.9";
/// The label on the simulated nodes that the benchmark pods select (value: the node prefix).
pub(super) const SIM_NODE_LABEL: &str = "r8s.io/bench-sim";
pub(super) const SIM_NODE_PREFIX: &str = "bench-node";
const LEASE_NAMESPACE: &str = "kube-node-lease";
/// Concurrent deletes of Nodes and Leases while cleaning up.
const CLEANUP_CONCURRENCY: usize = 32;

#[derive(Debug, clap::Args)]
pub struct WorkloadsBenchArgs {
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: PathBuf,
    /// Replicas of the Deployment.
    #[arg(long, default_value_t = 10000)]
    pub replicas: usize,
    /// Simulated nodes started in this process.
    #[arg(long, default_value_t = 1000)]
    pub nodes: usize,
    /// Use the cluster's existing nodes instead of simulating some.
    #[arg(long)]
    pub no_sim: bool,
    /// Give up on a phase when it has not advanced for this many seconds.
    #[arg(long, default_value_t = 300)]
    pub stall_timeout: u64,
}

pub async fn run(args: WorkloadsBenchArgs) -> anyhow::Result<()> {
    let replicas = i32::try_from(args.replicas).context("--replicas is too large")?;
    let client = client_from(&args.kubeconfig).await?;
    let namespace = format!("r8s-bench-workloads-{}", std::process::id());
    print_header(&args, &namespace);
    let stall = Duration::from_secs(args.stall_timeout);
    let mut sim = None;
    let leases = LeaderLeaseWatch::start(&client);
    let result = async {
        if !args.no_sim {
            let max_pods = pods_per_node(args.replicas + args.replicas.div_ceil(4), args.nodes);
            let nodes = sim.insert(SimNodes::start(&client, args.nodes, max_pods));
            let took = nodes.wait_ready(&client, stall).await?;
            println!("nodes ready           {:>9.2} s", took.as_secs_f64());
        }
        create_namespace(&client, &namespace).await?;
        measure(&client, &namespace, replicas, !args.no_sim, stall).await
    }
    .await;
    cleanup(&client, &namespace, sim).await;
    let lease_lines = leases.finish().await;
    let summary = result?;
    summary.print(&args);
    print_leader_leases(&lease_lines);
    Ok(())
}

fn print_header(args: &WorkloadsBenchArgs, namespace: &str) {
    let nodes = if args.no_sim {
        "the cluster's own".to_string()
    } else {
        format!("{} simulated in this process", args.nodes)
    };
    println!("# r8s bench workloads");
    println!("#   replicas {}, nodes: {nodes}", args.replicas);
    println!("#   namespace {namespace}, deployment {DEPLOYMENT}");
}

/// The three timed phases.
struct WorkloadsSummary {
    available: Duration,
    rolled: Duration,
    deleted: Duration,
}

impl WorkloadsSummary {
    fn print(&self, args: &WorkloadsBenchArgs) {
        let rate = |d: Duration| args.replicas as f64 / d.as_secs_f64().max(1e-9);
        println!("## summary: deployment of {} replicas", args.replicas);
        for (name, took) in [
            ("create -> available", self.available),
            ("rolling update", self.rolled),
            ("delete -> no pods", self.deleted),
        ] {
            println!(
                "  {name:<20} {:>9.2} s  {:>8.0} pods/s",
                took.as_secs_f64(),
                rate(took)
            );
        }
    }
}

async fn measure(
    client: &kube::Client,
    namespace: &str,
    replicas: i32,
    on_sim_nodes: bool,
    stall: Duration,
) -> anyhow::Result<WorkloadsSummary> {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let replica_sets: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
    let mut updates = rollout_updates(deployments.clone(), replica_sets);

    let started = Instant::now();
    let created = deployments
        .create(
            &PostParams::default(),
            &bench_deployment(replicas, on_sim_nodes),
        )
        .await
        .context("creating the deployment")?;
    let mut view = RolloutView::new(replicas, FIRST_IMAGE, generation_of(&created));
    follow(&mut updates, &mut view, "deployment available", stall).await?;
    let available = started.elapsed();
    println!("create -> available   {:>9.2} s", available.as_secs_f64());

    let started = Instant::now();
    let patched = deployments
        .patch(
            DEPLOYMENT,
            &PatchParams::default(),
            &Patch::Merge(image_patch(SECOND_IMAGE)),
        )
        .await
        .context("changing the deployment's image")?;
    view.expect(SECOND_IMAGE, generation_of(&patched));
    follow(&mut updates, &mut view, "rolling update", stall).await?;
    let rolled = started.elapsed();
    println!("rolling update        {:>9.2} s", rolled.as_secs_f64());
    drop(updates);

    let started = Instant::now();
    deployments
        .delete(DEPLOYMENT, &DeleteParams::background())
        .await
        .context("deleting the deployment")?;
    wait_pods_gone(
        client,
        namespace,
        &app_selector(),
        replicas_usize(replicas),
        stall,
    )
    .await?;
    let deleted = started.elapsed();
    println!("delete -> no pods     {:>9.2} s", deleted.as_secs_f64());
    Ok(WorkloadsSummary {
        available,
        rolled,
        deleted,
    })
}

fn replicas_usize(replicas: i32) -> usize {
    usize::try_from(replicas).unwrap_or(0)
}

fn generation_of<K: Resource>(object: &K) -> i64 {
    object.meta().generation.unwrap_or(0)
}

fn app_selector() -> String {
    format!("{APP_LABEL}={APP_VALUE}")
}

fn bench_deployment(replicas: i32, on_sim_nodes: bool) -> Deployment {
    let labels = std::collections::BTreeMap::from([(APP_LABEL.to_string(), APP_VALUE.to_string())]);
    Deployment {
        metadata: ObjectMeta {
            name: Some(DEPLOYMENT.to_string()),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(pause_pod_spec(FIRST_IMAGE, on_sim_nodes)),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// One pause container, no resource requests; pinned to the simulated nodes when there are some.
pub(super) fn pause_pod_spec(image: &str, on_sim_nodes: bool) -> PodSpec {
    PodSpec {
        containers: vec![Container {
            name: "app".to_string(),
            image: Some(image.to_string()),
            ..Container::default()
        }],
        node_selector: on_sim_nodes
            .then(|| [(SIM_NODE_LABEL.to_string(), SIM_NODE_PREFIX.to_string())].into()),
        ..PodSpec::default()
    }
}

/// A merge patch replacing the template's containers with one running `image`.
fn image_patch(image: &str) -> serde_json::Value {
    serde_json::json!({
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}
    })
}

// ---------------------------------------------------------------------------------------------
// Following watches.

/// What a phase waits for, fed by watch events.
pub(super) trait WatchView<E> {
    fn apply(&mut self, event: E);
    /// How far along, out of `total()`.
    fn progress(&self) -> usize;
    fn total(&self) -> usize;
    fn done(&self) -> bool;
}

/// Feeds `updates` to `view` until it is done, drawing a progress bar; fails when nothing
/// advanced for `stall` or the watch ends.
pub(super) async fn follow<S, E, V>(
    updates: &mut S,
    view: &mut V,
    label: &str,
    stall: Duration,
) -> anyhow::Result<()>
where
    S: Stream<Item = Result<E, watcher::Error>> + Unpin,
    V: WatchView<E>,
{
    let mut bar = MonotonicBar::new(label, view.total());
    let mut deadline = tokio::time::Instant::now() + stall;
    while !view.done() {
        let update = tokio::time::timeout_at(deadline, updates.next())
            .await
            .map_err(|_| stalled::<E, V>(label, view, stall))?;
        match update {
            Some(Ok(event)) => view.apply(event),
            Some(Err(error)) => eprintln!("\n{label}: watch error (retrying): {error}"),
            None => anyhow::bail!("{label}: the watch ended"),
        }
        if bar.advance_to(view.progress()) {
            deadline = tokio::time::Instant::now() + stall;
        }
    }
    bar.finish();
    Ok(())
}

fn stalled<E, V: WatchView<E>>(label: &str, view: &V, stall: Duration) -> anyhow::Error {
    anyhow::anyhow!(
        "{label}: no progress for {} s, stopped at {}/{}",
        stall.as_secs(),
        view.progress(),
        view.total()
    )
}

/// A progress bar that only moves forward, to the highest count seen.
struct MonotonicBar {
    progress: Progress,
    shown: usize,
    total: usize,
}

impl MonotonicBar {
    fn new(label: &str, total: usize) -> Self {
        Self {
            progress: Progress::new(label, total),
            shown: 0,
            total,
        }
    }

    /// True when the bar moved.
    fn advance_to(&mut self, count: usize) -> bool {
        let target = count.min(self.total);
        let moved = target > self.shown;
        for _ in self.shown..target {
            self.progress.tick();
        }
        self.shown = self.shown.max(target);
        moved
    }

    fn finish(&mut self) {
        self.advance_to(self.total);
    }
}

/// An update to the Deployment or to one of the ReplicaSets in its namespace.
enum RolloutUpdate {
    Deployment(Event<Deployment>),
    ReplicaSet(Event<ReplicaSet>),
}

fn rollout_updates(
    deployments: Api<Deployment>,
    replica_sets: Api<ReplicaSet>,
) -> impl Stream<Item = Result<RolloutUpdate, watcher::Error>> + Unpin {
    let by_name = watcher::Config::default().fields(&format!("metadata.name={DEPLOYMENT}"));
    let deployment = watcher(deployments, by_name)
        .default_backoff()
        .map(|event| event.map(RolloutUpdate::Deployment));
    let replica_sets = watcher(replica_sets, watcher::Config::default())
        .default_backoff()
        .map(|event| event.map(RolloutUpdate::ReplicaSet));
    futures::stream::select(deployment, replica_sets).boxed()
}

/// The Deployment and its ReplicaSets as last seen, and the rollout waited for.
struct RolloutView {
    replicas: i32,
    image: String,
    min_generation: i64,
    deployment: Option<Deployment>,
    replica_sets: HashMap<String, ReplicaSet>,
    replica_sets_listed: bool,
}

impl RolloutView {
    fn new(replicas: i32, image: &str, min_generation: i64) -> Self {
        Self {
            replicas,
            image: image.to_string(),
            min_generation,
            deployment: None,
            replica_sets: HashMap::new(),
            replica_sets_listed: false,
        }
    }

    /// Waits next for every replica to run `image`, at generation `min_generation` or later.
    fn expect(&mut self, image: &str, min_generation: i64) {
        self.image = image.to_string();
        self.min_generation = min_generation;
    }

    /// The Deployment's status when it describes the current generation.
    fn current_status(&self) -> Option<&k8s_openapi::api::apps::v1::DeploymentStatus> {
        let deployment = self.deployment.as_ref()?;
        let generation = generation_of(deployment);
        let status = deployment.status.as_ref()?;
        let observed = status.observed_generation.unwrap_or(0);
        (generation >= self.min_generation && observed >= generation).then_some(status)
    }

    fn old_replica_sets_empty(&self) -> bool {
        self.replica_sets_listed
            && self
                .replica_sets
                .values()
                .filter(|set| template_image(set) != Some(self.image.as_str()))
                .all(|set| {
                    let wanted = set.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
                    let running = set.status.as_ref().map_or(0, |s| s.replicas);
                    wanted == 0 && running == 0
                })
    }
}

fn template_image(set: &ReplicaSet) -> Option<&str> {
    set.spec
        .as_ref()?
        .template
        .as_ref()?
        .spec
        .as_ref()?
        .containers
        .first()?
        .image
        .as_deref()
}

impl WatchView<RolloutUpdate> for RolloutView {
    fn apply(&mut self, update: RolloutUpdate) {
        match update {
            RolloutUpdate::Deployment(event) => match event {
                Event::Apply(d) | Event::InitApply(d) => self.deployment = Some(d),
                Event::Delete(_) => self.deployment = None,
                Event::Init | Event::InitDone => {}
            },
            RolloutUpdate::ReplicaSet(event) => match event {
                Event::Apply(set) | Event::InitApply(set) => {
                    let name = set.metadata.name.clone().unwrap_or_default();
                    self.replica_sets.insert(name, set);
                }
                Event::Delete(set) => {
                    let name = set.metadata.name.clone().unwrap_or_default();
                    self.replica_sets.remove(&name);
                }
                Event::Init => {
                    self.replica_sets.clear();
                    self.replica_sets_listed = false;
                }
                Event::InitDone => self.replica_sets_listed = true,
            },
        }
    }

    /// Replicas both updated and available.
    fn progress(&self) -> usize {
        self.current_status().map_or(0, |status| {
            let updated = status.updated_replicas.unwrap_or(0);
            let available = status.available_replicas.unwrap_or(0);
            replicas_usize(updated.min(available))
        })
    }

    fn total(&self) -> usize {
        replicas_usize(self.replicas)
    }

    fn done(&self) -> bool {
        self.current_status().is_some_and(|status| {
            status.updated_replicas == Some(self.replicas)
                && status.available_replicas == Some(self.replicas)
                && status.replicas == Some(self.replicas)
        }) && self.old_replica_sets_empty()
    }
}

/// The names of the pods still there, from a metadata watch.
struct PodsGoneView {
    live: HashSet<String>,
    listed: bool,
    total: usize,
}

impl WatchView<Event<PartialObjectMeta<Pod>>> for PodsGoneView {
    fn apply(&mut self, event: Event<PartialObjectMeta<Pod>>) {
        match event {
            Event::Apply(pod) | Event::InitApply(pod) => {
                self.live.insert(pod.metadata.name.unwrap_or_default());
            }
            Event::Delete(pod) => {
                self.live.remove(&pod.metadata.name.unwrap_or_default());
            }
            Event::Init => {
                self.live.clear();
                self.listed = false;
            }
            Event::InitDone => self.listed = true,
        }
    }

    fn progress(&self) -> usize {
        if self.listed {
            self.total.saturating_sub(self.live.len())
        } else {
            0
        }
    }

    fn total(&self) -> usize {
        self.total
    }

    fn done(&self) -> bool {
        self.listed && self.live.is_empty()
    }
}

/// Waits until no pod matching `selector` is left in `namespace` (`total`: the pods expected to
/// go, for the progress bar).
pub(super) async fn wait_pods_gone(
    client: &kube::Client,
    namespace: &str,
    selector: &str,
    total: usize,
    stall: Duration,
) -> anyhow::Result<()> {
    let pods: Api<PartialObjectMeta<Pod>> = Api::namespaced(client.clone(), namespace);
    let mut updates = watcher(pods, watcher::Config::default().labels(selector))
        .default_backoff()
        .boxed();
    let mut view = PodsGoneView {
        live: HashSet::new(),
        listed: false,
        total,
    };
    follow(&mut updates, &mut view, "pods gone", stall).await
}

// ---------------------------------------------------------------------------------------------
// Simulated nodes.

/// Room on each node for `pods` spread over `nodes`: at least the simulator's default of 110.
pub(super) fn pods_per_node(pods: usize, nodes: usize) -> u32 {
    let needed = pods.div_ceil(nodes.max(1)) + 1;
    u32::try_from(needed).unwrap_or(u32::MAX).max(110)
}

/// Nodes simulated in this process, named `bench-node-<i>` and labelled `SIM_NODE_LABEL`.
pub(super) struct SimNodes {
    count: usize,
    cancel: CancellationToken,
    task: Option<JoinHandle<Result<(), sim::SimError>>>,
}

impl SimNodes {
    pub(super) fn start(client: &kube::Client, count: usize, max_pods: u32) -> Self {
        let cancel = CancellationToken::new();
        let task = tokio::spawn(sim::run(
            client.clone(),
            sim_args(count, max_pods),
            cancel.clone(),
        ));
        Self {
            count,
            cancel,
            task: Some(task),
        }
    }

    /// Waits until every simulated node is Ready; answers how long that took.
    pub(super) async fn wait_ready(
        &mut self,
        client: &kube::Client,
        stall: Duration,
    ) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let nodes: Api<Node> = Api::all(client.clone());
        let selector = format!("{SIM_NODE_LABEL}={SIM_NODE_PREFIX}");
        let mut updates = watcher(nodes, watcher::Config::default().labels(&selector))
            .default_backoff()
            .boxed();
        let mut view = NodesReadyView {
            ready: HashSet::new(),
            total: self.count,
        };
        let Some(task) = self.task.as_mut() else {
            anyhow::bail!("the simulated nodes are stopped");
        };
        tokio::select! {
            waited = follow(&mut updates, &mut view, "nodes ready", stall) => waited?,
            ended = task => {
                self.task = None;
                anyhow::bail!("the simulated nodes stopped early: {ended:?}");
            }
        }
        Ok(started.elapsed())
    }

    /// Stops the simulation, then deletes its Nodes and their Leases.
    pub(super) async fn stop_and_delete(mut self, client: &kube::Client) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => eprintln!("simulated nodes: {error}"),
                Err(error) => eprintln!("simulated nodes: {error}"),
            }
        }
        let names: Vec<String> = (0..self.count)
            .map(|i| format!("{SIM_NODE_PREFIX}-{i}"))
            .collect();
        let nodes: Api<Node> = Api::all(client.clone());
        let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
        delete_by_name(&nodes, &names, "nodes").await;
        delete_by_name(&leases, &names, "node leases").await;
    }
}

/// The simulator's own defaults (as `r8s sim` has them) but for the count, prefix, label and
/// pod capacity.
fn sim_args(count: usize, max_pods: u32) -> sim::SimArgs {
    sim::SimArgs {
        nodes: count,
        node_prefix: SIM_NODE_PREFIX.to_string(),
        node_cpu: "32".to_string(),
        node_memory: "256Gi".to_string(),
        node_ephemeral_storage: "1Ti".to_string(),
        max_pods,
        node_labels: vec![(SIM_NODE_LABEL.to_string(), SIM_NODE_PREFIX.to_string())],
        node_taints: Vec::new(),
        pod_run_time: Duration::from_secs(1),
        fail_nodes: Vec::new(),
        fail_after: Duration::ZERO,
        lease_renew_interval: Duration::from_secs(10),
        lease_duration_seconds: 40,
        node_status_interval: Duration::from_secs(60),
        concurrency: 32,
    }
}

/// The simulated nodes seen Ready.
struct NodesReadyView {
    ready: HashSet<String>,
    total: usize,
}

fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

impl WatchView<Event<Node>> for NodesReadyView {
    fn apply(&mut self, event: Event<Node>) {
        match event {
            Event::Apply(node) | Event::InitApply(node) => {
                let name = node.metadata.name.clone().unwrap_or_default();
                if is_ready(&node) {
                    self.ready.insert(name);
                } else {
                    self.ready.remove(&name);
                }
            }
            Event::Delete(node) => {
                self.ready.remove(&node.metadata.name.unwrap_or_default());
            }
            Event::Init | Event::InitDone => {}
        }
    }

    fn progress(&self) -> usize {
        self.ready.len()
    }

    fn total(&self) -> usize {
        self.total
    }

    fn done(&self) -> bool {
        self.ready.len() >= self.total
    }
}

// ---------------------------------------------------------------------------------------------
// Namespaces and cleanup.

pub(super) async fn create_namespace(client: &kube::Client, name: &str) -> anyhow::Result<()> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    namespaces
        .create(&PostParams::default(), &namespace)
        .await
        .with_context(|| format!("creating namespace {name}"))?;
    Ok(())
}

/// Removes every pod of `namespace` at once (grace period 0), then the namespace itself.
pub(super) async fn delete_namespace(client: &kube::Client, name: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), name);
    let now = DeleteParams::background().grace_period(0);
    if let Err(error) = pods.delete_collection(&now, &ListParams::default()).await {
        report_cleanup_error("pods", &error);
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if let Err(error) = namespaces.delete(name, &DeleteParams::default()).await {
        report_cleanup_error("namespace", &error);
    }
}

/// Deletes the named objects, a bounded number at a time; those already gone are fine.
pub(super) async fn delete_by_name<K>(api: &Api<K>, names: &[String], what: &str)
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let failures = futures::stream::iter(names)
        .map(|name| async move { api.delete(name, &DeleteParams::default()).await })
        .buffer_unordered(CLEANUP_CONCURRENCY)
        .filter_map(|deleted| async move { deleted.err().filter(|e| !is_not_found(e)) })
        .collect::<Vec<_>>()
        .await;
    if let Some(first) = failures.first() {
        eprintln!(
            "cleanup: {} of {} {what} not deleted, first: {first}",
            failures.len(),
            names.len()
        );
    }
}

fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404)
}

fn report_cleanup_error(what: &str, error: &kube::Error) {
    if !is_not_found(error) {
        eprintln!("cleanup: deleting {what}: {error}");
    }
}

async fn cleanup(client: &kube::Client, namespace: &str, sim: Option<SimNodes>) {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    if let Err(error) = deployments
        .delete(DEPLOYMENT, &DeleteParams::background())
        .await
    {
        report_cleanup_error("deployment", &error);
    }
    delete_namespace(client, namespace).await;
    if let Some(sim) = sim {
        sim.stop_and_delete(client).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_capacity_covers_the_pods() {
        assert_eq!(pods_per_node(150_000, 5000), 110);
        assert_eq!(pods_per_node(1000, 5), 201);
        assert_eq!(pods_per_node(10, 0), 110);
    }

    #[test]
    fn the_bar_only_moves_forward() {
        let mut bar = MonotonicBar::new("test", 10);
        assert!(bar.advance_to(4));
        assert!(!bar.advance_to(2));
        assert!(bar.advance_to(20));
        assert_eq!(bar.shown, 10);
    }

    #[test]
    fn rollout_waits_for_the_old_replica_set() {
        let mut view = RolloutView::new(2, SECOND_IMAGE, 2);
        let mut deployment = bench_deployment(2, true);
        deployment.metadata.generation = Some(2);
        deployment.status = Some(k8s_openapi::api::apps::v1::DeploymentStatus {
            observed_generation: Some(2),
            replicas: Some(2),
            updated_replicas: Some(2),
            available_replicas: Some(2),
            ..Default::default()
        });
        view.apply(RolloutUpdate::Deployment(Event::Apply(deployment)));
        let mut old = ReplicaSet {
            metadata: ObjectMeta {
                name: Some("old".into()),
                ..ObjectMeta::default()
            },
            spec: Some(k8s_openapi::api::apps::v1::ReplicaSetSpec {
                replicas: Some(1),
                template: Some(PodTemplateSpec {
                    metadata: None,
                    spec: Some(pause_pod_spec(FIRST_IMAGE, true)),
                }),
                ..Default::default()
            }),
            status: None,
        };
        view.apply(RolloutUpdate::ReplicaSet(Event::InitApply(old.clone())));
        view.apply(RolloutUpdate::ReplicaSet(Event::InitDone));
        assert_eq!(view.progress(), 2);
        assert!(!view.done());
        if let Some(spec) = old.spec.as_mut() {
            spec.replicas = Some(0);
        }
        view.apply(RolloutUpdate::ReplicaSet(Event::Apply(old)));
        assert!(view.done());
    }
}
