//! The simulated nodes against the real API server, started in-process on a loopback port.

use std::future::Future;
use std::time::Duration;

use clap::Parser;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    sim: sim::SimArgs,
}

async fn start_server(dir: &std::path::Path, cancel: CancellationToken) -> Client {
    let started = apiserver::run(apiserver::ServeOptions::loopback(dir), cancel)
        .await
        .expect("start the API server");
    let kubeconfig = Kubeconfig::read_from(&started.kubeconfig_path).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

/// Polls `check` every 200 ms until it answers Some, or panics after `timeout`.
async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn phase(pod: &Pod) -> Option<&str> {
    pod.status.as_ref().and_then(|s| s.phase.as_deref())
}

async fn renew_time(leases: &Api<Lease>, name: &str) -> Option<jiff::Timestamp> {
    let lease = leases.get_opt(name).await.ok()??;
    lease.spec?.renew_time.map(|t| t.0)
}

fn pod(name: &str, node: &str, restart_policy: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "nodeName": node,
            "restartPolicy": restart_policy,
            "initContainers": [{"name": "setup", "image": "busybox"}],
            "containers": [{"name": "app", "image": "nginx:1.27"}]
        }
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_nodes_register_beat_and_drive_pods() {
    let dir = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let client = start_server(dir.path(), cancel.clone()).await;

    let args = Cli::try_parse_from([
        "sim",
        "--nodes",
        "3",
        "--node-labels",
        "zone=a",
        "--node-taints",
        "sim=true:PreferNoSchedule",
        "--lease-renew-interval",
        "500ms",
        "--node-status-interval",
        "2s",
        "--pod-run-time",
        "1s",
        "--fail-node",
        "sim-node-2",
        "--fail-after",
        "3s",
    ])
    .unwrap()
    .sim;
    let sim = tokio::spawn(sim::run(client.clone(), args, cancel.clone()));

    let nodes: Api<Node> = Api::all(client.clone());
    eventually(Duration::from_secs(30), "3 Ready nodes", || async {
        let list = nodes.list(&Default::default()).await.ok()?;
        (list.items.iter().filter(|n| is_ready(n)).count() == 3).then_some(())
    })
    .await;
    let node = nodes.get("sim-node-0").await.unwrap();
    let labels = node.metadata.labels.clone().unwrap();
    assert_eq!(labels["kubernetes.io/hostname"], "sim-node-0");
    assert_eq!(labels["type"], "sim");
    assert_eq!(labels["zone"], "a");
    let taints = node.spec.clone().unwrap().taints.unwrap();
    assert!(taints
        .iter()
        .any(|t| t.key == "sim" && t.effect == "PreferNoSchedule"));
    let status = node.status.clone().unwrap();
    assert_eq!(status.capacity.unwrap()["pods"].0, "110");
    assert_eq!(status.node_info.unwrap().kubelet_version, "v1.33.0-sim");

    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let first = eventually(Duration::from_secs(10), "the lease of sim-node-0", || {
        renew_time(&leases, "sim-node-0")
    })
    .await;
    eventually(
        Duration::from_secs(10),
        "the lease to be renewed",
        || async {
            let now = renew_time(&leases, "sim-node-0").await?;
            (now > first).then_some(())
        },
    )
    .await;
    let lease = leases.get("sim-node-0").await.unwrap();
    let spec = lease.spec.unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("sim-node-0"));
    assert_eq!(spec.lease_duration_seconds, Some(40));
    assert_eq!(
        lease.metadata.owner_references.unwrap()[0].uid,
        node.metadata.uid.clone().unwrap()
    );

    let heartbeat = |node: &Node| {
        node.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
            .and_then(|c| c.last_heartbeat_time.clone())
    };
    let first_heartbeat = heartbeat(&node);
    eventually(
        Duration::from_secs(10),
        "a node status heartbeat",
        || async {
            let now = nodes.get("sim-node-1").await.ok()?;
            (heartbeat(&now) > first_heartbeat).then_some(())
        },
    )
    .await;

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.create(&PostParams::default(), &pod("web", "sim-node-0", "Always"))
        .await
        .unwrap();
    let web = eventually(Duration::from_secs(20), "web Running and Ready", || async {
        let pod = pods.get("web").await.ok()?;
        (phase(&pod) == Some("Running") && pod_ready(&pod)).then_some(pod)
    })
    .await;
    let status = web.status.unwrap();
    let pod_ip = status.pod_ip.unwrap();
    assert!(pod_ip.starts_with("10.244.0."), "{pod_ip}");
    assert_eq!(status.host_ip.as_deref(), Some("10.240.0.1"));
    assert!(status.start_time.is_some());
    let app = &status.container_statuses.unwrap()[0];
    assert!(app.ready && app.state.as_ref().unwrap().running.is_some());
    let setup = &status.init_container_statuses.unwrap()[0];
    assert_eq!(
        setup
            .state
            .as_ref()
            .unwrap()
            .terminated
            .as_ref()
            .unwrap()
            .reason
            .as_deref(),
        Some("Completed")
    );

    pods.create(&PostParams::default(), &pod("job", "sim-node-1", "Never"))
        .await
        .unwrap();
    let job = eventually(Duration::from_secs(20), "job Succeeded", || async {
        let pod = pods.get("job").await.ok()?;
        (phase(&pod) == Some("Succeeded")).then_some(pod)
    })
    .await;
    let terminated = job.status.unwrap().container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(terminated.exit_code, 0);

    let answered = pods.delete("web", &DeleteParams::default()).await.unwrap();
    let marked = answered.left().expect("a bound pod is deleted gracefully");
    assert!(marked.metadata.deletion_timestamp.is_some());
    eventually(Duration::from_secs(20), "web to disappear", || async {
        matches!(pods.get_opt("web").await, Ok(None)).then_some(())
    })
    .await;

    // sim-node-2 stops renewing 3 s after registration; sim-node-0 goes on.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let stopped = renew_time(&leases, "sim-node-2").await.unwrap();
    let alive = renew_time(&leases, "sim-node-0").await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(renew_time(&leases, "sim-node-2").await.unwrap(), stopped);
    assert!(renew_time(&leases, "sim-node-0").await.unwrap() > alive);

    cancel.cancel();
    sim.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_node_is_taken_over_and_its_pod_cidr_used() {
    let dir = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let client = start_server(dir.path(), cancel.clone()).await;
    let nodes: Api<Node> = Api::all(client.clone());
    let existing: Node = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "edge-0", "labels": {"owner": "someone"}},
        "spec": {
            "podCIDR": "10.99.7.0/24",
            "taints": [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]
        }
    }))
    .unwrap();
    nodes
        .create(&PostParams::default(), &existing)
        .await
        .unwrap();

    let args = Cli::try_parse_from(["sim", "--nodes", "1", "--node-prefix", "edge"])
        .unwrap()
        .sim;
    let sim = tokio::spawn(sim::run(client.clone(), args, cancel.clone()));
    let node = eventually(Duration::from_secs(30), "edge-0 Ready", || async {
        let node = nodes.get("edge-0").await.ok()?;
        is_ready(&node).then_some(node)
    })
    .await;
    let labels = node.metadata.labels.unwrap();
    assert_eq!(labels["owner"], "someone");
    assert_eq!(labels["type"], "sim");
    let taints = node.spec.unwrap().taints.unwrap();
    assert!(taints
        .iter()
        .any(|t| t.key == "node.kubernetes.io/not-ready"));

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.create(&PostParams::default(), &pod("cidr", "edge-0", "Always"))
        .await
        .unwrap();
    let ip = eventually(Duration::from_secs(20), "a pod IP", || async {
        pods.get("cidr").await.ok()?.status?.pod_ip
    })
    .await;
    assert!(ip.starts_with("10.99.7."), "{ip}");

    cancel.cancel();
    sim.await.unwrap().unwrap();
}
