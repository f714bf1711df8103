//! The loop: wait for a change, let more changes gather briefly, rebuild both tables from the
//! caches, swap them in, then bring Ingress statuses up to date.

use std::sync::Arc;
use std::time::Duration;

use rustls::sign::CertifiedKey;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::caches::Caches;
use super::secrets::SecretCache;
use super::status::{load_balancer_ips, needs_status_update, write_status};
use crate::class::served_oldest_first;
use crate::routing::{build_routing_table, RoutingTable};
use crate::tls::{tls_sources, CertificateTable};
use crate::{IngressError, SwapCell};

/// Changes arriving within this time after the first are applied together.
const GATHER: Duration = Duration::from_millis(50);
/// Secrets are read again this often, so that renewed certificates are picked up.
const SECRET_REFRESH: Duration = Duration::from_secs(60);
/// A Secret that is missing or unusable is read again this soon.
const SECRET_RETRY: Duration = Duration::from_secs(5);

pub struct Synchronizer {
    client: kube::Client,
    routes: Arc<SwapCell<RoutingTable>>,
    certificates: Arc<SwapCell<CertificateTable>>,
    fallback: Arc<CertifiedKey>,
    secrets: SecretCache,
}

impl Synchronizer {
    pub fn new(
        client: kube::Client,
        routes: Arc<SwapCell<RoutingTable>>,
        certificates: Arc<SwapCell<CertificateTable>>,
        fallback: Arc<CertifiedKey>,
    ) -> Self {
        Self {
            client,
            routes,
            certificates,
            fallback,
            secrets: SecretCache::default(),
        }
    }

    pub async fn run(mut self, cancel: CancellationToken) -> Result<(), IngressError> {
        let changed = Arc::new(Notify::new());
        let caches = Caches::spawn(&self.client, &changed, &cancel);
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            ready = caches.wait_until_ready() => ready?,
        }
        let mut refresh = tokio::time::interval(SECRET_REFRESH);
        refresh.tick().await;
        loop {
            let secrets_complete = self.rebuild(&caches).await;
            let retry = async {
                if secrets_complete {
                    std::future::pending::<()>().await;
                }
                tokio::time::sleep(SECRET_RETRY).await;
            };
            tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = changed.notified() => tokio::time::sleep(GATHER).await,
                _ = refresh.tick() => self.secrets.clear(),
                () = retry => {}
            }
        }
    }

    /// Rebuilds both tables and the statuses; false when some TLS Secret could not be used.
    async fn rebuild(&mut self, caches: &Caches) -> bool {
        let ingresses = caches.ingresses.state();
        let table = build_routing_table(
            &ingresses,
            &caches.services.state(),
            &caches.endpoint_slices.state(),
        );
        self.routes.store(table);

        let sources = tls_sources(&ingresses);
        let (certificates, secrets_complete) = self
            .secrets
            .certificate_table(&self.client, &sources, &self.fallback)
            .await;
        self.certificates.store(certificates);

        let ips = load_balancer_ips(&caches.nodes.state());
        for ingress in served_oldest_first(&ingresses) {
            if needs_status_update(ingress, &ips) {
                write_status(&self.client, ingress, &ips).await;
            }
        }
        secrets_complete
    }
}
