//! The registry: storage access per resource, the per-kind strategies, service allocation, and the
//! watch cache that serves reads.

pub mod certificate_signing_requests;
pub mod event_leases;
pub mod filter;
pub mod keys;
pub mod namespace_lifecycle;
pub mod object_meta;
pub mod pod_admission;
pub mod service_account_volume;
pub mod service_allocation;
pub mod service_type_change;
pub mod storage_errors;
pub mod store;
pub mod stored_json;
pub mod strategy;
pub mod versions;

use std::sync::Arc;

use storage::Backend;

use crate::config::ApiConfig;
use crate::watch_cache::WatchCache;
use event_leases::EventLeases;
use service_allocation::ServiceAllocator;
use store::Store;

pub struct Registry {
    pub store: Store,
    pub cache: Arc<WatchCache>,
    pub event_leases: EventLeases,
    service_cidr: (std::net::Ipv4Addr, u8),
    node_ports: (u16, u16),
}

/// Storage segments the watch cache leaves out.
const UNCACHED_RESOURCES: &[&str] = &["events"];

impl Registry {
    pub fn new(backend: Arc<dyn Backend>, cache: Arc<WatchCache>, config: &ApiConfig) -> Self {
        Self {
            store: Store { backend },
            cache,
            event_leases: EventLeases::new(config.event_ttl),
            service_cidr: config.service_cidr,
            node_ports: config.node_port_range,
        }
    }

    pub fn services(&self) -> ServiceAllocator<'_> {
        ServiceAllocator {
            backend: self.store.backend.as_ref(),
            cidr: self.service_cidr,
            node_ports: self.node_ports,
        }
    }

    /// Every storage segment the watch cache must hold: all but Events, which are many,
    /// short-lived and rarely listed (upstream's default watch-cache size for them is 0).
    /// Their lists, watches and deletecollections read storage.
    pub fn cached_resources() -> Vec<String> {
        let mut segments: Vec<String> = api::catalog::all()
            .iter()
            .filter_map(|r| r.storage_resource)
            .filter(|segment| !UNCACHED_RESOURCES.contains(segment))
            .map(str::to_string)
            .collect();
        segments.sort();
        segments.dedup();
        segments
    }
}
