//! The kernel state the pod network owns: routes to other nodes' pod subnets and, for VXLAN, the
//! neighbor and forwarding entries on the VXLAN device.

use std::net::Ipv4Addr;

use crate::subnet::Subnet;

/// Every route r8s installs carries this protocol number (`ip route ... proto 82`, `R` in ASCII;
/// unused in iproute2's `rt_protos`): routes with it are ours, to replace or remove, and no other
/// route is ever touched.
pub const ROUTE_PROTOCOL: u8 = 82;

/// A route to a remote node's pod subnet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub dst: Subnet,
    pub gateway: Ipv4Addr,
    /// VXLAN: the gateway is reached `onlink` through this device. host-gw: the kernel picks the
    /// device holding the gateway's subnet.
    pub onlink_device: Option<String>,
}

/// A permanent neighbor (ARP) entry on the VXLAN device.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Neighbor {
    pub ip: Ipv4Addr,
    pub mac: String,
}

/// A VXLAN forwarding entry: frames for `mac` go in UDP to `dst`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FdbEntry {
    pub mac: String,
    pub dst: Ipv4Addr,
}

/// What the nodes call for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredState {
    pub routes: Vec<Route>,
    pub neighbors: Vec<Neighbor>,
    pub fdb: Vec<FdbEntry>,
}

/// A route with our protocol number as `ip -json route show` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedRoute {
    /// As printed: `10.42.1.0/24`, or a bare address for a /32.
    pub dst: String,
    pub gateway: Option<Ipv4Addr>,
    pub device: Option<String>,
}

/// What the kernel holds now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedState {
    pub routes: Vec<ObservedRoute>,
    /// Permanent entries on the VXLAN device only.
    pub neighbors: Vec<Neighbor>,
    /// Entries with a destination on the VXLAN device only.
    pub fdb: Vec<FdbEntry>,
}

impl Route {
    pub fn is_satisfied_by(&self, observed: &ObservedRoute) -> bool {
        Subnet::parse(&observed.dst).or_else(|| Subnet::parse(&format!("{}/32", observed.dst)))
            == Some(self.dst)
            && observed.gateway == Some(self.gateway)
            && match &self.onlink_device {
                Some(device) => observed.device.as_ref() == Some(device),
                None => true,
            }
    }
}
