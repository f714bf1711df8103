//! The kubelet's HTTPS server (port 10250): container logs, exec/attach/port-forward relayed to
//! the runtime's streaming server, stats, health. Callers must present a client certificate signed
//! by the cluster CA (the API server presents its kubelet client certificate) or a bearer token the
//! API server reviews, and each request is authorized as `nodes/<subresource>` of this node by the
//! API server (upstream's webhook mode).

pub mod access;
mod answer_cache;
pub mod authorization;
mod body;
pub mod client_identity;
mod container_logs;
pub mod container_lookup;
mod cri_log_line;
mod http_error;
mod log_files;
mod log_formatter;
mod log_options;
mod log_stream;
mod query;
mod request_attributes;
mod routes;
mod stats_summary;
mod streaming_endpoints;
mod tls;
pub mod token_review;
mod upgrade_proxy;

/// The node's busy CPU time from /proc/stat, as `/stats/summary` reports it.
pub use stats_summary::busy_cpu_nanos;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use http::{Method, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use access::Access;
use body::{error_response, json_response, text_response, KubeletResponse};
use client_identity::ClientIdentity;
use http_error::HttpError;
use routes::{route, Route};
use stats_summary::NodeCpuSampler;
use streaming_endpoints::StreamTarget;
pub use tls::{self_signed_serving_cert, CertificatePair};

use crate::{CriClient, KubeletError};

/// How the kubelet server is set up.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub bind_address: IpAddr,
    /// 10250; 0 picks a free port (tests).
    pub port: u16,
    pub node_name: String,
    /// The node's InternalIP, put in a self-signed serving certificate.
    pub node_ip: IpAddr,
    /// The serving certificate; `None`: a self-signed one for the node's IP and names.
    pub serving_cert: Option<CertificatePair>,
    /// Client certificates must chain to this CA (PEM).
    pub client_ca_pem: String,
    /// `<pod_log_dir>/<ns>_<pod>_<uid>/<container>/<n>.log`.
    pub pod_log_dir: PathBuf,
}

struct ServerState {
    cri: CriClient,
    options: ServerOptions,
    cpu_sampler: NodeCpuSampler,
    access: Arc<Access>,
}

/// A listening server, not yet accepting.
pub struct BoundServer {
    listener: tokio::net::TcpListener,
    acceptor: TlsAcceptor,
    options: ServerOptions,
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// Bind the listener and prepare TLS.
pub async fn bind(options: ServerOptions) -> Result<BoundServer, KubeletError> {
    let serving = match &options.serving_cert {
        Some(pair) => pair.clone(),
        None => {
            let mut names = vec![options.node_name.clone(), host_name()];
            names.dedup();
            self_signed_serving_cert(&names, &[options.node_ip])?
        }
    };
    let config = tls::server_config(&serving, &options.client_ca_pem)?;
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::new(options.bind_address, options.port)).await?;
    Ok(BoundServer {
        listener,
        acceptor: TlsAcceptor::from(config),
        options,
    })
}

impl BoundServer {
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accept connections until `cancel`; every caller is authenticated and authorized by `access`.
    pub async fn run(
        self,
        cri: CriClient,
        access: Arc<Access>,
        cancel: CancellationToken,
    ) -> Result<(), KubeletError> {
        let state = Arc::new(ServerState {
            cri,
            options: self.options,
            cpu_sampler: NodeCpuSampler::default(),
            access,
        });
        loop {
            let (stream, peer) = tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                accepted = self.listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(error) => {
                        tracing::warn!(%error, "kubelet server accept failed");
                        continue;
                    }
                },
            };
            let acceptor = self.acceptor.clone();
            let state = state.clone();
            let cancel = cancel.clone();
            tokio::spawn(async move {
                serve_connection(acceptor, stream, peer, state, cancel).await;
            });
        }
    }
}

/// Serve the kubelet API until `cancel`.
pub async fn serve(
    options: ServerOptions,
    cri: CriClient,
    access: Arc<Access>,
    cancel: CancellationToken,
) -> Result<(), KubeletError> {
    bind(options).await?.run(cri, access, cancel).await
}

async fn serve_connection(
    acceptor: TlsAcceptor,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    state: Arc<ServerState>,
    cancel: CancellationToken,
) {
    let tls = match acceptor.accept(stream).await {
        Ok(tls) => tls,
        Err(error) => {
            tracing::debug!(%peer, %error, "kubelet server TLS handshake failed");
            return;
        }
    };
    // The verifier checked the chain of any certificate presented, so presenting one whose
    // subject names a user authenticates; without one, each request may carry a bearer token.
    let certified = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|leaf| ClientIdentity::from_certificate(leaf.as_ref()));
    let certified = certified.map(Arc::new);
    let service = service_fn(move |request: hyper::Request<Incoming>| {
        let state = state.clone();
        let certified = certified.clone();
        async move {
            let identity = match certified {
                Some(identity) => Some(identity),
                None => match token_review::bearer_token(request.headers()) {
                    Some(token) => state.access.tokens.authenticate(token).await.map(Arc::new),
                    None => None,
                },
            };
            let response = match identity {
                Some(identity) => authorize_and_handle(&state, &identity, request)
                    .await
                    .unwrap_or_else(|e| error_response(&e)),
                None => text_response(StatusCode::UNAUTHORIZED, "Unauthorized"),
            };
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(tls), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "kubelet server connection ended");
            }
        }
        _ = cancel.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

async fn authorize_and_handle(
    state: &ServerState,
    identity: &ClientIdentity,
    request: hyper::Request<Incoming>,
) -> Result<KubeletResponse, HttpError> {
    state
        .access
        .authorizer
        .authorize(identity, request.method(), request.uri().path())
        .await?;
    handle(state, request).await
}

async fn handle(
    state: &ServerState,
    request: hyper::Request<Incoming>,
) -> Result<KubeletResponse, HttpError> {
    let Some(target) = route(request.uri().path()) else {
        return Err(HttpError::not_found("404 page not found"));
    };
    let streaming = matches!(
        target,
        Route::Exec { .. } | Route::Attach { .. } | Route::PortForward { .. }
    );
    if !streaming && request.method() != Method::GET && request.method() != Method::HEAD {
        return Err(HttpError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ));
    }
    let cri = &state.cri;
    match target {
        Route::Healthz => Ok(text_response(StatusCode::OK, "ok")),
        Route::Pods => Ok(json_response(&serde_json::json!({
            "kind": "PodList",
            "apiVersion": "v1",
            "metadata": {},
            "items": [],
        }))),
        Route::StatsSummary => Ok(json_response(
            &stats_summary::stats_summary(cri, &state.options.node_name, &state.cpu_sampler).await,
        )),
        Route::ContainerLogs {
            namespace,
            pod,
            container,
        } => {
            container_logs::container_logs(
                cri,
                &state.options.pod_log_dir,
                request.uri().query(),
                (&namespace, &pod, &container),
            )
            .await
        }
        Route::Exec {
            namespace,
            pod,
            container,
        } => {
            let command = query::QueryPairs::parse(request.uri().query()).all("command");
            streaming_endpoints::exec_or_attach(
                cri,
                request,
                (&namespace, &pod, &container),
                StreamTarget::Exec { command },
            )
            .await
        }
        Route::Attach {
            namespace,
            pod,
            container,
        } => {
            streaming_endpoints::exec_or_attach(
                cri,
                request,
                (&namespace, &pod, &container),
                StreamTarget::Attach,
            )
            .await
        }
        Route::PortForward { namespace, pod } => {
            streaming_endpoints::port_forward(cri, request, &namespace, &pod).await
        }
    }
}
