//! An in-process API server on a loopback port and a client for it, alone or with every
//! controller running. Shared by the controller test binaries.
// Each test binary uses part of this module.
#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use apiserver::ServeOptions;
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio_util::sync::CancellationToken;

/// An API server with a client for it; stopped when dropped.
pub struct ApiServer {
    pub client: kube::Client,
    pub cancel: CancellationToken,
    /// The cluster CA, for the root CA publisher.
    pub ca_cert_pem: String,
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
        let started = apiserver::run(ServeOptions::loopback(data_dir.path()), cancel.clone())
            .await
            .unwrap();
        let kubeconfig = Kubeconfig::read_from(&started.kubeconfig_path).unwrap();
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .unwrap();
        Self {
            client: kube::Client::try_from(config).unwrap(),
            cancel,
            ca_cert_pem: started.ca_cert_pem,
            _data_dir: data_dir,
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// An API server with every controller running against it.
pub struct Cluster {
    pub client: kube::Client,
    _server: ApiServer,
}

impl Cluster {
    /// Start the API server and every controller.
    pub async fn start() -> Self {
        let server = ApiServer::start().await;
        let options = controllers::ControllerOptions {
            identity: "test-manager".into(),
            root_ca_pem: server.ca_cert_pem.clone(),
            ..controllers::ControllerOptions::default()
        };
        tokio::spawn(controllers::run(
            server.client.clone(),
            options,
            server.cancel.child_token(),
        ));
        Self {
            client: server.client.clone(),
            _server: server,
        }
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

pub const WAIT: Duration = Duration::from_secs(30);
