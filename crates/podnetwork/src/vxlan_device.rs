//! The node's VXLAN device, laid out as flannel's `flannel.1` (pure).

use std::net::Ipv4Addr;

use crate::observed::Link;

/// The device's name (at most 15 bytes, the kernel's limit).
pub const VXLAN_DEVICE: &str = "r8s.1";
pub const VNI: u64 = 1;
/// The Linux kernel's (and flannel's) VXLAN port, not IANA's 4789.
pub const VXLAN_PORT: u64 = 8472;
/// Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers.
pub const VXLAN_OVERHEAD: u32 = 50;

/// How the device must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VxlanSpec {
    /// The node's address: the outer source, and the interface holding it carries the packets.
    pub local: Ipv4Addr,
    pub underlay: String,
    pub mtu: u32,
    /// The node's pod subnet's network address, as a /32 (none before the node has a pod CIDR).
    pub address: Option<Ipv4Addr>,
}

impl VxlanSpec {
    /// The spec for the node address `local`, found among `links`.
    pub fn for_node(
        local: Ipv4Addr,
        links: &[Link],
        address: Option<Ipv4Addr>,
    ) -> Option<VxlanSpec> {
        let underlay = underlay_of(local, links)?;
        Some(VxlanSpec {
            local,
            underlay: underlay.name.clone(),
            mtu: underlay.mtu.saturating_sub(VXLAN_OVERHEAD),
            address,
        })
    }
}

/// The interface holding `ip`.
pub fn underlay_of(ip: Ipv4Addr, links: &[Link]) -> Option<&Link> {
    links
        .iter()
        .find(|link| link.ipv4.iter().any(|(address, _)| *address == ip))
}

/// The `ip -batch` lines that make `current` (the device as it is, if any) into `spec`. A device
/// with other VXLAN parameters is deleted and created anew, as flannel does.
pub fn device_commands(spec: &VxlanSpec, current: Option<&Link>) -> Vec<String> {
    let mut commands = Vec::new();
    let compatible = current.filter(|link| {
        link.vxlan.as_ref().is_some_and(|vxlan| {
            vxlan.vni == Some(VNI)
                && vxlan.local == Some(spec.local)
                && vxlan.underlay.as_deref() == Some(spec.underlay.as_str())
                && vxlan.port == Some(VXLAN_PORT)
                && vxlan.learning != Some(true)
        })
    });
    if current.is_some() && compatible.is_none() {
        commands.push(format!("link del {VXLAN_DEVICE}"));
    }
    if compatible.is_none() {
        commands.push(format!(
            "link add {VXLAN_DEVICE} type vxlan id {VNI} local {} dev {} dstport {VXLAN_PORT} \
             nolearning",
            spec.local, spec.underlay
        ));
    }
    if compatible.is_none_or(|link| link.mtu != spec.mtu || !link.up) {
        commands.push(format!("link set {VXLAN_DEVICE} mtu {} up", spec.mtu));
    }
    let addresses = compatible.map(|link| link.ipv4.as_slice()).unwrap_or(&[]);
    for (address, prefix_len) in addresses {
        if Some(*address) != spec.address || *prefix_len != 32 {
            commands.push(format!(
                "addr del {address}/{prefix_len} dev {VXLAN_DEVICE}"
            ));
        }
    }
    if let Some(address) = spec.address {
        if !addresses.contains(&(address, 32)) {
            commands.push(format!("addr add {address}/32 dev {VXLAN_DEVICE}"));
        }
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observed::VxlanInfo;

    fn spec() -> VxlanSpec {
        VxlanSpec {
            local: Ipv4Addr::new(192, 168, 77, 2),
            underlay: "node0".into(),
            mtu: 1450,
            address: Some(Ipv4Addr::new(10, 42, 0, 0)),
        }
    }

    fn existing() -> Link {
        Link {
            name: VXLAN_DEVICE.into(),
            mtu: 1450,
            mac: "02:00:00:00:00:0a".into(),
            up: true,
            kind: Some("vxlan".into()),
            vxlan: Some(VxlanInfo {
                vni: Some(1),
                local: Some(Ipv4Addr::new(192, 168, 77, 2)),
                underlay: Some("node0".into()),
                port: Some(8472),
                learning: Some(false),
            }),
            ipv4: vec![(Ipv4Addr::new(10, 42, 0, 0), 32)],
        }
    }

    #[test]
    fn a_missing_device_is_created_addressed_and_brought_up() {
        assert_eq!(
            device_commands(&spec(), None),
            [
                "link add r8s.1 type vxlan id 1 local 192.168.77.2 dev node0 dstport 8472 nolearning",
                "link set r8s.1 mtu 1450 up",
                "addr add 10.42.0.0/32 dev r8s.1",
            ]
        );
    }

    #[test]
    fn a_matching_device_is_left_alone() {
        assert!(device_commands(&spec(), Some(&existing())).is_empty());
    }

    #[test]
    fn a_device_with_another_local_address_is_recreated() {
        let mut other = existing();
        if let Some(vxlan) = other.vxlan.as_mut() {
            vxlan.local = Some(Ipv4Addr::new(192, 168, 77, 9));
        }
        let commands = device_commands(&spec(), Some(&other));
        assert_eq!(commands[0], "link del r8s.1");
        assert!(commands[1].starts_with("link add r8s.1 type vxlan"));
    }

    #[test]
    fn mtu_and_a_changed_pod_subnet_are_fixed_in_place() {
        let mut other = existing();
        other.mtu = 1500;
        other.ipv4 = vec![(Ipv4Addr::new(10, 42, 5, 0), 32)];
        assert_eq!(
            device_commands(&spec(), Some(&other)),
            [
                "link set r8s.1 mtu 1450 up",
                "addr del 10.42.5.0/32 dev r8s.1",
                "addr add 10.42.0.0/32 dev r8s.1",
            ]
        );
    }

    #[test]
    fn the_spec_takes_the_underlay_holding_the_node_address() {
        let links = vec![
            existing(),
            Link {
                name: "node0".into(),
                mtu: 9000,
                ipv4: vec![(Ipv4Addr::new(192, 168, 77, 2), 24)],
                ..Link::default()
            },
        ];
        let found = VxlanSpec::for_node(Ipv4Addr::new(192, 168, 77, 2), &links, None).unwrap();
        assert_eq!(found.underlay, "node0");
        assert_eq!(found.mtu, 8950);
        assert_eq!(
            VxlanSpec::for_node(Ipv4Addr::new(10, 9, 9, 9), &links, None),
            None
        );
    }
}
