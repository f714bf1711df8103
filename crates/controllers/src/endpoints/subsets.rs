//! Endpoints subsets from pod endpoints: addresses grouped by identical port lists (upstream's
//! RepackSubsets), sorted for a stable object.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort, EndpointSubset, ObjectReference};

use crate::service_endpoint::{PodEndpoint, ResolvedPort};

pub fn endpoint_subsets(endpoints: &[PodEndpoint]) -> Vec<EndpointSubset> {
    let mut by_ports: BTreeMap<Vec<ResolvedPort>, (Vec<EndpointAddress>, Vec<EndpointAddress>)> =
        BTreeMap::new();
    for endpoint in endpoints {
        let entry = by_ports.entry(endpoint.ports.clone()).or_default();
        let address = EndpointAddress {
            ip: endpoint.ip.clone(),
            node_name: endpoint.node_name.clone(),
            hostname: endpoint.hostname.clone(),
            target_ref: Some(ObjectReference {
                kind: Some("Pod".into()),
                namespace: Some(endpoint.pod_namespace.clone()),
                name: Some(endpoint.pod_name.clone()),
                uid: endpoint.pod_uid.clone(),
                ..ObjectReference::default()
            }),
        };
        if endpoint.ready {
            entry.0.push(address);
        } else {
            entry.1.push(address);
        }
    }
    by_ports
        .into_iter()
        .map(|(ports, (mut ready, mut not_ready))| {
            ready.sort_by(|a, b| a.ip.cmp(&b.ip));
            not_ready.sort_by(|a, b| a.ip.cmp(&b.ip));
            EndpointSubset {
                addresses: (!ready.is_empty()).then_some(ready),
                not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                ports: (!ports.is_empty()).then(|| {
                    ports
                        .into_iter()
                        .map(|p| EndpointPort {
                            name: p.name,
                            port: p.port,
                            protocol: Some(p.protocol),
                            app_protocol: p.app_protocol,
                        })
                        .collect()
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service_endpoint::pod_endpoint;
    use crate::service_endpoint::test_services::{pod_with_ip, service};

    #[test]
    fn ready_and_not_ready_pods_share_a_subset_per_port_set() {
        let svc = service(
            serde_json::json!([{"port": 80, "targetPort": "http"}]),
            false,
        );
        let endpoints: Vec<PodEndpoint> = [
            pod_with_ip("b", "10.0.0.2", true),
            pod_with_ip("a", "10.0.0.1", true),
            pod_with_ip("c", "10.0.0.3", false),
        ]
        .iter()
        .filter_map(|p| pod_endpoint(&svc, p, false))
        .collect();
        let subsets = endpoint_subsets(&endpoints);
        assert_eq!(subsets.len(), 1);
        let ready: Vec<&str> = subsets[0]
            .addresses
            .as_ref()
            .unwrap()
            .iter()
            .map(|a| a.ip.as_str())
            .collect();
        assert_eq!(ready, ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(subsets[0].not_ready_addresses.as_ref().unwrap().len(), 1);
        assert_eq!(subsets[0].ports.as_ref().unwrap()[0].port, 8080);
    }
}
