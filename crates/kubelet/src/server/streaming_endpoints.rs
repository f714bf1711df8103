//! `/exec`, `/attach` and `/portForward`: ask the runtime for a stream URL over CRI, then relay
//! the client's upgrade request to it.

use hyper::body::Incoming;
use k8s_cri::v1::{AttachRequest, ExecRequest, PortForwardRequest};

use super::body::KubeletResponse;
use super::container_lookup::{find_container, find_pod_sandbox};
use super::http_error::HttpError;
use super::query::QueryPairs;
use super::upgrade_proxy::proxy_to_stream_server;
use crate::CriClient;

/// Which streams the client wants; the API server sends `input/output/error`, upstream's names
/// towards the kubelet, and direct clients may use `stdin/stdout/stderr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamFlags {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

impl StreamFlags {
    pub fn from_query(query: &QueryPairs) -> Self {
        Self {
            stdin: query.flag("input") || query.flag("stdin"),
            stdout: query.flag("output") || query.flag("stdout"),
            stderr: query.flag("error") || query.flag("stderr"),
            tty: query.flag("tty"),
        }
    }
}

/// What a streaming request is for.
pub enum StreamTarget {
    Exec { command: Vec<String> },
    Attach,
}

async fn container_id(
    cri: &CriClient,
    namespace: &str,
    pod: &str,
    container: &str,
) -> Result<String, HttpError> {
    let found = find_container(cri, namespace, pod, container).await?;
    found.map(|c| c.id).ok_or_else(|| {
        HttpError::not_found(format!(
            "container {container:?} in pod \"{namespace}/{pod}\" not found"
        ))
    })
}

pub async fn exec_or_attach(
    cri: &CriClient,
    request: hyper::Request<Incoming>,
    (namespace, pod, container): (&str, &str, &str),
    target: StreamTarget,
) -> Result<KubeletResponse, HttpError> {
    let query = QueryPairs::parse(request.uri().query());
    let flags = StreamFlags::from_query(&query);
    if !flags.stdin && !flags.stdout && !flags.stderr {
        return Err(HttpError::bad_request(
            "you must specify at least 1 of stdin, stdout, stderr",
        ));
    }
    let container_id = container_id(cri, namespace, pod, container).await?;
    let mut runtime = cri.runtime.clone();
    let url = match target {
        StreamTarget::Exec { command } => {
            if command.is_empty() {
                return Err(HttpError::bad_request(
                    "you must specify at least one command",
                ));
            }
            runtime
                .exec(ExecRequest {
                    container_id,
                    cmd: command,
                    tty: flags.tty,
                    stdin: flags.stdin,
                    stdout: flags.stdout,
                    stderr: flags.stderr && !flags.tty,
                })
                .await
                .map_err(|s| HttpError::internal(s.message().to_string()))?
                .into_inner()
                .url
        }
        StreamTarget::Attach => {
            runtime
                .attach(AttachRequest {
                    container_id,
                    stdin: flags.stdin,
                    tty: flags.tty,
                    stdout: flags.stdout,
                    stderr: flags.stderr && !flags.tty,
                })
                .await
                .map_err(|s| HttpError::internal(s.message().to_string()))?
                .into_inner()
                .url
        }
    };
    proxy_to_stream_server(request, &url).await
}

pub async fn port_forward(
    cri: &CriClient,
    request: hyper::Request<Incoming>,
    namespace: &str,
    pod: &str,
) -> Result<KubeletResponse, HttpError> {
    let query = QueryPairs::parse(request.uri().query());
    let mut ports = Vec::new();
    for port in query.all("port") {
        let parsed: i32 = port
            .parse()
            .ok()
            .filter(|p| (1..=65535).contains(p))
            .ok_or_else(|| HttpError::bad_request(format!("invalid port {port:?}")))?;
        ports.push(parsed);
    }
    let sandbox = find_pod_sandbox(cri, namespace, pod)
        .await?
        .ok_or_else(|| HttpError::not_found(format!("pod \"{namespace}/{pod}\" not found")))?;
    let url = cri
        .runtime
        .clone()
        .port_forward(PortForwardRequest {
            pod_sandbox_id: sandbox.id,
            port: ports,
        })
        .await
        .map_err(|s| HttpError::internal(s.message().to_string()))?
        .into_inner()
        .url;
    proxy_to_stream_server(request, &url).await
}
