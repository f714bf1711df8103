//! An in-process API server on a loopback port, a client for it, and the controllers running.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use apiserver::config::ApiConfig;
use apiserver::ServeOptions;
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio_util::sync::CancellationToken;

pub struct Cluster {
    pub client: kube::Client,
    cancel: CancellationToken,
    _data_dir: tempfile::TempDir,
}

impl Cluster {
    /// Start the API server and every controller.
    pub async fn start() -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let data_dir = tempfile::tempdir().unwrap();
        let cancel = CancellationToken::new();
        let started = apiserver::run(
            ServeOptions {
                data_dir: data_dir.path().to_path_buf(),
                bind_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
                https_port: 0,
                datastore_endpoint: String::new(),
                token_file: None,
                write_kubeconfig: None,
                api: ApiConfig::default(),
            },
            cancel.clone(),
        )
        .await
        .unwrap();
        let kubeconfig = Kubeconfig::read_from(&started.kubeconfig_path).unwrap();
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .unwrap();
        let client = kube::Client::try_from(config).unwrap();
        let root_ca_pem =
            std::fs::read_to_string(data_dir.path().join("server/tls/server-ca.crt")).unwrap();
        let options = controllers::ControllerOptions {
            identity: "test-manager".into(),
            root_ca_pem,
            ..controllers::ControllerOptions::default()
        };
        tokio::spawn(controllers::run(
            client.clone(),
            options,
            cancel.child_token(),
        ));
        Self {
            client,
            cancel,
            _data_dir: data_dir,
        }
    }
}

impl Drop for Cluster {
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

pub const WAIT: Duration = Duration::from_secs(30);
