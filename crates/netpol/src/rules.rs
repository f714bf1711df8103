//! What the node enforces, decided from the cluster's objects and not yet written as nftables:
//! for each local pod, whether it is isolated for ingress and egress and what each direction
//! lets through.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::cidr::Cidr;

/// Everything this node enforces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeRules {
    /// Local pods that at least one policy isolates, ordered by namespace and name.
    pub pods: Vec<IsolatedPod>,
}

/// A pod on this node that some policy selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsolatedPod {
    pub namespace: String,
    pub name: String,
    pub ips: Vec<IpAddr>,
    /// `None`: not isolated for ingress, everything comes in. `Some`: only what a rule allows.
    pub ingress: Option<Vec<Allow>>,
    /// `None`: not isolated for egress. `Some`: only what a rule allows goes out.
    pub egress: Option<Vec<Allow>>,
}

/// Traffic one rule lets through: from (ingress) or to (egress) `peer`, on `ports`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Allow {
    pub peer: Peer,
    pub ports: PortMatch,
}

/// The other end of the traffic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Peer {
    /// Any address.
    Any,
    /// These pod addresses (never empty).
    Addresses(BTreeSet<IpAddr>),
    /// A network, less the networks in `except`.
    Block { cidr: Cidr, except: Vec<Cidr> },
}

/// The destination ports traffic must use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PortMatch {
    /// Any protocol, any port.
    Any,
    /// Any port of this protocol.
    Protocol(Protocol),
    /// Ports `first..=last` of this protocol (`first == last` for a single port).
    Range {
        protocol: Protocol,
        first: u16,
        last: u16,
    },
}

pub use nftables::Protocol;
