//! The EndpointSlices mirroring an Endpoints object: one per (port set, address type), ready
//! addresses as ready endpoints and not-ready ones as not ready, as upstream's mirroring
//! reconciler.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort as SubsetPort, Endpoints};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort};

/// Upstream's default `--mirroring-max-endpoints-per-subset`: addresses mirrored per subset,
/// and endpoints per slice.
pub const MAX_ENDPOINTS_PER_SUBSET: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredSlice {
    pub address_type: &'static str,
    pub ports: Vec<EndpointPort>,
    pub endpoints: Vec<Endpoint>,
}

/// "IPv4" or "IPv6" for an address; None when it is not an IP.
pub fn address_type(ip: &str) -> Option<&'static str> {
    match ip.parse::<IpAddr>().ok()? {
        IpAddr::V4(_) => Some("IPv4"),
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => Some("IPv4"),
        IpAddr::V6(_) => Some("IPv6"),
    }
}

type PortKey = Vec<(String, i32, String, Option<String>)>;

pub fn desired_slices(endpoints: &Endpoints) -> Vec<DesiredSlice> {
    let mut groups: BTreeMap<(PortKey, &'static str), Vec<Endpoint>> = BTreeMap::new();
    for subset in endpoints.subsets.iter().flatten() {
        let ports = port_key(subset.ports.as_deref().unwrap_or_default());
        let ready = subset.addresses.iter().flatten().map(|a| (a, true));
        let not_ready = subset
            .not_ready_addresses
            .iter()
            .flatten()
            .map(|a| (a, false));
        let mut added = 0;
        for (address, is_ready) in ready.chain(not_ready) {
            if added >= MAX_ENDPOINTS_PER_SUBSET {
                break;
            }
            let Some(kind) = address_type(&address.ip) else {
                continue;
            };
            let group = groups.entry((ports.clone(), kind)).or_default();
            let endpoint = mirrored_endpoint(address, is_ready);
            if !group.contains(&endpoint) {
                group.push(endpoint);
            }
            added += 1;
        }
    }
    let mut slices = Vec::new();
    for ((ports, address_type), mut endpoints) in groups {
        endpoints.sort_by(|a, b| a.addresses.cmp(&b.addresses));
        let ports: Vec<EndpointPort> = ports
            .into_iter()
            .map(|(name, port, protocol, app_protocol)| EndpointPort {
                name: Some(name),
                port: Some(port),
                protocol: Some(protocol),
                app_protocol,
            })
            .collect();
        for chunk in endpoints.chunks(MAX_ENDPOINTS_PER_SUBSET) {
            slices.push(DesiredSlice {
                address_type,
                ports: ports.clone(),
                endpoints: chunk.to_vec(),
            });
        }
    }
    slices
}

fn port_key(ports: &[SubsetPort]) -> PortKey {
    let mut key: PortKey = ports
        .iter()
        .map(|p| {
            (
                p.name.clone().unwrap_or_default(),
                p.port,
                p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                p.app_protocol.clone(),
            )
        })
        .collect();
    key.sort();
    key.dedup();
    key
}

fn mirrored_endpoint(address: &EndpointAddress, ready: bool) -> Endpoint {
    Endpoint {
        addresses: vec![address.ip.clone()],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            ..EndpointConditions::default()
        }),
        hostname: address.hostname.clone().filter(|h| !h.is_empty()),
        node_name: address.node_name.clone().filter(|n| !n.is_empty()),
        target_ref: address.target_ref.clone(),
        ..Endpoint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (address type, ports, [(address, ready)]) of one slice.
    type Summary = (&'static str, Vec<i32>, Vec<(String, bool)>);

    fn endpoints(subsets: serde_json::Value) -> Endpoints {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "ext", "namespace": "default"},
            "subsets": subsets
        }))
        .unwrap()
    }

    #[test]
    fn address_types_from_ips() {
        assert_eq!(address_type("10.0.0.1"), Some("IPv4"));
        assert_eq!(address_type("fd00::1"), Some("IPv6"));
        assert_eq!(address_type("::ffff:10.0.0.1"), Some("IPv4"));
        assert_eq!(address_type("example.com"), None);
    }

    #[test]
    fn one_slice_per_port_set_and_address_type() {
        let e = endpoints(serde_json::json!([
            {"addresses": [{"ip": "10.0.0.2", "hostname": "b"}, {"ip": "fd00::1"}],
             "notReadyAddresses": [{"ip": "10.0.0.1", "nodeName": "n1"}, {"ip": "bogus"}],
             "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
            {"addresses": [{"ip": "10.0.0.3"}],
             "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
            {"addresses": [{"ip": "10.0.0.9"}],
             "ports": [{"port": 53, "protocol": "UDP"}]}
        ]));
        let slices = desired_slices(&e);
        let summary: Vec<Summary> = slices
            .iter()
            .map(|s| {
                (
                    s.address_type,
                    s.ports.iter().filter_map(|p| p.port).collect(),
                    s.endpoints
                        .iter()
                        .map(|e| {
                            let ready = e.conditions.as_ref().and_then(|c| c.ready);
                            (e.addresses[0].clone(), ready == Some(true))
                        })
                        .collect(),
                )
            })
            .collect();
        let owned = |list: &[(&str, bool)]| -> Vec<(String, bool)> {
            list.iter().map(|(a, r)| (a.to_string(), *r)).collect()
        };
        assert_eq!(
            summary,
            [
                ("IPv4", vec![53], owned(&[("10.0.0.9", true)])),
                (
                    "IPv4",
                    vec![80],
                    owned(&[("10.0.0.1", false), ("10.0.0.2", true), ("10.0.0.3", true)])
                ),
                ("IPv6", vec![80], owned(&[("fd00::1", true)])),
            ]
        );
        let http = &slices[1];
        assert_eq!(http.ports[0].name.as_deref(), Some("http"));
        assert_eq!(http.endpoints[0].node_name.as_deref(), Some("n1"));
        assert_eq!(http.endpoints[1].hostname.as_deref(), Some("b"));
        assert_eq!(slices[0].ports[0].name.as_deref(), Some(""));
    }

    #[test]
    fn caps_addresses_per_subset() {
        let addresses: Vec<serde_json::Value> = (0..1100)
            .map(|i| serde_json::json!({"ip": format!("10.1.{}.{}", i / 256, i % 256)}))
            .collect();
        let e = endpoints(serde_json::json!([{"addresses": addresses, "ports": [{"port": 80}]}]));
        let slices = desired_slices(&e);
        assert_eq!(slices.len(), 1);
        assert_eq!(slices[0].endpoints.len(), MAX_ENDPOINTS_PER_SUBSET);
    }
}
