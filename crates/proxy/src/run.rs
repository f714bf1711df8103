//! The proxy's loop: reflectors over Services and EndpointSlices in all namespaces, a full
//! resync once both are listed (and after every re-list), then partial syncs of the Services
//! that changed, coalescing a burst of events into one transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Resource};
use nftables::Nft;
use tokio_util::sync::CancellationToken;

use crate::model::ServiceKey;
use crate::proxier::Proxier;
use crate::route::ServiceCidrRoute;
use crate::rules::RenderOptions;
use crate::table::render_service;

/// How long to wait after a change for more before syncing.
const DEFAULT_COALESCE: Duration = Duration::from_millis(5);
/// How long to wait before retrying a failed full resync.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

pub struct ProxyOptions {
    pub node_name: String,
    /// The node's addresses. NodePorts are served on every local address (`fib daddr type
    /// local`), as kube-proxy does by default, so these are informational for now.
    pub node_ips: Vec<IpAddr>,
    pub cluster_cidr: String,
    pub service_cidr: String,
    pub nft: Arc<dyn Nft>,
    pub route: Arc<dyn ServiceCidrRoute>,
    pub coalesce: Duration,
}

impl ProxyOptions {
    /// Options with the real `nft` and `ip` commands.
    pub fn new(
        node_name: impl Into<String>,
        node_ips: Vec<IpAddr>,
        cluster_cidr: impl Into<String>,
        service_cidr: impl Into<String>,
    ) -> Self {
        Self {
            node_name: node_name.into(),
            node_ips,
            cluster_cidr: cluster_cidr.into(),
            service_cidr: service_cidr.into(),
            nft: Arc::new(nftables::NftCommand::default()),
            route: Arc::new(crate::route::IpRouteCommand::default()),
            coalesce: DEFAULT_COALESCE,
        }
    }

    fn render_options(&self) -> RenderOptions {
        RenderOptions {
            node_name: self.node_name.clone(),
            cluster_cidr: self.cluster_cidr.clone(),
            service_cidr: self.service_cidr.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("the sync task failed: {0}")]
    SyncTask(#[from] tokio::task::JoinError),
}

/// Programs the node's `ip r8s` table from the cluster's Services until `cancel`.
pub async fn run(
    client: kube::Client,
    options: ProxyOptions,
    cancel: CancellationToken,
) -> Result<(), ProxyError> {
    if let Err(error) = options.route.ensure(&options.service_cidr) {
        tracing::warn!(%error, "service CIDR route not installed; the node cannot reach ClusterIPs");
    }
    let (services, service_writer) = reflector::store::<Service>();
    let (slices, slice_writer) = reflector::store::<EndpointSlice>();
    let service_events = watcher(
        Api::<Service>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .modify(drop_bookkeeping)
    .reflect(service_writer);
    let slice_events = watcher(
        Api::<EndpointSlice>::all(client),
        watcher::Config::default(),
    )
    .default_backoff()
    .modify(drop_bookkeeping)
    .reflect(slice_writer);
    let mut service_events = std::pin::pin!(service_events);
    let mut slice_events = std::pin::pin!(slice_events);

    let mut proxier = Some(Proxier::new(options.nft.clone(), options.render_options()));
    let mut pending = Pending::default();
    let (mut services_listed, mut slices_listed) = (false, false);
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            Some(event) = service_events.next() => match event {
                Ok(Event::Apply(s) | Event::Delete(s)) => {
                    pending.dirty.insert(ServiceKey::of_service(&s));
                }
                Ok(Event::InitDone) => {
                    services_listed = true;
                    pending.full = true;
                }
                Ok(Event::Init | Event::InitApply(_)) => {}
                Err(error) => tracing::warn!(%error, "watching Services"),
            },
            Some(event) = slice_events.next() => match event {
                Ok(Event::Apply(s) | Event::Delete(s)) => {
                    pending.dirty.extend(ServiceKey::of_slice(&s));
                }
                Ok(Event::InitDone) => {
                    slices_listed = true;
                    pending.full = true;
                }
                Ok(Event::Init | Event::InitApply(_)) => {}
                Err(error) => tracing::warn!(%error, "watching EndpointSlices"),
            },
            _ = sleep_until(deadline), if deadline.is_some() => {
                deadline = None;
                let Some(current) = proxier.take() else { return Ok(()) };
                let work = std::mem::take(&mut pending);
                let (current, synced) = sync(current, work, &services, &slices).await?;
                proxier = Some(current);
                if !synced {
                    pending.full = true;
                    deadline = Some(tokio::time::Instant::now() + RETRY_AFTER_FAILURE);
                }
            }
        }
        if deadline.is_none() && services_listed && slices_listed && pending.is_due() {
            deadline = Some(tokio::time::Instant::now() + options.coalesce);
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline).await;
    }
}

#[derive(Debug, Default)]
struct Pending {
    full: bool,
    dirty: BTreeSet<ServiceKey>,
}

impl Pending {
    fn is_due(&self) -> bool {
        self.full || !self.dirty.is_empty()
    }
}

/// Runs one sync off the async threads (`nft` is a process); a failed partial sync falls back
/// to a full resync. Returns the proxier and whether the table is now up to date.
async fn sync(
    mut proxier: Proxier,
    work: Pending,
    services: &Store<Service>,
    slices: &Store<EndpointSlice>,
) -> Result<(Proxier, bool), ProxyError> {
    let services = services.clone();
    let slices = slices.clone();
    let result = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        if !work.full && proxier.has_synced() {
            let desired = desired_for(&work.dirty, &services, &slices, proxier.options());
            match proxier.sync_services(desired) {
                Ok(applied) => {
                    if applied {
                        tracing::debug!(services = work.dirty.len(), elapsed = ?started.elapsed(), "partial sync");
                    }
                    return (proxier, true);
                }
                Err(error) => tracing::warn!(%error, "partial sync failed; resyncing fully"),
            }
        }
        let all_services = services.state();
        let all_slices = slices.state();
        let synced = match proxier.sync_full(
            all_services.iter().map(AsRef::as_ref),
            all_slices.iter().map(AsRef::as_ref),
        ) {
            Ok(()) => {
                tracing::info!(services = all_services.len(), elapsed = ?started.elapsed(), "full resync");
                true
            }
            Err(error) => {
                tracing::error!(%error, "full resync failed");
                false
            }
        };
        (proxier, synced)
    })
    .await?;
    Ok(result)
}

/// The rules each of `keys` needs now, from the reflectors' stores.
fn desired_for(
    keys: &BTreeSet<ServiceKey>,
    services: &Store<Service>,
    slices: &Store<EndpointSlice>,
    options: &RenderOptions,
) -> BTreeMap<ServiceKey, Option<crate::rules::ServiceRules>> {
    let own_slices = slices
        .state_filter(|slice| ServiceKey::of_slice(slice).is_some_and(|key| keys.contains(&key)));
    keys.iter()
        .map(|key| {
            let service = services.get(&ObjectRef::new(&key.name).within(&key.namespace));
            let slices: Vec<&EndpointSlice> = own_slices
                .iter()
                .map(AsRef::as_ref)
                .filter(|slice| ServiceKey::of_slice(slice).as_ref() == Some(key))
                .collect();
            let rules = render_service(service.as_deref(), &slices, options);
            (key.clone(), rules)
        })
        .collect()
}

/// What the cache need not hold: field managers and `kubectl apply`'s copy of the object.
fn drop_bookkeeping<K: Resource>(object: &mut K) {
    let meta = object.meta_mut();
    meta.managed_fields = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}
