//! The proxy's view of a Service: one `ServicePort` per port of a non-headless Service, with the
//! IPv4 endpoints the Service's EndpointSlices list for that port (matched by port name and
//! protocol, as upstream's endpoint slice cache does).

use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// The label an EndpointSlice carries naming the Service it belongs to.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// Upstream's default `sessionAffinityConfig.clientIP.timeoutSeconds`.
const DEFAULT_AFFINITY_TIMEOUT_SECONDS: u32 = 10800;

pub use nftables::Protocol;

/// A Service by namespace and name: the unit the proxy re-programs when something changes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceKey {
    pub namespace: String,
    pub name: String,
}

impl ServiceKey {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    pub fn of_service(service: &Service) -> Self {
        Self::new(
            service.metadata.namespace.clone().unwrap_or_default(),
            service.metadata.name.clone().unwrap_or_default(),
        )
    }

    /// The Service an EndpointSlice belongs to, from its `kubernetes.io/service-name` label.
    pub fn of_slice(slice: &EndpointSlice) -> Option<Self> {
        let name = slice.metadata.labels.as_ref()?.get(SERVICE_NAME_LABEL)?;
        Some(Self::new(
            slice.metadata.namespace.clone().unwrap_or_default(),
            name.clone(),
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub ip: Ipv4Addr,
    pub port: u16,
    pub ready: bool,
    pub serving: bool,
    pub terminating: bool,
    pub node_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    pub service: ServiceKey,
    pub protocol: Protocol,
    pub port: u16,
    pub cluster_ip: Ipv4Addr,
    pub node_port: Option<u16>,
    pub external_ips: Vec<Ipv4Addr>,
    pub load_balancer_ips: Vec<Ipv4Addr>,
    pub affinity_timeout_seconds: Option<u32>,
    /// `internalTrafficPolicy: Local`: ClusterIP traffic goes to this node's endpoints only.
    pub internal_local: bool,
    /// `externalTrafficPolicy: Local` on an externally reachable Service.
    pub external_local: bool,
    pub endpoints: Vec<Endpoint>,
}

impl ServicePort {
    pub fn has_external_destinations(&self) -> bool {
        self.node_port.is_some()
            || !self.external_ips.is_empty()
            || !self.load_balancer_ips.is_empty()
    }
}

/// The ports of `service` with their endpoints from `slices` (the Service's own slices; others
/// are ignored). Headless and ExternalName Services, and Services without an IPv4 cluster IP,
/// have none.
pub fn service_ports(service: &Service, slices: &[&EndpointSlice]) -> Vec<ServicePort> {
    let Some(spec) = service.spec.as_ref() else {
        return Vec::new();
    };
    if spec.type_.as_deref() == Some("ExternalName") {
        return Vec::new();
    }
    let Some(cluster_ip) = ipv4_cluster_ip(service) else {
        return Vec::new();
    };
    let key = ServiceKey::of_service(service);
    let own_slices: Vec<&EndpointSlice> = slices
        .iter()
        .copied()
        .filter(|slice| ServiceKey::of_slice(slice).as_ref() == Some(&key))
        .filter(|slice| slice.address_type == "IPv4")
        .collect();
    let type_ = spec.type_.as_deref().unwrap_or("ClusterIP");
    let load_balancer_ips = if type_ == "LoadBalancer" {
        load_balancer_ingress_ips(service)
    } else {
        Vec::new()
    };
    let external_ips: Vec<Ipv4Addr> = spec
        .external_ips
        .iter()
        .flatten()
        .filter_map(|ip| ip.parse().ok())
        .collect();
    let affinity_timeout_seconds =
        (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
            spec.session_affinity_config
                .as_ref()
                .and_then(|config| config.client_ip.as_ref())
                .and_then(|client_ip| client_ip.timeout_seconds)
                .and_then(|seconds| u32::try_from(seconds).ok())
                .unwrap_or(DEFAULT_AFFINITY_TIMEOUT_SECONDS)
        });
    let internal_local = spec.internal_traffic_policy.as_deref() == Some("Local");
    let externally_reachable =
        matches!(type_, "NodePort" | "LoadBalancer") || !external_ips.is_empty();
    let external_local =
        externally_reachable && spec.external_traffic_policy.as_deref() == Some("Local");
    spec.ports
        .iter()
        .flatten()
        .filter_map(|port| {
            let protocol = Protocol::from_api(port.protocol.as_deref())?;
            let number = u16::try_from(port.port).ok()?;
            let node_port = match type_ {
                "NodePort" | "LoadBalancer" => port.node_port.and_then(|p| u16::try_from(p).ok()),
                _ => None,
            }
            .filter(|p| *p != 0);
            let port_name = port.name.as_deref().unwrap_or("");
            Some(ServicePort {
                service: key.clone(),
                protocol,
                port: number,
                cluster_ip,
                node_port,
                external_ips: external_ips.clone(),
                load_balancer_ips: load_balancer_ips.clone(),
                affinity_timeout_seconds,
                internal_local,
                external_local,
                endpoints: endpoints_for_port(&own_slices, port_name, protocol),
            })
        })
        .collect()
}

fn ipv4_cluster_ip(service: &Service) -> Option<Ipv4Addr> {
    let spec = service.spec.as_ref()?;
    spec.cluster_ips
        .iter()
        .flatten()
        .chain(spec.cluster_ip.iter())
        .find_map(|ip| ip.parse::<Ipv4Addr>().ok())
}

fn load_balancer_ingress_ips(service: &Service) -> Vec<Ipv4Addr> {
    service
        .status
        .as_ref()
        .and_then(|status| status.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter(|ingress| ingress.ip_mode.as_deref() != Some("Proxy"))
        .filter_map(|ingress| ingress.ip.as_deref()?.parse().ok())
        .collect()
}

/// Endpoints of every slice port named `port_name` with `protocol`, each address once.
fn endpoints_for_port(
    slices: &[&EndpointSlice],
    port_name: &str,
    protocol: Protocol,
) -> Vec<Endpoint> {
    let mut endpoints: Vec<Endpoint> = Vec::new();
    for slice in slices {
        let Some(port) = slice.ports.iter().flatten().find_map(|p| {
            let same_name = p.name.as_deref().unwrap_or("") == port_name;
            let same_protocol = Protocol::from_api(p.protocol.as_deref()) == Some(protocol);
            (same_name && same_protocol)
                .then_some(p.port)
                .flatten()
                .and_then(|n| u16::try_from(n).ok())
        }) else {
            continue;
        };
        for endpoint in &slice.endpoints {
            let Some(ip) = endpoint
                .addresses
                .first()
                .and_then(|a| a.parse::<Ipv4Addr>().ok())
            else {
                continue;
            };
            if endpoints.iter().any(|e| e.ip == ip && e.port == port) {
                continue;
            }
            let conditions = endpoint.conditions.as_ref();
            let ready = conditions.and_then(|c| c.ready).unwrap_or(true);
            endpoints.push(Endpoint {
                ip,
                port,
                ready,
                serving: conditions.and_then(|c| c.serving).unwrap_or(ready),
                terminating: conditions.and_then(|c| c.terminating).unwrap_or(false),
                node_name: endpoint.node_name.clone(),
            });
        }
    }
    endpoints.sort_by_key(|e| (e.ip, e.port));
    endpoints
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_objects::{service, slice};

    #[test]
    fn ports_take_endpoints_by_port_name_and_protocol() {
        let svc = service(serde_json::json!({
            "metadata": {"namespace": "default", "name": "web"},
            "spec": {"clusterIP": "10.43.0.5", "ports": [
                {"name": "http", "port": 80, "targetPort": "http"},
                {"name": "dns", "port": 53, "protocol": "UDP"}
            ]}
        }));
        let s = slice(serde_json::json!({
            "metadata": {"namespace": "default", "name": "web-abc",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"},
                      {"name": "dns", "port": 5353, "protocol": "UDP"}],
            "endpoints": [{"addresses": ["10.42.0.7"], "conditions": {"ready": false}},
                          {"addresses": ["10.42.0.6"]}]
        }));
        let ports = service_ports(&svc, &[&s]);
        assert_eq!(ports.len(), 2);
        assert_eq!(ports[0].port, 80);
        assert_eq!(ports[0].endpoints.len(), 2);
        assert_eq!(ports[0].endpoints[0].ip, Ipv4Addr::new(10, 42, 0, 6));
        assert_eq!(ports[0].endpoints[0].port, 8080);
        assert!(ports[0].endpoints[0].ready);
        assert!(!ports[0].endpoints[1].ready);
        assert_eq!(ports[1].protocol, Protocol::Udp);
        assert_eq!(ports[1].endpoints[0].port, 5353);
    }

    #[test]
    fn headless_and_external_name_services_have_no_ports() {
        let headless = service(serde_json::json!({
            "metadata": {"namespace": "default", "name": "db"},
            "spec": {"clusterIP": "None", "ports": [{"port": 5432}]}
        }));
        let external = service(serde_json::json!({
            "metadata": {"namespace": "default", "name": "ext"},
            "spec": {"type": "ExternalName", "externalName": "example.com"}
        }));
        assert!(service_ports(&headless, &[]).is_empty());
        assert!(service_ports(&external, &[]).is_empty());
    }

    #[test]
    fn slices_of_other_services_are_ignored() {
        let svc = service(serde_json::json!({
            "metadata": {"namespace": "default", "name": "web"},
            "spec": {"clusterIP": "10.43.0.5", "ports": [{"port": 80}]}
        }));
        let other = slice(serde_json::json!({
            "metadata": {"namespace": "other", "name": "web-x",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "ports": [{"port": 80}],
            "endpoints": [{"addresses": ["10.42.0.9"]}]
        }));
        assert!(service_ports(&svc, &[&other])[0].endpoints.is_empty());
    }

    #[test]
    fn load_balancer_ips_and_local_external_policy() {
        let svc = service(serde_json::json!({
            "metadata": {"namespace": "default", "name": "lb"},
            "spec": {"type": "LoadBalancer", "clusterIP": "10.43.0.9",
                     "externalTrafficPolicy": "Local", "sessionAffinity": "ClientIP",
                     "ports": [{"port": 443, "nodePort": 30443}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.168.77.50"}]}}
        }));
        let port = &service_ports(&svc, &[])[0];
        assert_eq!(port.node_port, Some(30443));
        assert_eq!(
            port.load_balancer_ips,
            vec![Ipv4Addr::new(192, 168, 77, 50)]
        );
        assert!(port.external_local);
        assert_eq!(port.affinity_timeout_seconds, Some(10800));
    }
}
