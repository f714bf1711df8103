//! The kubelet against an in-process API server and a fake CRI runtime.

mod fake_cri;

use std::future::Future;
use std::time::{Duration, Instant};

use apiserver::ServeOptions;
use fake_cri::FakeRuntime;
use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Api;
use kubelet::KubeletOptions;
use serde_json::json;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(30);

async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Harness {
    client: kube::Client,
    runtime: FakeRuntime,
    cancel: CancellationToken,
    /// Stops the kubelet alone (the API server and the runtime keep running).
    kubelet_cancel: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn start() -> Harness {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let started = apiserver::run(
        ServeOptions::loopback(&dir.path().join("server")),
        cancel.clone(),
    )
    .await
    .unwrap();
    let kubeconfig = Kubeconfig::read_from(&started.kubeconfig_path).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let runtime = FakeRuntime::default();
    let socket = dir.path().join("cri.sock");
    runtime.serve(&socket, cancel.clone()).await;
    let mut options =
        KubeletOptions::new("node-a", dir.path(), std::net::IpAddr::from([127, 0, 0, 1]));
    options.runtime_endpoint = socket;
    options.pod_log_dir = dir.path().join("pods-logs");
    options.kubelet_port = 0;
    options.status_interval = Duration::from_secs(2);
    let kubelet_cancel = cancel.child_token();
    tokio::spawn(kubelet::run(
        client.clone(),
        options,
        kubelet_cancel.clone(),
    ));
    Harness {
        client,
        runtime,
        cancel,
        kubelet_cancel,
        _dir: dir,
    }
}

fn ready_status(node: &Node) -> Option<(String, String)> {
    let ready = node
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?
        .clone();
    Some((ready.status, ready.reason.unwrap_or_default()))
}

async fn set_pod_cidr(client: &kube::Client) {
    let nodes: Api<Node> = Api::all(client.clone());
    eventually("node registered", || async {
        nodes.get_opt("node-a").await.unwrap()
    })
    .await;
    nodes
        .patch(
            "node-a",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"podCIDR": "10.42.0.0/24"}})),
        )
        .await
        .unwrap();
}

async fn create_pod(client: &kube::Client, name: &str, restart_policy: &str, args: &[&str]) -> Pod {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    // No controller manager runs here to publish kube-root-ca.crt, so no service-account volume.
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": "node-a", "restartPolicy": restart_policy, "terminationGracePeriodSeconds": 1,
                 "automountServiceAccountToken": false,
                 "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sh", "-c"], "args": args}]},
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap()
}

async fn pod_where(
    client: &kube::Client,
    name: &str,
    what: &str,
    check: impl Fn(&Pod) -> bool,
) -> Pod {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    eventually(what, || async {
        pods.get_opt(name).await.unwrap().filter(|p| check(p))
    })
    .await
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

#[tokio::test]
async fn node_becomes_ready_once_the_pod_cidr_is_set() {
    let h = start().await;
    let nodes: Api<Node> = Api::all(h.client.clone());
    let node = eventually("node not ready", || async {
        nodes
            .get_opt("node-a")
            .await
            .unwrap()
            .filter(|n| ready_status(n).is_some())
    })
    .await;
    assert_eq!(
        ready_status(&node),
        Some(("False".into(), "KubeletNotReady".into()))
    );
    let labels = node.metadata.labels.clone().unwrap();
    assert_eq!(labels["kubernetes.io/hostname"], "node-a");
    assert_eq!(
        node.status
            .as_ref()
            .unwrap()
            .node_info
            .as_ref()
            .unwrap()
            .container_runtime_version,
        "fake://1.0.0"
    );
    set_pod_cidr(&h.client).await;
    let started = Instant::now();
    eventually("node ready", || async {
        let node = nodes.get("node-a").await.unwrap();
        (ready_status(&node) == Some(("True".into(), "KubeletReady".into()))).then_some(())
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(h.runtime.state.lock().unwrap().pod_cidr, "10.42.0.0/24");
}

#[tokio::test]
async fn pod_runs_and_deleting_it_removes_sandbox_and_object() {
    let h = start().await;
    set_pod_cidr(&h.client).await;
    create_pod(&h.client, "web", "Always", &["sleep 3600"]).await;
    let pod = pod_where(&h.client, "web", "web running", |p| {
        phase(p) == "Running"
            && p.status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .is_some_and(|cs| cs[0].ready)
    })
    .await;
    let status = pod.status.unwrap();
    assert_eq!(status.host_ip.as_deref(), Some("127.0.0.1"));
    assert!(status.pod_ip.as_deref().unwrap().starts_with("10.42.0."));
    assert_eq!(status.qos_class.as_deref(), Some("BestEffort"));
    let conditions: Vec<(String, String)> = status
        .conditions
        .unwrap()
        .into_iter()
        .map(|c| (c.type_, c.status))
        .collect();
    for kind in [
        "PodReadyToStartContainers",
        "Initialized",
        "ContainersReady",
        "Ready",
    ] {
        assert!(
            conditions.contains(&(kind.to_string(), "True".to_string())),
            "{kind} in {conditions:?}"
        );
    }
    let container = &status.container_statuses.unwrap()[0];
    assert!(container
        .container_id
        .as_deref()
        .unwrap()
        .starts_with("fake://"));
    assert!(container.state.as_ref().unwrap().running.is_some());
    assert_eq!(container.started, Some(true));
    assert_eq!(container.image_id, "docker.io/library/busybox@sha256:feed");
    {
        let state = h.runtime.state.lock().unwrap();
        let sandbox = state.sandboxes.values().next().unwrap();
        assert_eq!(sandbox.config.labels["io.kubernetes.pod.name"], "web");
        let dns = sandbox.config.dns_config.clone().unwrap();
        assert_eq!(dns.searches[0], "default.svc.cluster.local");
        let container = state.containers.values().next().unwrap();
        assert_eq!(container.config.log_path, "main/0.log");
        assert!(container
            .config
            .mounts
            .iter()
            .any(|m| m.container_path == "/etc/hosts"));
    }

    let pods: Api<Pod> = Api::namespaced(h.client.clone(), "default");
    pods.delete("web", &DeleteParams::default()).await.unwrap();
    eventually("web deleted", || async {
        pods.get_opt("web").await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(h.runtime.state.lock().unwrap().sandboxes.is_empty());
}

#[tokio::test]
async fn a_stopping_kubelet_leaves_its_pods_running() {
    let h = start().await;
    set_pod_cidr(&h.client).await;
    create_pod(&h.client, "stays", "Always", &["sleep 3600"]).await;
    pod_where(&h.client, "stays", "stays running", |p| {
        phase(p) == "Running"
    })
    .await;
    // The kubelet stops (as an agent does on SIGTERM, to be restarted) while the process, and
    // so the pod workers' tasks, may still run for a moment.
    h.kubelet_cancel.cancel();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let state = h.runtime.state.lock().unwrap();
    assert!(state
        .containers
        .values()
        .all(|c| c.state == cri::ContainerState::ContainerRunning));
    assert!(!state.sandboxes.is_empty() && state.sandboxes.values().all(|s| s.ready));
}

#[tokio::test]
async fn failing_container_goes_to_crash_loop_back_off() {
    let h = start().await;
    set_pod_cidr(&h.client).await;
    create_pod(&h.client, "crash", "Always", &["exit 1"]).await;
    let pod = pod_where(&h.client, "crash", "crash loop", |p| {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .is_some_and(|cs| {
                cs[0].restart_count >= 1
                    && cs[0]
                        .state
                        .as_ref()
                        .and_then(|s| s.waiting.as_ref())
                        .and_then(|w| w.reason.as_deref())
                        == Some("CrashLoopBackOff")
            })
    })
    .await;
    assert_eq!(phase(&pod), "Running");
    let container = &pod.status.unwrap().container_statuses.unwrap()[0];
    let waiting = container.state.as_ref().unwrap().waiting.clone().unwrap();
    let uid = pod.metadata.uid.unwrap();
    assert_eq!(
        waiting.message.unwrap(),
        format!("back-off 10s restarting failed container=main pod=crash_default({uid})")
    );
    let last = container
        .last_state
        .as_ref()
        .unwrap()
        .terminated
        .clone()
        .unwrap();
    assert_eq!((last.exit_code, last.reason.as_deref()), (1, Some("Error")));
}

#[tokio::test]
async fn never_pod_that_exits_zero_succeeds() {
    let h = start().await;
    set_pod_cidr(&h.client).await;
    create_pod(&h.client, "job", "Never", &["exit 0"]).await;
    let pod = pod_where(&h.client, "job", "job succeeded", |p| {
        phase(p) == "Succeeded"
    })
    .await;
    let container = &pod.status.unwrap().container_statuses.unwrap()[0];
    let terminated = container
        .state
        .as_ref()
        .unwrap()
        .terminated
        .clone()
        .unwrap();
    assert_eq!(
        (terminated.exit_code, terminated.reason.as_deref()),
        (0, Some("Completed"))
    );
    eventually("sandbox stopped", || async {
        h.runtime
            .state
            .lock()
            .unwrap()
            .sandboxes
            .values()
            .all(|s| !s.ready)
            .then_some(())
    })
    .await;
    let pods: Api<Pod> = Api::namespaced(h.client.clone(), "default");
    assert!(pods.get_opt("job").await.unwrap().is_some());
}
