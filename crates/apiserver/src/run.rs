//! Starting the API server: storage, certificates, watch cache, bootstrap objects, listener.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use storage::{Backend, StorageError};
use tokio_util::sync::CancellationToken;

use crate::authn::service_account_claims::DEFAULT_ISSUER;
use crate::authn::{
    load_or_create_join_token, load_token_file, JoinTokenError, ServiceAccountTokens, StaticTokens,
    TokenFileError,
};
use crate::authz::rbac::RbacAuthorizer;
use crate::authz::ClusterPolicy;
use crate::config::{first_service_ip, ApiConfig};
use crate::pki::{
    load_or_create, load_or_create_service_account_key, render_kubeconfig, write_owner_only,
    PkiError, ServiceAccountKeyError,
};
use crate::registry::Registry;
use crate::server::ApiServer;

/// How often old storage history is compacted away.
const COMPACTION_INTERVAL: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub data_dir: PathBuf,
    pub bind_address: IpAddr,
    pub https_port: u16,
    /// Empty: the embedded store under `data_dir`; `http(s)://host:port[,...]`: etcd.
    pub datastore_endpoint: String,
    pub token_file: Option<PathBuf>,
    /// Another place to write the admin kubeconfig.
    pub write_kubeconfig: Option<PathBuf>,
    /// More addresses the serving certificate covers (e.g. the machine's own when listening on
    /// all of them), so that agents on other machines can verify the server.
    pub tls_san_ips: Vec<IpAddr>,
    /// The address the `kubernetes` Service's endpoints name (upstream's --advertise-address);
    /// default: the bind address, or 127.0.0.1 when listening on all addresses.
    pub advertise_address: Option<IpAddr>,
    pub api: ApiConfig,
}

impl ServeOptions {
    /// The embedded store under `data_dir`, a free port on 127.0.0.1, defaults otherwise: what an
    /// in-process test server needs.
    pub fn loopback(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            bind_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            https_port: 0,
            datastore_endpoint: String::new(),
            token_file: None,
            write_kubeconfig: None,
            tls_san_ips: Vec::new(),
            advertise_address: None,
            api: ApiConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("certificates: {0}")]
    Pki(#[from] PkiError),
    #[error("TLS: {0}")]
    Tls(#[from] crate::http::tls::TlsError),
    #[error("{0}")]
    TokenFile(#[from] TokenFileError),
    #[error("{0}")]
    KubeletClient(#[from] crate::handlers::proxy::KubeletClientError),
    #[error("service account key: {0}")]
    ServiceAccountKey(#[from] ServiceAccountKeyError),
    #[error("join token: {0}")]
    JoinToken(#[from] JoinTokenError),
    #[error("listening on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a running server tells its caller.
pub struct Started {
    pub kubeconfig_path: PathBuf,
    /// The cluster CA (PEM), for clients and for publishing `kube-root-ca.crt`.
    pub ca_cert_pem: String,
    /// The cluster CA's private key (PEM), for the CSR signing controller.
    pub ca_key_pem: String,
    /// The join token agents present (`K10<CA hash>::server:<secret>`), also in `join_token_path`.
    pub join_token: String,
    /// `<data-dir>/token`.
    pub join_token_path: PathBuf,
    pub address: SocketAddr,
    pub server: Arc<ApiServer>,
    /// Resolves when the server has stopped.
    pub finished: tokio::task::JoinHandle<()>,
}

/// Open the storage backend the endpoint names: empty = embedded, else etcd.
pub async fn open_backend(endpoint: &str, data_dir: &Path) -> Result<Arc<dyn Backend>, RunError> {
    if endpoint.trim().is_empty() {
        let dir = data_dir.join("server").join("db");
        std::fs::create_dir_all(&dir).map_err(|source| RunError::Io {
            path: dir.clone(),
            source,
        })?;
        let backend = storage::embedded::EmbeddedBackend::open(dir.join("state.redb")).await?;
        return Ok(Arc::new(backend));
    }
    let endpoints = endpoint
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect();
    Ok(Arc::new(
        storage::etcd::EtcdBackend::connect(endpoints).await?,
    ))
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

fn serving_names(options: &ServeOptions) -> (Vec<String>, Vec<IpAddr>) {
    let mut dns = vec![
        "localhost".to_string(),
        host_name(),
        "kubernetes".into(),
        "kubernetes.default".into(),
        "kubernetes.default.svc".into(),
        "kubernetes.default.svc.cluster.local".into(),
    ];
    dns.dedup();
    let mut ips = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(first_service_ip(options.api.service_cidr)),
    ];
    let bound = (!options.bind_address.is_unspecified()).then_some(options.bind_address);
    for ip in bound.into_iter().chain(options.tls_san_ips.iter().copied()) {
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    (dns, ips)
}

/// Keep history for a while, then compact it: each tick compacts to the revision of the tick before.
async fn compact_periodically(backend: Arc<dyn Backend>, cancel: CancellationToken) {
    let mut previous: Option<i64> = None;
    let mut ticker = tokio::time::interval(COMPACTION_INTERVAL);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if let Some(revision) = previous {
            if let Err(error) = backend.compact(revision).await {
                tracing::debug!(%error, "compaction skipped");
            }
        }
        previous = backend.current_revision().await.ok();
    }
}

/// Start the API server; it runs until `cancel`.
pub async fn run(options: ServeOptions, cancel: CancellationToken) -> Result<Started, RunError> {
    let mut tokens = match &options.token_file {
        Some(path) => load_token_file(path)?,
        None => StaticTokens::default(),
    };
    let (dns, ips) = serving_names(&options);
    let tls_dir = options.data_dir.join("server").join("tls");
    let pki = load_or_create(&tls_dir, dns, ips)?;
    let join_token_path = options.data_dir.join("token");
    let join_token = load_or_create_join_token(&join_token_path, &pki.ca_cert_pem)?;
    join_token.register(&mut tokens);
    let service_account_key = load_or_create_service_account_key(&tls_dir)?;
    let tls = crate::http::tls::server_config(&pki)?;
    let backend = open_backend(&options.datastore_endpoint, &options.data_dir).await?;
    let cache = crate::watch_cache::start_watch_cache(
        backend.clone(),
        Registry::cached_resources(),
        cancel.clone(),
    )
    .await?;
    let rbac = RbacAuthorizer::new(cache.clone());
    let node_graph = crate::authz::NodeGraph::start(cache.clone(), cancel.clone());
    let registry = Registry::new(backend.clone(), cache, &options.api);
    let kubelet_client_cert =
        crate::pki::load_or_create_kubelet_client(&tls_dir, &pki.ca_cert_pem, &pki.ca_key_pem)?;
    let kubelet_client = crate::handlers::proxy::KubeletClient::new(&kubelet_client_cert)?;
    let server = Arc::new(
        ApiServer::new(
            registry,
            options.api.clone(),
            tokens,
            Box::new(ClusterPolicy::with_rbac(rbac).with_node_graph(node_graph)),
        )
        .with_ca_cert(pki.ca_cert_pem.clone())
        .with_kubelet_client(kubelet_client)
        .with_service_account_tokens(ServiceAccountTokens::new(
            service_account_key,
            DEFAULT_ISSUER.to_string(),
            vec![DEFAULT_ISSUER.to_string()],
        )),
    );
    let address = SocketAddr::new(options.bind_address, options.https_port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| RunError::Listen { address, source })?;
    let address = listener
        .local_addr()
        .map_err(|source| RunError::Listen { address, source })?;
    let advertise = match options.advertise_address {
        Some(ip) => ip.to_string(),
        None if options.bind_address.is_unspecified() => "127.0.0.1".to_string(),
        None => options.bind_address.to_string(),
    };
    let url_host = if options.bind_address.is_unspecified() || options.bind_address.is_loopback() {
        "127.0.0.1".to_string()
    } else {
        advertise.clone()
    };
    let kubeconfig = render_kubeconfig(&pki, &format!("https://{url_host}:{}", address.port()));
    let kubeconfig_path = options.data_dir.join("kubeconfig.yaml");
    write_owner_only(&kubeconfig_path, &kubeconfig)?;
    if let Some(extra) = &options.write_kubeconfig {
        if let Some(parent) = extra.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| RunError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        write_owner_only(extra, &kubeconfig)?;
    }
    crate::bootstrap::ensure_bootstrap_objects(&server, &advertise, address.port()).await;
    server.set_ready();
    tokio::spawn(compact_periodically(backend, cancel.clone()));
    let finished = tokio::spawn(crate::http::listener::serve_tls(
        listener,
        tls,
        server.clone(),
        cancel,
    ));
    Ok(Started {
        kubeconfig_path,
        ca_cert_pem: pki.ca_cert_pem.clone(),
        ca_key_pem: pki.ca_key_pem.clone(),
        join_token: join_token.render(),
        join_token_path,
        address,
        server,
        finished,
    })
}
