//! An in-process API server on a loopback port and a client for it. Each test starts only the
//! controllers it exercises, and plays the scheduler and kubelet itself: it creates Nodes, binds
//! pods and writes their status.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use apiserver::config::ApiConfig;
use apiserver::ServeOptions;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Api;
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub const WAIT: Duration = Duration::from_secs(30);

pub struct ApiServer {
    pub client: kube::Client,
    pub cancel: CancellationToken,
    _data_dir: tempfile::TempDir,
}

impl ApiServer {
    pub async fn start() -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let data_dir = tempfile::tempdir().unwrap();
        let cancel = CancellationToken::new();
        let options = ServeOptions {
            data_dir: data_dir.path().to_path_buf(),
            bind_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            https_port: 0,
            datastore_endpoint: String::new(),
            token_file: None,
            write_kubeconfig: None,
            api: ApiConfig::default(),
        };
        let started = apiserver::run(options, cancel.clone()).await.unwrap();
        let kubeconfig = Kubeconfig::read_from(&started.kubeconfig_path).unwrap();
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .unwrap();
        let client = kube::Client::try_from(config).unwrap();
        Self {
            client,
            cancel,
            _data_dir: data_dir,
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Poll `check` until it yields a value, or panic after `timeout` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn create_node(client: &kube::Client, name: &str, labels: serde_json::Value) -> Node {
    let nodes: Api<Node> = Api::all(client.clone());
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {},
    }))
    .unwrap();
    let created = nodes.create(&PostParams::default(), &node).await.unwrap();
    let status = json!({"status": {
        "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "lastHeartbeatTime": jiff::Timestamp::now().to_string(),
                        "lastTransitionTime": jiff::Timestamp::now().to_string()}],
    }});
    nodes
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap_or(created)
}

/// What a kubelet would report: a phase, and Ready when running.
pub async fn set_pod_phase(client: &kube::Client, namespace: &str, name: &str, phase: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let now = jiff::Timestamp::now().to_string();
    let ready = if phase == "Running" { "True" } else { "False" };
    let exit_code = if phase == "Failed" { 1 } else { 0 };
    let state = if phase == "Running" {
        json!({"running": {"startedAt": now}})
    } else {
        json!({"terminated": {"exitCode": exit_code, "startedAt": now, "finishedAt": now}})
    };
    let status = json!({"status": {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": ready, "lastTransitionTime": now}],
        "containerStatuses": [{"name": "main", "image": "busybox", "imageID": "", "ready": ready == "True",
                               "restartCount": 0, "state": state}],
    }});
    pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
}

pub fn pod_template(labels: serde_json::Value) -> serde_json::Value {
    json!({
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "main", "image": "busybox"}], "restartPolicy": "Never"}
    })
}
