//! The `Records` index: Services and EndpointSlices reduced to what names resolve to, queried by
//! name and type. Pure: no I/O, no clock.

mod lookup;
mod name;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use hickory_proto::rr::Record;

pub use name::{classify, dashed, QueryName, ZoneName};

use crate::objects::{EndpointEntry, ServiceEntry, ServiceKey, SliceEntry};

/// Seconds every cluster answer may be cached, as CoreDNS's default `ttl 5`.
pub const TTL: u32 = 5;

/// What to do with a query.
#[derive(Debug, PartialEq)]
pub enum Lookup {
    /// The cluster zone answers it. Empty `answers` with `NoError` is NODATA; the caller adds
    /// the zone SOA to the authority section whenever `answers` is empty.
    Local {
        nx_domain: bool,
        answers: Vec<Record>,
        additionals: Vec<Record>,
    },
    /// Not ours: ask the upstream nameservers.
    Forward,
}

/// `(namespace, EndpointSlice name)`.
pub type SliceKey = (String, String);

/// Every DNS-relevant fact about the cluster's Services, indexed for lookups.
#[derive(Debug)]
pub struct Records {
    /// Lower case, without the trailing dot: `cluster.local`.
    zone: String,
    cluster_dns: IpAddr,
    services: HashMap<ServiceKey, ServiceEntry>,
    slices: HashMap<ServiceKey, BTreeMap<String, SliceEntry>>,
    slice_owners: HashMap<SliceKey, ServiceKey>,
    services_in_namespace: HashMap<String, usize>,
    serial: u32,
}

impl Records {
    pub fn new(cluster_domain: &str, cluster_dns: IpAddr) -> Self {
        Self {
            zone: cluster_domain.trim_matches('.').to_ascii_lowercase(),
            cluster_dns,
            services: HashMap::new(),
            slices: HashMap::new(),
            slice_owners: HashMap::new(),
            services_in_namespace: HashMap::new(),
            serial: 1,
        }
    }

    pub fn zone(&self) -> &str {
        &self.zone
    }

    pub fn upsert_service(&mut self, key: ServiceKey, entry: ServiceEntry) {
        let namespace = key.namespace.clone();
        if self.services.insert(key, entry).is_none() {
            *self.services_in_namespace.entry(namespace).or_default() += 1;
        }
        self.changed();
    }

    pub fn remove_service(&mut self, key: &ServiceKey) {
        if self.services.remove(key).is_some() {
            if let Some(count) = self.services_in_namespace.get_mut(&key.namespace) {
                *count -= 1;
                if *count == 0 {
                    self.services_in_namespace.remove(&key.namespace);
                }
            }
        }
        self.changed();
    }

    /// Replaces every Service at once (after a relist).
    pub fn replace_services(
        &mut self,
        services: impl IntoIterator<Item = (ServiceKey, ServiceEntry)>,
    ) {
        self.services.clear();
        self.services_in_namespace.clear();
        for (key, entry) in services {
            self.upsert_service(key, entry);
        }
        self.changed();
    }

    pub fn upsert_slice(&mut self, slice: SliceKey, service: ServiceKey, entry: SliceEntry) {
        if self.slice_owners.get(&slice) != Some(&service) {
            self.remove_slice(&slice);
        }
        self.slices
            .entry(service.clone())
            .or_default()
            .insert(slice.1.clone(), entry);
        self.slice_owners.insert(slice, service);
        self.changed();
    }

    pub fn remove_slice(&mut self, slice: &SliceKey) {
        if let Some(service) = self.slice_owners.remove(slice) {
            if let Some(slices) = self.slices.get_mut(&service) {
                slices.remove(&slice.1);
                if slices.is_empty() {
                    self.slices.remove(&service);
                }
            }
        }
        self.changed();
    }

    /// Replaces every EndpointSlice at once (after a relist).
    pub fn replace_slices(
        &mut self,
        slices: impl IntoIterator<Item = (SliceKey, ServiceKey, SliceEntry)>,
    ) {
        self.slices.clear();
        self.slice_owners.clear();
        for (slice, service, entry) in slices {
            self.upsert_slice(slice, service, entry);
        }
        self.changed();
    }

    fn changed(&mut self) {
        self.serial = self.serial.wrapping_add(1).max(1);
    }

    /// The endpoints a headless Service's names resolve to: ready ones, or all of them when the
    /// Service publishes not-ready addresses; each with its DNS label (hostname or dashed IP).
    fn published_endpoints<'a>(
        &'a self,
        key: &ServiceKey,
        entry: &ServiceEntry,
    ) -> Vec<(String, IpAddr, &'a SliceEntry)> {
        let mut seen = std::collections::HashSet::new();
        let mut published = Vec::new();
        for slice in self
            .slices
            .get(key)
            .into_iter()
            .flat_map(|slices| slices.values())
        {
            for endpoint in &slice.endpoints {
                if !(entry.publish_not_ready_addresses || endpoint.ready) {
                    continue;
                }
                for (label, ip) in endpoint_names(endpoint) {
                    if seen.insert(ip) {
                        published.push((label, ip, slice));
                    }
                }
            }
        }
        published
    }
}

fn endpoint_names(endpoint: &EndpointEntry) -> impl Iterator<Item = (String, IpAddr)> + '_ {
    endpoint.addresses.iter().map(|ip| {
        let label = endpoint.hostname.clone().unwrap_or_else(|| dashed(*ip));
        (label, *ip)
    })
}
