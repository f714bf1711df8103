//! NetworkPolicy enforced in nftables on the node.
//!
//! [`run`] watches Pods, Namespaces and NetworkPolicies; after every burst of changes it
//! [`compile`]s what this node enforces for its own pods ([`NodeRules`]), [`render`]s that as one
//! nftables script and applies it, replacing the `inet r8s-netpol` table in one transaction.
//! Compilation and rendering are pure functions; the only effect is the [`nftables::Nft`].

#![forbid(unsafe_code)]

mod cidr;
mod cluster;
mod compile;
mod peers;
mod ports;
mod render;
mod rules;
mod selector;
mod sync;
mod watch;

pub use cidr::{Cidr, InvalidCidr};
pub use cluster::{ClusterState, NamedPort, PodInfo, NAMESPACE_NAME_LABEL};
pub use compile::compile;
pub use render::{render, TABLE_FAMILY, TABLE_NAME};
pub use rules::{Allow, IsolatedPod, NodeRules, Peer, PortMatch, Protocol};
pub use selector::selector_matches;
pub use sync::TableSync;
pub use watch::{run, NetworkPolicyOptions};

#[derive(Debug, thiserror::Error)]
pub enum NetpolError {
    #[error("the {0} cache stopped before it was filled")]
    CacheStopped(&'static str),
    #[error("the nft task failed: {0}")]
    NftTask(#[from] tokio::task::JoinError),
}
