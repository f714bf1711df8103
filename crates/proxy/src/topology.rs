//! Which endpoints serve which traffic (upstream's `CategorizeEndpoints`): ready endpoints, or
//! serving-and-terminating ones when none is ready; cluster-wide, and on this node only.

use crate::model::{Endpoint, ServicePort};

#[derive(Debug, Default)]
pub struct EndpointSets<'a> {
    /// Endpoints for `Cluster` traffic policy, anywhere in the cluster.
    pub cluster: Vec<&'a Endpoint>,
    /// Endpoints on this node, for `Local` traffic policy.
    pub local: Vec<&'a Endpoint>,
}

impl<'a> EndpointSets<'a> {
    pub fn of(port: &'a ServicePort, node_name: &str) -> Self {
        let all: Vec<&Endpoint> = port.endpoints.iter().collect();
        let local: Vec<&Endpoint> = all
            .iter()
            .copied()
            .filter(|e| e.node_name.as_deref() == Some(node_name))
            .collect();
        Self {
            cluster: usable(&all),
            local: usable(&local),
        }
    }

    /// Where ClusterIP traffic goes.
    pub fn internal(&self, port: &ServicePort) -> &[&'a Endpoint] {
        if port.internal_local {
            &self.local
        } else {
            &self.cluster
        }
    }

    /// Where NodePort, externalIP and load-balancer traffic goes.
    pub fn external(&self, port: &ServicePort) -> &[&'a Endpoint] {
        if port.external_local {
            &self.local
        } else {
            &self.cluster
        }
    }
}

fn usable<'a>(endpoints: &[&'a Endpoint]) -> Vec<&'a Endpoint> {
    let ready: Vec<&Endpoint> = endpoints.iter().copied().filter(|e| e.ready).collect();
    if !ready.is_empty() {
        return ready;
    }
    endpoints
        .iter()
        .copied()
        .filter(|e| e.serving && e.terminating)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::model::{Protocol, ServiceKey};

    fn endpoint(last: u8, ready: bool, terminating: bool, node: &str) -> Endpoint {
        Endpoint {
            ip: Ipv4Addr::new(10, 42, 0, last),
            port: 80,
            ready,
            serving: true,
            terminating,
            node_name: Some(node.to_string()),
        }
    }

    fn port(endpoints: Vec<Endpoint>) -> ServicePort {
        ServicePort {
            service: ServiceKey::new("default", "web"),
            protocol: Protocol::Tcp,
            port: 80,
            cluster_ip: Ipv4Addr::new(10, 43, 0, 5),
            node_port: None,
            external_ips: vec![],
            load_balancer_ips: vec![],
            affinity_timeout_seconds: None,
            internal_local: false,
            external_local: false,
            endpoints,
        }
    }

    #[test]
    fn terminating_endpoints_serve_only_when_none_is_ready() {
        let p = port(vec![
            endpoint(1, true, false, "a"),
            endpoint(2, false, true, "a"),
        ]);
        let sets = EndpointSets::of(&p, "a");
        assert_eq!(sets.cluster.len(), 1);
        let p = port(vec![
            endpoint(1, false, false, "a"),
            endpoint(2, false, true, "a"),
        ]);
        let sets = EndpointSets::of(&p, "a");
        assert_eq!(sets.cluster.len(), 1);
        assert_eq!(sets.cluster[0].ip, Ipv4Addr::new(10, 42, 0, 2));
    }

    #[test]
    fn local_endpoints_are_those_on_this_node() {
        let mut p = port(vec![
            endpoint(1, true, false, "a"),
            endpoint(2, true, false, "b"),
        ]);
        p.internal_local = true;
        let sets = EndpointSets::of(&p, "b");
        assert_eq!(sets.internal(&p).len(), 1);
        assert_eq!(sets.external(&p).len(), 2);
    }
}
