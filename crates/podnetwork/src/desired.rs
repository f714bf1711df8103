//! The routes, neighbors and forwarding entries the other nodes call for (pure).

use std::net::Ipv4Addr;

use crate::node_view::NodeView;
use crate::state::{DesiredState, FdbEntry, Neighbor, Route};
use crate::vxlan_device::VXLAN_DEVICE;
use crate::Backend;

/// For every node but `own_name`: host-gw routes its pod subnet via its address; VXLAN (once the
/// node published its device's MAC) routes it via the subnet's network address `onlink` on the
/// VXLAN device, with a permanent neighbor entry for that address and a forwarding entry sending
/// the MAC to the node's address (flannel's layout).
pub fn desired_state(backend: Backend, own_name: &str, nodes: &[NodeView]) -> DesiredState {
    let mut state = DesiredState::default();
    let mut remote: Vec<&NodeView> = nodes.iter().filter(|n| n.name != own_name).collect();
    remote.sort();
    for node in remote {
        let subnet = node.pod_subnet;
        if state.routes.iter().any(|route| route.dst == subnet) {
            tracing::warn!(node = %node.name, %subnet, "pod subnet claimed by two nodes; skipped");
            continue;
        }
        match backend {
            Backend::HostGw => state.routes.push(Route {
                dst: subnet,
                gateway: node.node_ip,
                onlink_device: None,
            }),
            Backend::Vxlan => {
                let Some(mac) = &node.vxlan_mac else { continue };
                let gateway: Ipv4Addr = subnet.network;
                state.routes.push(Route {
                    dst: subnet,
                    gateway,
                    onlink_device: Some(VXLAN_DEVICE.to_owned()),
                });
                state.neighbors.push(Neighbor {
                    ip: gateway,
                    mac: mac.clone(),
                });
                state.fdb.push(FdbEntry {
                    mac: mac.clone(),
                    dst: node.node_ip,
                });
            }
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subnet::Subnet;

    fn view(name: &str, cidr: &str, ip: [u8; 4], mac: Option<&str>) -> NodeView {
        NodeView {
            name: name.into(),
            pod_subnet: Subnet::parse(cidr).unwrap(),
            node_ip: Ipv4Addr::from(ip),
            vxlan_mac: mac.map(str::to_owned),
        }
    }

    fn nodes() -> Vec<NodeView> {
        vec![
            view(
                "a",
                "10.42.0.0/24",
                [192, 168, 77, 2],
                Some("02:00:00:00:00:0a"),
            ),
            view("c", "10.42.2.0/24", [192, 168, 77, 4], None),
            view(
                "b",
                "10.42.1.0/24",
                [192, 168, 77, 3],
                Some("02:00:00:00:00:0b"),
            ),
        ]
    }

    #[test]
    fn host_gw_routes_every_other_node_via_its_address() {
        let state = desired_state(Backend::HostGw, "a", &nodes());
        let routes: Vec<String> = state
            .routes
            .iter()
            .map(|r| format!("{} via {}", r.dst, r.gateway))
            .collect();
        assert_eq!(
            routes,
            [
                "10.42.1.0/24 via 192.168.77.3",
                "10.42.2.0/24 via 192.168.77.4"
            ]
        );
        assert!(state.routes.iter().all(|r| r.onlink_device.is_none()));
        assert!(state.neighbors.is_empty() && state.fdb.is_empty());
    }

    #[test]
    fn vxlan_needs_the_remote_mac_and_routes_via_the_subnet_address_onlink() {
        let state = desired_state(Backend::Vxlan, "a", &nodes());
        assert_eq!(
            state.routes,
            [Route {
                dst: Subnet::parse("10.42.1.0/24").unwrap(),
                gateway: Ipv4Addr::new(10, 42, 1, 0),
                onlink_device: Some("r8s.1".into()),
            }]
        );
        assert_eq!(
            state.neighbors,
            [Neighbor {
                ip: Ipv4Addr::new(10, 42, 1, 0),
                mac: "02:00:00:00:00:0b".into()
            }]
        );
        assert_eq!(
            state.fdb,
            [FdbEntry {
                mac: "02:00:00:00:00:0b".into(),
                dst: Ipv4Addr::new(192, 168, 77, 3)
            }]
        );
    }

    #[test]
    fn a_subnet_claimed_twice_is_routed_once() {
        let mut list = nodes();
        list.push(view("d", "10.42.1.0/24", [192, 168, 77, 9], None));
        let state = desired_state(Backend::HostGw, "a", &list);
        assert_eq!(state.routes.len(), 2);
        assert_eq!(state.routes[0].gateway, Ipv4Addr::new(192, 168, 77, 3));
    }
}
