//! Probes (liveness, readiness, startup): one check at a time; the pod worker schedules them.

pub mod exec;
#[cfg(test)]
pub(crate) mod fake_runtime;
pub mod grpc;
pub mod http_get;
pub mod port;
pub mod tcp;

use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, HTTPGetAction, Probe};

use crate::CriClient;
use exec::{exec_sync, ExecError};
use http_get::{http_get, HttpOutcome, HttpTarget};
use port::resolve_port;

/// The outcome of one probe run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeResult {
    Success,
    /// With the output upstream puts in the Unhealthy event after "<Kind> probe failed: ".
    Failure(String),
}

/// Runs `probe` once against a container (exec through CRI ExecSync; httpGet, tcpSocket and grpc
/// against `pod_ip`). Named ports fail here: use `run_container_probe` to resolve them.
pub async fn run_probe(
    cri: &CriClient,
    probe: &Probe,
    container_id: &str,
    pod_ip: Option<&str>,
) -> ProbeResult {
    run_container_probe(cri, probe, None, container_id, pod_ip).await
}

/// As `run_probe`, resolving named ports against `container`'s ports.
pub async fn run_container_probe(
    cri: &CriClient,
    probe: &Probe,
    container: Option<&Container>,
    container_id: &str,
    pod_ip: Option<&str>,
) -> ProbeResult {
    let timeout = Duration::from_secs(
        probe
            .timeout_seconds
            .unwrap_or(1)
            .max(1)
            .unsigned_abs()
            .into(),
    );
    let pod_ip = pod_ip.unwrap_or_default();
    if let Some(action) = &probe.exec {
        let command = action.command.clone().unwrap_or_default();
        return match exec_sync(cri, container_id, &command, timeout).await {
            Ok(out) if out.exit_code == 0 => ProbeResult::Success,
            Ok(out) => ProbeResult::Failure(out.output),
            Err(e @ ExecError::TimedOut(_)) => ProbeResult::Failure(e.to_string()),
            Err(e) => ProbeResult::Failure(e.to_string()),
        };
    }
    if let Some(action) = &probe.http_get {
        let target = match http_target(action, container, pod_ip) {
            Ok(target) => target,
            Err(e) => return ProbeResult::Failure(e),
        };
        return match http_get(&target, timeout).await {
            Ok(HttpOutcome::Status(code)) if (200..400).contains(&code) => ProbeResult::Success,
            Ok(HttpOutcome::OffHostRedirect(_)) => ProbeResult::Success,
            Ok(HttpOutcome::Status(code)) => {
                ProbeResult::Failure(format!("HTTP probe failed with statuscode: {code}"))
            }
            Err(e) => ProbeResult::Failure(e),
        };
    }
    if let Some(action) = &probe.tcp_socket {
        let host = action
            .host
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or(pod_ip);
        return match resolve_port(&action.port, container) {
            Ok(port) => match tcp::check_tcp(host, port, timeout).await {
                Ok(()) => ProbeResult::Success,
                Err(e) => ProbeResult::Failure(e),
            },
            Err(e) => ProbeResult::Failure(e),
        };
    }
    if let Some(action) = &probe.grpc {
        let Ok(port) = u16::try_from(action.port) else {
            return ProbeResult::Failure(format!("invalid port number: {}", action.port));
        };
        let service = action.service.as_deref().unwrap_or_default();
        return match grpc::check_grpc(pod_ip, port, service, timeout).await {
            Ok(()) => ProbeResult::Success,
            Err(e) => ProbeResult::Failure(e),
        };
    }
    ProbeResult::Failure("missing probe handler".to_string())
}

/// The request an httpGet action makes (host: the action's, else the pod IP).
pub fn http_target(
    action: &HTTPGetAction,
    container: Option<&Container>,
    pod_ip: &str,
) -> Result<HttpTarget, String> {
    let port = resolve_port(&action.port, container)?;
    let host = action
        .host
        .as_deref()
        .filter(|h| !h.is_empty())
        .unwrap_or(pod_ip);
    let path = action.path.as_deref().unwrap_or_default();
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    Ok(HttpTarget {
        https: action
            .scheme
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("https")),
        host: host.to_string(),
        port,
        path,
        headers: action
            .http_headers
            .iter()
            .flatten()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect(),
    })
}

#[cfg(test)]
mod tests;
