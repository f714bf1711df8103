//! The controller: start the listeners, watch the API, rebuild and swap the tables, write
//! `status.loadBalancer`.

mod caches;
mod secrets;
mod status;
mod sync;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::class::ensure_ingress_class;
use crate::proxy::{serve_http, serve_https, Proxy};
use crate::routing::RoutingTable;
use crate::tls::{fallback_certificate, server_config, CertificateTable};
use crate::{IngressError, IngressOptions, SwapCell};

pub use status::{load_balancer_ips, needs_status_update};

/// Runs the ingress controller of this node until `cancel` fires. A port that cannot be bound
/// is logged and left out; the controller keeps running with the other.
pub async fn run(
    client: kube::Client,
    options: IngressOptions,
    cancel: CancellationToken,
) -> Result<(), IngressError> {
    let fallback = Arc::new(fallback_certificate()?);
    let routes = Arc::new(SwapCell::new(RoutingTable::default()));
    let certificates = Arc::new(SwapCell::new(CertificateTable::new(Arc::clone(&fallback))));
    let proxy = Arc::new(Proxy::new(Arc::clone(&routes)));
    let tls = server_config(Arc::clone(&certificates))?;

    ensure_ingress_class(&client).await;

    let http_address = (options.node_ip, options.http_port);
    match TcpListener::bind(http_address).await {
        Ok(listener) => {
            tracing::info!(address = ?http_address, "ingress listening for HTTP");
            tokio::spawn(serve_http(listener, Arc::clone(&proxy), cancel.clone()));
        }
        Err(error) => {
            tracing::error!(address = ?http_address, %error, "ingress cannot serve HTTP")
        }
    }
    let https_address = (options.node_ip, options.https_port);
    match TcpListener::bind(https_address).await {
        Ok(listener) => {
            tracing::info!(address = ?https_address, "ingress listening for HTTPS");
            tokio::spawn(serve_https(listener, proxy, tls, cancel.clone()));
        }
        Err(error) => {
            tracing::error!(address = ?https_address, %error, "ingress cannot serve HTTPS")
        }
    }

    sync::Synchronizer::new(client, routes, certificates, fallback)
        .run(cancel)
        .await
}
