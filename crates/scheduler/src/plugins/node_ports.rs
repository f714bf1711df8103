//! NodePorts: a pod's host ports must be free on the node.

use crate::framework::{CycleState, FilterPlugin, Plugin, PreFilterPlugin, Status};
use crate::snapshot::{NodeInfo, PodInfo, Snapshot};

pub const NAME: &str = "NodePorts";
pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

pub struct NodePorts;

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl PreFilterPlugin for NodePorts {
    fn pre_filter(&self, _state: &mut CycleState, pod: &PodInfo, _snapshot: &Snapshot) -> Status {
        if pod.host_ports.is_empty() {
            Status::skip()
        } else {
            Status::success()
        }
    }
}

impl FilterPlugin for NodePorts {
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let conflict = pod
            .host_ports
            .iter()
            .any(|wanted| node.used_ports.iter().any(|used| used.conflicts(wanted)));
        if conflict {
            Status::unschedulable(REASON)
        } else {
            Status::success()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod};
    use k8s_openapi::api::core::v1::{ContainerPort, Pod};

    fn with_port(name: &str, ip: &str, port: i32) -> Pod {
        let mut p = pod(name);
        p.spec.get_or_insert_default().containers[0].ports = Some(vec![ContainerPort {
            container_port: 80,
            host_port: Some(port),
            host_ip: Some(ip.into()),
            protocol: Some("TCP".into()),
            ..Default::default()
        }]);
        p
    }

    #[test]
    fn wildcard_and_specific_ips_conflict() {
        let state = CycleState::new();
        let n = node("a").pod(with_port("q", "127.0.0.1", 8080)).build();
        let same = PodInfo::new(with_port("p", "0.0.0.0", 8080), 0);
        let other_ip = PodInfo::new(with_port("r", "127.0.0.2", 8080), 0);
        let other_port = PodInfo::new(with_port("s", "0.0.0.0", 8081), 0);
        assert_eq!(
            NodePorts.filter(&state, &same, &n),
            Status::unschedulable(REASON)
        );
        assert!(NodePorts.filter(&state, &other_ip, &n).is_success());
        assert!(NodePorts.filter(&state, &other_port, &n).is_success());
    }
}
