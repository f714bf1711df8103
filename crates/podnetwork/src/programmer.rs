//! One pass of the pod network: read what the kernel holds, compare with what the nodes call for,
//! apply the difference. Level-driven, so the same pass starts, resyncs and cleans up.

use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::Node;

use crate::desired::desired_state;
use crate::node_view::{node_view, NodeView};
use crate::observed::{parse_fdb, parse_links, parse_neighbors, parse_routes, Link};
use crate::plan::plan;
use crate::state::{ObservedState, ROUTE_PROTOCOL};
use crate::subnet::Subnet;
use crate::tools::{NetTools, Program};
use crate::vxlan_device::{device_commands, underlay_of, VxlanSpec, VXLAN_DEVICE, VXLAN_OVERHEAD};
use crate::{Backend, PodNetworkError};

/// What a pass left behind that others need to know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Programmed {
    /// The VXLAN device's MAC, to publish on the own Node.
    pub vxlan_mac: Option<String>,
}

pub struct Programmer<T> {
    pub tools: T,
    pub backend: Backend,
    pub node_name: String,
    pub node_ip: Ipv4Addr,
    /// Pod subnets outside it are never routed (a bad podCIDR must not capture other traffic).
    pub cluster: Option<Subnet>,
}

impl<T: NetTools> Programmer<T> {
    /// `sync_views` for the nodes that have an IPv4 pod CIDR and address.
    pub fn sync(&self, nodes: &[Node]) -> Result<Programmed, PodNetworkError> {
        let views: Vec<NodeView> = nodes.iter().filter_map(node_view).collect();
        self.sync_views(&views)
    }

    pub fn sync_views(&self, nodes: &[NodeView]) -> Result<Programmed, PodNetworkError> {
        let nodes: Vec<NodeView> = nodes
            .iter()
            .filter(|node| {
                let inside = self.cluster.is_none_or(|c| c.contains(&node.pod_subnet));
                if !inside {
                    tracing::warn!(node = %node.name, subnet = %node.pod_subnet,
                        "pod CIDR outside the cluster CIDR; not routed");
                }
                inside
            })
            .cloned()
            .collect();
        let nodes = nodes.as_slice();
        let links = self.links()?;
        let device = links.iter().find(|link| link.name == VXLAN_DEVICE);
        let mut programmed = Programmed::default();
        match self.backend {
            Backend::HostGw => {
                if device.is_some() {
                    self.tools
                        .batch(Program::Ip, &[format!("link del {VXLAN_DEVICE}")])?;
                }
            }
            Backend::Vxlan => {
                let own_address = nodes
                    .iter()
                    .find(|node| node.name == self.node_name)
                    .map(|node| node.pod_subnet.network);
                let spec = VxlanSpec::for_node(self.node_ip, &links, own_address)
                    .ok_or(PodNetworkError::NoUnderlay(self.node_ip.into()))?;
                let commands = device_commands(&spec, device);
                self.tools.batch(Program::Ip, &commands)?;
                let mac = if commands.is_empty() {
                    device.map(|link| link.mac.clone())
                } else {
                    self.links()?
                        .into_iter()
                        .find(|link| link.name == VXLAN_DEVICE)
                        .map(|link| link.mac)
                };
                programmed.vxlan_mac = mac.map(|mac| mac.to_ascii_lowercase());
            }
        }
        let observed = self.observed()?;
        let desired = desired_state(self.backend, &self.node_name, nodes);
        let steps = plan(&desired, &observed);
        if !steps.is_empty() {
            tracing::info!(ip = ?steps.ip, bridge = ?steps.bridge, "pod network changes");
        }
        // Every line runs even when one fails; the first failure is reported after both.
        let bridge = self.tools.batch(Program::Bridge, &steps.bridge);
        let ip = self.tools.batch(Program::Ip, &steps.ip);
        bridge.and(ip)?;
        Ok(programmed)
    }

    fn links(&self) -> Result<Vec<Link>, PodNetworkError> {
        parse_links(
            &self
                .tools
                .read_json(Program::Ip, &["-details", "addr", "show"])?,
        )
    }

    fn observed(&self) -> Result<ObservedState, PodNetworkError> {
        let protocol = ROUTE_PROTOCOL.to_string();
        let routes = parse_routes(
            &self
                .tools
                .read_json(Program::Ip, &["route", "show", "proto", &protocol])?,
        )?;
        if self.backend == Backend::HostGw {
            return Ok(ObservedState {
                routes,
                ..ObservedState::default()
            });
        }
        Ok(ObservedState {
            routes,
            neighbors: parse_neighbors(
                &self
                    .tools
                    .read_json(Program::Ip, &["neigh", "show", "dev", VXLAN_DEVICE])?,
            )?,
            fdb: parse_fdb(
                &self
                    .tools
                    .read_json(Program::Bridge, &["fdb", "show", "dev", VXLAN_DEVICE])?,
            )?,
        })
    }
}

/// The MTU pods get with VXLAN: the MTU of the interface holding `node_ip`, less the VXLAN headers.
pub fn vxlan_pod_mtu(tools: &impl NetTools, node_ip: Ipv4Addr) -> Result<u32, PodNetworkError> {
    let links = parse_links(&tools.read_json(Program::Ip, &["-details", "addr", "show"])?)?;
    underlay_of(node_ip, &links)
        .map(|link| link.mtu.saturating_sub(VXLAN_OVERHEAD))
        .ok_or(PodNetworkError::NoUnderlay(node_ip.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_view::tests::node;
    use crate::tools::RecordingNetTools;

    const UNDERLAY: &str = r#"[{"ifname":"node0","flags":["UP"],"mtu":1500,"address":"aa:00:00:00:00:01",
        "addr_info":[{"family":"inet","local":"192.168.77.2","prefixlen":24}]}]"#;
    const WITH_DEVICE: &str = r#"[{"ifname":"node0","flags":["UP"],"mtu":1500,"address":"aa:00:00:00:00:01",
        "addr_info":[{"family":"inet","local":"192.168.77.2","prefixlen":24}]},
        {"ifname":"r8s.1","flags":["UP"],"mtu":1450,"address":"02:AA:00:00:00:0A",
         "linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"local":"192.168.77.2","link":"node0","port":8472,"learning":false}},
         "addr_info":[{"family":"inet","local":"10.42.0.0","prefixlen":32}]}]"#;

    fn programmer(backend: Backend) -> Programmer<RecordingNetTools> {
        Programmer {
            tools: RecordingNetTools::default(),
            backend,
            node_name: "a".into(),
            node_ip: Ipv4Addr::new(192, 168, 77, 2),
            cluster: Subnet::parse("10.42.0.0/16"),
        }
    }

    fn cluster() -> Vec<Node> {
        vec![
            node(
                "a",
                "10.42.0.0/24",
                "192.168.77.2",
                Some("02:aa:00:00:00:0a"),
            ),
            node(
                "b",
                "10.42.1.0/24",
                "192.168.77.3",
                Some("02:bb:00:00:00:0b"),
            ),
            node("pending", "", "192.168.77.4", None),
            node(
                "outside",
                "10.99.0.0/24",
                "192.168.77.5",
                Some("02:cc:00:00:00:0c"),
            ),
        ]
    }

    #[test]
    fn vxlan_pass_reports_the_mac_and_programs_the_other_node() {
        let p = programmer(Backend::Vxlan);
        p.tools
            .answer(Program::Ip, &["-details", "addr", "show"], WITH_DEVICE);
        let programmed = p.sync(&cluster()).unwrap();
        assert_eq!(programmed.vxlan_mac.as_deref(), Some("02:aa:00:00:00:0a"));
        assert_eq!(
            p.tools.lines(),
            [
                "bridge fdb replace 02:bb:00:00:00:0b dev r8s.1 dst 192.168.77.3",
                "ip neigh replace 10.42.1.0 lladdr 02:bb:00:00:00:0b dev r8s.1 nud permanent",
                "ip route replace 10.42.1.0/24 via 10.42.1.0 dev r8s.1 onlink proto 82",
            ]
        );
    }

    #[test]
    fn vxlan_pass_creates_the_device_first() {
        let p = programmer(Backend::Vxlan);
        p.tools
            .answer(Program::Ip, &["-details", "addr", "show"], UNDERLAY);
        p.sync(&cluster()).unwrap();
        let lines = p.tools.lines();
        assert_eq!(
            lines[..3],
            [
                "ip link add r8s.1 type vxlan id 1 local 192.168.77.2 dev node0 dstport 8472 nolearning",
                "ip link set r8s.1 mtu 1450 up",
                "ip addr add 10.42.0.0/32 dev r8s.1",
            ]
        );
    }

    #[test]
    fn host_gw_pass_removes_a_leftover_vxlan_device_and_stale_routes() {
        let p = programmer(Backend::HostGw);
        p.tools
            .answer(Program::Ip, &["-details", "addr", "show"], WITH_DEVICE);
        p.tools.answer(
            Program::Ip,
            &["route", "show", "proto", "82"],
            r#"[{"dst":"10.42.9.0/24","gateway":"192.168.77.9","dev":"node0"}]"#,
        );
        let programmed = p.sync(&cluster()).unwrap();
        assert_eq!(programmed.vxlan_mac, None);
        assert_eq!(
            p.tools.lines(),
            [
                "ip link del r8s.1",
                "ip route del 10.42.9.0/24 proto 82",
                "ip route replace 10.42.1.0/24 via 192.168.77.3 proto 82",
            ]
        );
    }

    #[test]
    fn pod_mtu_is_the_underlay_mtu_less_vxlan_headers() {
        let tools = RecordingNetTools::default();
        tools.answer(Program::Ip, &["-details", "addr", "show"], UNDERLAY);
        assert_eq!(
            vxlan_pod_mtu(&tools, Ipv4Addr::new(192, 168, 77, 2)).unwrap(),
            1450
        );
        assert!(vxlan_pod_mtu(&tools, Ipv4Addr::new(10, 0, 0, 1)).is_err());
    }
}
