//! What the pod network reads from a Node: its pod subnet, its address and its VXLAN MAC.

use std::net::{IpAddr, Ipv4Addr};

use k8s_openapi::api::core::v1::Node;

use crate::subnet::Subnet;

/// The MAC address of the node's VXLAN device (flannel: `flannel.alpha.coreos.com/backend-data`).
pub const VXLAN_MAC_ANNOTATION: &str = "r8s.io/vxlan-mac";
/// The address other nodes send the node's VXLAN packets to (flannel: `.../public-ip`).
pub const PUBLIC_IP_ANNOTATION: &str = "r8s.io/public-ip";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NodeView {
    pub name: String,
    pub pod_subnet: Subnet,
    /// `r8s.io/public-ip` when set, else the first IPv4 InternalIP.
    pub node_ip: Ipv4Addr,
    pub vxlan_mac: Option<String>,
}

/// `None` for a node that has no IPv4 pod CIDR or no IPv4 address yet.
pub fn node_view(node: &Node) -> Option<NodeView> {
    let name = node.metadata.name.clone()?;
    let spec = node.spec.as_ref()?;
    let pod_subnet = spec
        .pod_cidrs
        .iter()
        .flatten()
        .chain(spec.pod_cidr.iter())
        .find_map(|cidr| Subnet::parse(cidr))?;
    let annotations = node.metadata.annotations.as_ref();
    let annotation = |key: &str| annotations.and_then(|a| a.get(key)).map(String::as_str);
    let public_ip = annotation(PUBLIC_IP_ANNOTATION).and_then(|ip| ip.parse().ok());
    let node_ip = public_ip.or_else(|| internal_ipv4(node))?;
    let vxlan_mac = annotation(VXLAN_MAC_ANNOTATION)
        .filter(|mac| is_mac(mac))
        .map(str::to_ascii_lowercase);
    Some(NodeView {
        name,
        pod_subnet,
        node_ip,
        vxlan_mac,
    })
}

fn internal_ipv4(node: &Node) -> Option<Ipv4Addr> {
    node.status
        .as_ref()?
        .addresses
        .iter()
        .flatten()
        .filter(|address| address.type_ == "InternalIP")
        .find_map(|address| match address.address.parse() {
            Ok(IpAddr::V4(ip)) => Some(ip),
            _ => None,
        })
}

/// Six colon-separated hex octets: the only shape that goes into an `ip`/`bridge` command.
pub fn is_mac(text: &str) -> bool {
    let octets: Vec<&str> = text.split(':').collect();
    octets.len() == 6
        && octets
            .iter()
            .all(|octet| octet.len() == 2 && octet.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeAddress, NodeSpec, NodeStatus};
    use std::collections::BTreeMap;

    pub(crate) fn node(name: &str, pod_cidr: &str, ip: &str, mac: Option<&str>) -> Node {
        let mut node = Node::default();
        node.metadata.name = Some(name.into());
        if let Some(mac) = mac {
            node.metadata.annotations = Some(BTreeMap::from([(
                VXLAN_MAC_ANNOTATION.to_owned(),
                mac.to_owned(),
            )]));
        }
        node.spec = Some(NodeSpec {
            pod_cidr: Some(pod_cidr.into()).filter(|c: &String| !c.is_empty()),
            ..NodeSpec::default()
        });
        node.status = Some(NodeStatus {
            addresses: Some(vec![
                NodeAddress {
                    type_: "Hostname".into(),
                    address: name.into(),
                },
                NodeAddress {
                    type_: "InternalIP".into(),
                    address: ip.into(),
                },
            ]),
            ..NodeStatus::default()
        });
        node
    }

    #[test]
    fn reads_pod_subnet_internal_ip_and_mac() {
        let view = node_view(&node(
            "b",
            "10.42.1.0/24",
            "192.168.77.3",
            Some("AA:bb:cc:dd:ee:ff"),
        ))
        .unwrap();
        assert_eq!(view.name, "b");
        assert_eq!(view.pod_subnet.to_string(), "10.42.1.0/24");
        assert_eq!(view.node_ip, Ipv4Addr::new(192, 168, 77, 3));
        assert_eq!(view.vxlan_mac.as_deref(), Some("aa:bb:cc:dd:ee:ff"));
    }

    #[test]
    fn public_ip_annotation_wins_and_bad_macs_are_ignored() {
        let mut n = node("b", "10.42.1.0/24", "192.168.77.3", Some("not-a-mac"));
        n.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(PUBLIC_IP_ANNOTATION.into(), "10.0.0.9".into());
        let view = node_view(&n).unwrap();
        assert_eq!(view.node_ip, Ipv4Addr::new(10, 0, 0, 9));
        assert_eq!(view.vxlan_mac, None);
    }

    #[test]
    fn nodes_without_pod_cidr_or_ipv4_address_are_skipped() {
        assert_eq!(node_view(&node("b", "", "192.168.77.3", None)), None);
        assert_eq!(node_view(&node("b", "10.42.1.0/24", "fd00::3", None)), None);
        assert_eq!(
            node_view(&node("b", "fd00:1::/64", "192.168.77.3", None)),
            None
        );
    }
}
