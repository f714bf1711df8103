//! The EndpointSlices a Service should have: one per distinct port set, endpoints sorted, with
//! ready / serving / terminating conditions.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort};

use crate::service_endpoint::{PodEndpoint, ResolvedPort};

/// Upstream's default maxEndpointsPerSlice.
const MAX_ENDPOINTS_PER_SLICE: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredSlice {
    pub ports: Vec<EndpointPort>,
    pub endpoints: Vec<Endpoint>,
}

pub fn desired_slices(pod_endpoints: &[PodEndpoint]) -> Vec<DesiredSlice> {
    let mut by_ports: BTreeMap<Vec<ResolvedPort>, Vec<&PodEndpoint>> = BTreeMap::new();
    for endpoint in pod_endpoints {
        by_ports
            .entry(endpoint.ports.clone())
            .or_default()
            .push(endpoint);
    }
    let mut slices = Vec::new();
    for (ports, mut endpoints) in by_ports {
        endpoints.sort_by(|a, b| a.ip.cmp(&b.ip));
        let ports: Vec<EndpointPort> = ports
            .into_iter()
            .map(|p| EndpointPort {
                name: Some(p.name.unwrap_or_default()),
                port: Some(p.port),
                protocol: Some(p.protocol),
                app_protocol: p.app_protocol,
            })
            .collect();
        for chunk in endpoints.chunks(MAX_ENDPOINTS_PER_SLICE) {
            slices.push(DesiredSlice {
                ports: ports.clone(),
                endpoints: chunk.iter().map(|e| slice_endpoint(e)).collect(),
            });
        }
    }
    slices
}

fn slice_endpoint(endpoint: &PodEndpoint) -> Endpoint {
    Endpoint {
        addresses: vec![endpoint.ip.clone()],
        conditions: Some(EndpointConditions {
            ready: Some(endpoint.ready),
            serving: Some(endpoint.serving),
            terminating: Some(endpoint.terminating),
        }),
        node_name: endpoint.node_name.clone(),
        hostname: endpoint.hostname.clone(),
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            namespace: Some(endpoint.pod_namespace.clone()),
            name: Some(endpoint.pod_name.clone()),
            uid: endpoint.pod_uid.clone(),
            ..ObjectReference::default()
        }),
        ..Endpoint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service_endpoint::pod_endpoint;
    use crate::service_endpoint::test_services::{pod_with_ip, service};

    #[test]
    fn one_slice_per_port_set_with_conditions() {
        let svc = service(
            serde_json::json!([{"name": "web", "port": 80, "targetPort": "http"}]),
            false,
        );
        let mut terminating = pod_with_ip("t", "10.0.0.9", true);
        terminating.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2024-01-01T00:00:00Z".parse().unwrap(),
            ));
        let endpoints: Vec<PodEndpoint> = [
            pod_with_ip("a", "10.0.0.1", true),
            pod_with_ip("b", "10.0.0.2", false),
            terminating,
        ]
        .iter()
        .filter_map(|p| pod_endpoint(&svc, p, true))
        .collect();
        let slices = desired_slices(&endpoints);
        assert_eq!(slices.len(), 1);
        assert_eq!(slices[0].ports[0].port, Some(8080));
        assert_eq!(slices[0].ports[0].name.as_deref(), Some("web"));
        let conditions: Vec<(bool, bool, bool)> = slices[0]
            .endpoints
            .iter()
            .map(|e| {
                let c = e.conditions.clone().unwrap();
                (c.ready.unwrap(), c.serving.unwrap(), c.terminating.unwrap())
            })
            .collect();
        assert_eq!(
            conditions,
            [
                (true, true, false),
                (false, false, false),
                (false, true, true)
            ]
        );
    }
}
