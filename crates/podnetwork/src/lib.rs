//! The multi-node pod network (flannel's role): every node's podCIDR reachable from every other
//! node, with host-gw routes (nodes on one link) or a VXLAN overlay (any IP network).
//!
//! The loop (`controller`) watches Nodes; each pass (`programmer`) reads the kernel's state
//! through `ip -json`/`bridge -json` (`observed`), computes what the Nodes call for (`desired`),
//! and applies the difference (`plan`) with `ip -batch`/`bridge -batch`. Routes r8s installs carry
//! `proto 82` ([`ROUTE_PROTOCOL`]); neighbor and forwarding entries live on the VXLAN device
//! `r8s.1` that r8s owns; nothing else is touched, and whatever is ours but no longer called for
//! (a deleted node, a changed podCIDR, address or MAC) is removed. With VXLAN, each node publishes
//! its device's MAC and its address in the annotations `r8s.io/vxlan-mac` and `r8s.io/public-ip`.
//! IPv4 only.

#![forbid(unsafe_code)]

mod controller;
mod desired;
mod error;
mod node_view;
mod observed;
mod plan;
mod programmer;
mod publish;
mod state;
mod subnet;
mod tools;
mod vxlan_device;

use std::net::IpAddr;

pub use controller::{run, run_with, RESYNC_PERIOD};
pub use error::PodNetworkError;
pub use node_view::{PUBLIC_IP_ANNOTATION, VXLAN_MAC_ANNOTATION};
pub use programmer::{vxlan_pod_mtu, Programmed, Programmer};
pub use state::ROUTE_PROTOCOL;
pub use subnet::Subnet;
pub use tools::{IpRoute2, NetTools, Program, RecordingNetTools};
pub use vxlan_device::{VXLAN_DEVICE, VXLAN_OVERHEAD, VXLAN_PORT};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A route per remote pod subnet via the node's address (all nodes on one L2 link).
    HostGw,
    /// A VXLAN overlay (VNI 1, UDP 8472) between the nodes' addresses.
    Vxlan,
}

#[derive(Debug, Clone)]
pub struct PodNetworkOptions {
    pub node_name: String,
    /// The node's IPv4 address: VXLAN's outer source; its interface carries the traffic.
    pub node_ip: IpAddr,
    pub backend: Backend,
    /// Only pod CIDRs inside it are routed.
    pub cluster_cidr: String,
}

/// The MTU pods get with VXLAN on the node whose address is `node_ip` (in this process's network
/// namespace): the MTU of the interface holding it, less `VXLAN_OVERHEAD`.
pub fn pod_mtu_for_vxlan(node_ip: IpAddr) -> Result<u32, PodNetworkError> {
    match node_ip {
        IpAddr::V4(ip) => vxlan_pod_mtu(&IpRoute2::current_namespace(), ip),
        IpAddr::V6(_) => Err(PodNetworkError::NotIpv4(node_ip)),
    }
}
