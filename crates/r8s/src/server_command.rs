//! `r8s server`: start the control plane and run until SIGINT or SIGTERM.

use std::time::{Duration, Instant};

use anyhow::Context;
use apiserver::config::{parse_ipv4_cidr, parse_port_range, ApiConfig};
use apiserver::ServeOptions;
use tokio_util::sync::CancellationToken;

use crate::agent::{self, AgentConfig};
use crate::cli::ServerArgs;

/// `1h`, `30m`, `90s` or plain seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number.parse().ok()?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    crate::allocator::purge_freed_memory_in_background();
    let started_at = Instant::now();
    let api = ApiConfig {
        service_cidr: parse_ipv4_cidr(&args.node.service_cidr).with_context(|| {
            format!(
                "--service-cidr {:?} is not an IPv4 CIDR",
                args.node.service_cidr
            )
        })?,
        node_port_range: parse_port_range(&args.service_node_port_range).with_context(|| {
            format!(
                "--service-node-port-range {:?} is not LOW-HIGH",
                args.service_node_port_range
            )
        })?,
        event_ttl: parse_duration(&args.event_ttl)
            .with_context(|| format!("--event-ttl {:?} is not a duration", args.event_ttl))?,
        max_requests_inflight: args.max_requests_inflight,
        max_mutating_requests_inflight: args.max_mutating_requests_inflight,
        delete_collection_workers: usize::from(args.delete_collection_workers),
    };
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let options = ServeOptions {
        data_dir: args.data_dir.clone(),
        bind_address: args.bind_address,
        https_port: args.https_listen_port,
        datastore_endpoint: args.datastore_endpoint.clone(),
        token_file: args.token_file.clone(),
        write_kubeconfig: args.write_kubeconfig.clone(),
        tls_san_ips: tls_san_ips(&args),
        advertise_address: advertise_address(&args),
        api,
    };
    let cancel = CancellationToken::new();
    let started = apiserver::run(options, cancel.clone()).await?;
    tracing::info!(
        address = %started.address,
        ready_after_ms = started_at.elapsed().as_millis() as u64,
        "r8s server is ready"
    );
    crate::control_loops::start(
        crate::control_loops::ControlLoops {
            controller_manager: !args.disable_controller_manager,
            scheduler: !args.disable_scheduler,
            cluster_cidr: args.node.cluster_cidr.clone(),
            servicelb: args.node.runs(crate::cli::Component::Servicelb),
            node_monitor_grace_period: parse_duration(&args.node_monitor_grace_period)
                .with_context(|| {
                    format!(
                        "--node-monitor-grace-period {:?} is not a duration",
                        args.node_monitor_grace_period
                    )
                })?,
        },
        &started.server,
        started.ca_cert_pem.clone(),
        started.ca_key_pem.clone(),
        cancel.clone(),
    );
    if !args.disable_agent {
        crate::server_node_role::spawn(
            &started.server,
            agent::node_name(&args.node)?,
            cancel.clone(),
        );
        start_local_agent(&args, started.address, &started.join_token, cancel.clone());
    }
    println!("export KUBECONFIG={}", started.kubeconfig_path.display());
    crate::shutdown::signal().await;
    tracing::info!("shutting down");
    cancel.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), started.finished).await;
    Ok(())
}

/// Addresses agents on other machines may reach this server by: the machine's own when it listens
/// on all of them, and the node IP it was given.
fn tls_san_ips(args: &ServerArgs) -> Vec<std::net::IpAddr> {
    let mut ips = if args.bind_address.is_unspecified() {
        crate::host_addresses::global_ipv4_addresses()
    } else {
        Vec::new()
    };
    ips.extend(args.node.node_ip);
    ips
}

/// The address pods reach the API server by (the `kubernetes` Service's endpoint): the flag, else
/// the bind address when it is one, else the node IP or the machine's address.
fn advertise_address(args: &ServerArgs) -> Option<std::net::IpAddr> {
    if let Some(ip) = args.advertise_address {
        return Some(ip);
    }
    if !args.bind_address.is_unspecified() {
        return Some(args.bind_address);
    }
    args.node.node_ip.or_else(|| {
        crate::host_addresses::global_ipv4_addresses()
            .into_iter()
            .next()
    })
}

/// The server's own node: the same agent as `r8s agent`, joining over HTTPS with the join token.
fn start_local_agent(
    args: &ServerArgs,
    api_address: std::net::SocketAddr,
    token: &str,
    cancel: CancellationToken,
) {
    let host = if api_address.ip().is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        api_address.ip()
    };
    let config = AgentConfig {
        server_url: format!(
            "https://{}",
            std::net::SocketAddr::new(host, api_address.port())
        ),
        token: token.trim().to_string(),
        data_dir: args.data_dir.clone(),
        node: args.node.clone(),
    };
    tokio::spawn(async move {
        if let Err(e) = agent::run(config, cancel.clone()).await {
            tracing::error!(error = format!("{e:#}"), "the node agent stopped");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("x"), None);
    }
}
