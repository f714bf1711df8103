//! The little of each Service and EndpointSlice that DNS answers need, cut from the full objects
//! as they arrive so that nothing else stays in memory.

use std::net::IpAddr;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// The label an EndpointSlice carries naming its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// `namespace/name` of a Service.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceKey {
    pub namespace: String,
    pub name: String,
}

impl ServiceKey {
    pub fn new(namespace: &str, name: &str) -> Self {
        Self {
            namespace: namespace.to_ascii_lowercase(),
            name: name.to_ascii_lowercase(),
        }
    }
}

/// How a Service is reached by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceKind {
    /// A virtual IP (one per family).
    ClusterIp(Vec<IpAddr>),
    /// `clusterIP: None`: the name resolves to the endpoints themselves.
    Headless,
    /// A CNAME to another name.
    ExternalName(String),
}

/// A named port (unnamed ports have no SRV record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedPort {
    pub name: String,
    /// Lower case: `tcp`, `udp`, `sctp`.
    pub protocol: String,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEntry {
    pub kind: ServiceKind,
    pub ports: Vec<NamedPort>,
    pub publish_not_ready_addresses: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointEntry {
    pub addresses: Vec<IpAddr>,
    pub ready: bool,
    pub hostname: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SliceEntry {
    pub endpoints: Vec<EndpointEntry>,
    pub ports: Vec<NamedPort>,
}

/// The key and DNS view of a Service; `None` when it has no name or namespace.
pub fn service_entry(service: &Service) -> Option<(ServiceKey, ServiceEntry)> {
    let key = ServiceKey::new(
        service.metadata.namespace.as_deref()?,
        service.metadata.name.as_deref()?,
    );
    let spec = service.spec.as_ref()?;
    let kind = if spec.type_.as_deref() == Some("ExternalName") {
        ServiceKind::ExternalName(
            spec.external_name
                .as_deref()
                .unwrap_or_default()
                .trim_end_matches('.')
                .to_ascii_lowercase(),
        )
    } else if spec.cluster_ip.as_deref() == Some("None") {
        ServiceKind::Headless
    } else {
        let mut ips: Vec<IpAddr> = spec
            .cluster_ips
            .iter()
            .flatten()
            .chain(spec.cluster_ip.iter())
            .filter_map(|ip| ip.parse().ok())
            .collect();
        ips.dedup();
        if ips.is_empty() {
            return None;
        }
        ips.sort();
        ips.dedup();
        ServiceKind::ClusterIp(ips)
    };
    let ports = spec
        .ports
        .iter()
        .flatten()
        .filter_map(|port| {
            named_port(
                port.name.as_deref(),
                port.protocol.as_deref(),
                Some(port.port),
            )
        })
        .collect();
    Some((
        key,
        ServiceEntry {
            kind,
            ports,
            publish_not_ready_addresses: spec.publish_not_ready_addresses.unwrap_or(false),
        },
    ))
}

/// `(namespace, slice name)` of an EndpointSlice.
pub fn slice_key(slice: &EndpointSlice) -> Option<(String, String)> {
    Some((
        slice.metadata.namespace.clone()?.to_ascii_lowercase(),
        slice.metadata.name.clone()?,
    ))
}

/// The Service an EndpointSlice belongs to and what it holds; `None` without the service label.
pub fn slice_entry(slice: &EndpointSlice) -> Option<(ServiceKey, SliceEntry)> {
    let namespace = slice.metadata.namespace.as_deref()?;
    let service = slice.metadata.labels.as_ref()?.get(SERVICE_NAME_LABEL)?;
    let endpoints = slice
        .endpoints
        .iter()
        .map(|endpoint| EndpointEntry {
            addresses: endpoint
                .addresses
                .iter()
                .filter_map(|address| address.parse().ok())
                .collect(),
            // Unknown readiness counts as ready, as the EndpointSlice API says.
            ready: endpoint
                .conditions
                .as_ref()
                .and_then(|conditions| conditions.ready)
                .unwrap_or(true),
            hostname: endpoint
                .hostname
                .as_deref()
                .filter(|hostname| !hostname.is_empty())
                .map(str::to_ascii_lowercase),
        })
        .collect();
    let ports = slice
        .ports
        .iter()
        .flatten()
        .filter_map(|port| named_port(port.name.as_deref(), port.protocol.as_deref(), port.port))
        .collect();
    Some((
        ServiceKey::new(namespace, service),
        SliceEntry { endpoints, ports },
    ))
}

fn named_port(name: Option<&str>, protocol: Option<&str>, port: Option<i32>) -> Option<NamedPort> {
    let name = name.filter(|name| !name.is_empty())?;
    Some(NamedPort {
        name: name.to_ascii_lowercase(),
        protocol: protocol.unwrap_or("TCP").to_ascii_lowercase(),
        port: u16::try_from(port?).ok()?,
    })
}
