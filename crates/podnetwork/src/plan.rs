//! The `ip -batch` and `bridge -batch` lines that turn the observed state into the desired one
//! (pure). Removals come first, so a forwarding entry that moved is deleted before it is re-added.

use crate::state::{DesiredState, ObservedState, Route, ROUTE_PROTOCOL};
use crate::vxlan_device::VXLAN_DEVICE;

/// Commands without the program name, one per line of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub ip: Vec<String>,
    pub bridge: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.ip.is_empty() && self.bridge.is_empty()
    }
}

pub fn plan(desired: &DesiredState, observed: &ObservedState) -> Plan {
    let mut plan = Plan::default();
    for route in &observed.routes {
        let wanted = desired
            .routes
            .iter()
            .any(|r| r.is_satisfied_by(route) || r.dst.to_string() == route.dst);
        if !wanted {
            plan.ip
                .push(format!("route del {} proto {ROUTE_PROTOCOL}", route.dst));
        }
    }
    for neighbor in &observed.neighbors {
        if !desired.neighbors.iter().any(|n| n.ip == neighbor.ip) {
            plan.ip
                .push(format!("neigh del {} dev {VXLAN_DEVICE}", neighbor.ip));
        }
    }
    for entry in &observed.fdb {
        if !desired.fdb.contains(entry) {
            plan.bridge.push(format!(
                "fdb del {} dev {VXLAN_DEVICE} dst {}",
                entry.mac, entry.dst
            ));
        }
    }
    for entry in &desired.fdb {
        if !observed.fdb.contains(entry) {
            plan.bridge.push(format!(
                "fdb replace {} dev {VXLAN_DEVICE} dst {}",
                entry.mac, entry.dst
            ));
        }
    }
    for neighbor in &desired.neighbors {
        if !observed.neighbors.contains(neighbor) {
            plan.ip.push(format!(
                "neigh replace {} lladdr {} dev {VXLAN_DEVICE} nud permanent",
                neighbor.ip, neighbor.mac
            ));
        }
    }
    for route in &desired.routes {
        if !observed.routes.iter().any(|r| route.is_satisfied_by(r)) {
            plan.ip.push(route_replace(route));
        }
    }
    plan
}

fn route_replace(route: &Route) -> String {
    match &route.onlink_device {
        Some(device) => format!(
            "route replace {} via {} dev {device} onlink proto {ROUTE_PROTOCOL}",
            route.dst, route.gateway
        ),
        None => format!(
            "route replace {} via {} proto {ROUTE_PROTOCOL}",
            route.dst, route.gateway
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::state::{FdbEntry, Neighbor, ObservedRoute};
    use crate::subnet::Subnet;

    fn vxlan_route(third: u8) -> Route {
        Route {
            dst: Subnet::parse(&format!("10.42.{third}.0/24")).unwrap(),
            gateway: Ipv4Addr::new(10, 42, third, 0),
            onlink_device: Some("r8s.1".into()),
        }
    }

    fn observed_route(dst: &str, gateway: [u8; 4], device: &str) -> ObservedRoute {
        ObservedRoute {
            dst: dst.into(),
            gateway: Some(Ipv4Addr::from(gateway)),
            device: Some(device.into()),
        }
    }

    #[test]
    fn nothing_to_do_when_the_kernel_matches() {
        let desired = DesiredState {
            routes: vec![Route {
                dst: Subnet::parse("10.42.1.0/24").unwrap(),
                gateway: Ipv4Addr::new(192, 168, 77, 3),
                onlink_device: None,
            }],
            ..DesiredState::default()
        };
        let observed = ObservedState {
            routes: vec![observed_route("10.42.1.0/24", [192, 168, 77, 3], "node0")],
            ..ObservedState::default()
        };
        assert!(plan(&desired, &observed).is_empty());
    }

    #[test]
    fn host_gw_adds_missing_routes_and_removes_routes_of_gone_nodes() {
        let desired = DesiredState {
            routes: vec![Route {
                dst: Subnet::parse("10.42.1.0/24").unwrap(),
                gateway: Ipv4Addr::new(192, 168, 77, 3),
                onlink_device: None,
            }],
            ..DesiredState::default()
        };
        let observed = ObservedState {
            routes: vec![observed_route("10.42.7.0/24", [192, 168, 77, 9], "node0")],
            ..ObservedState::default()
        };
        assert_eq!(
            plan(&desired, &observed).ip,
            [
                "route del 10.42.7.0/24 proto 82",
                "route replace 10.42.1.0/24 via 192.168.77.3 proto 82"
            ]
        );
    }

    #[test]
    fn vxlan_programs_neighbor_fdb_and_onlink_route() {
        let desired = DesiredState {
            routes: vec![vxlan_route(1)],
            neighbors: vec![Neighbor {
                ip: Ipv4Addr::new(10, 42, 1, 0),
                mac: "02:00:00:00:00:0b".into(),
            }],
            fdb: vec![FdbEntry {
                mac: "02:00:00:00:00:0b".into(),
                dst: Ipv4Addr::new(192, 168, 77, 3),
            }],
        };
        let planned = plan(&desired, &ObservedState::default());
        assert_eq!(
            planned.ip,
            [
                "neigh replace 10.42.1.0 lladdr 02:00:00:00:00:0b dev r8s.1 nud permanent",
                "route replace 10.42.1.0/24 via 10.42.1.0 dev r8s.1 onlink proto 82"
            ]
        );
        assert_eq!(
            planned.bridge,
            ["fdb replace 02:00:00:00:00:0b dev r8s.1 dst 192.168.77.3"]
        );
    }

    #[test]
    fn a_node_that_moved_or_changed_mac_is_reprogrammed_and_a_removed_one_cleaned_up() {
        let desired = DesiredState {
            routes: vec![vxlan_route(1)],
            neighbors: vec![Neighbor {
                ip: Ipv4Addr::new(10, 42, 1, 0),
                mac: "02:00:00:00:00:0c".into(),
            }],
            fdb: vec![FdbEntry {
                mac: "02:00:00:00:00:0c".into(),
                dst: Ipv4Addr::new(192, 168, 77, 5),
            }],
        };
        let observed = ObservedState {
            routes: vec![
                observed_route("10.42.1.0/24", [10, 42, 1, 0], "r8s.1"),
                observed_route("10.42.2.0/24", [10, 42, 2, 0], "r8s.1"),
            ],
            neighbors: vec![
                Neighbor {
                    ip: Ipv4Addr::new(10, 42, 1, 0),
                    mac: "02:00:00:00:00:0b".into(),
                },
                Neighbor {
                    ip: Ipv4Addr::new(10, 42, 2, 0),
                    mac: "02:00:00:00:00:02".into(),
                },
            ],
            fdb: vec![
                FdbEntry {
                    mac: "02:00:00:00:00:0b".into(),
                    dst: Ipv4Addr::new(192, 168, 77, 3),
                },
                FdbEntry {
                    mac: "02:00:00:00:00:02".into(),
                    dst: Ipv4Addr::new(192, 168, 77, 4),
                },
            ],
        };
        let planned = plan(&desired, &observed);
        assert_eq!(
            planned.ip,
            [
                "route del 10.42.2.0/24 proto 82",
                "neigh del 10.42.2.0 dev r8s.1",
                "neigh replace 10.42.1.0 lladdr 02:00:00:00:00:0c dev r8s.1 nud permanent",
            ]
        );
        assert_eq!(
            planned.bridge,
            [
                "fdb del 02:00:00:00:00:0b dev r8s.1 dst 192.168.77.3",
                "fdb del 02:00:00:00:00:02 dev r8s.1 dst 192.168.77.4",
                "fdb replace 02:00:00:00:00:0c dev r8s.1 dst 192.168.77.5",
            ]
        );
    }

    #[test]
    fn a_host_gw_route_left_from_a_backend_switch_is_replaced_not_deleted() {
        let desired = DesiredState {
            routes: vec![vxlan_route(1)],
            ..DesiredState::default()
        };
        let observed = ObservedState {
            routes: vec![observed_route("10.42.1.0/24", [192, 168, 77, 3], "node0")],
            ..ObservedState::default()
        };
        assert_eq!(
            plan(&desired, &observed).ip,
            ["route replace 10.42.1.0/24 via 10.42.1.0 dev r8s.1 onlink proto 82"]
        );
    }
}
