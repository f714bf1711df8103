//! One simulated node: its fixed identity, whether it is still alive, and its pod addresses.

use std::net::Ipv4Addr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio_util::sync::CancellationToken;

use crate::ip_pool::{IpPool, Ipv4Cidr};

pub const DEFAULT_PREFIX: &str = "sim-node";

#[derive(Debug)]
pub struct SimNode {
    pub name: String,
    pub index: usize,
    /// Numbers the node's fake addresses: the index shifted by a block chosen by the prefix.
    ordinal: usize,
    /// The node's InternalIP: a string in the API, never connected to.
    pub internal_ip: Ipv4Addr,
    /// Cancelled when the node "fails": its heartbeats stop and its pods are left alone.
    stopped: CancellationToken,
    uid: Mutex<Option<String>>,
    pool: Mutex<IpPool>,
}

impl SimNode {
    pub fn new(prefix: &str, index: usize) -> SimNode {
        let ordinal = prefix_offset(prefix).wrapping_add(index);
        SimNode {
            name: format!("{prefix}-{index}"),
            index,
            ordinal,
            internal_ip: internal_ip_for(ordinal),
            stopped: CancellationToken::new(),
            uid: Mutex::new(None),
            pool: Mutex::new(IpPool::new(Ipv4Cidr::fallback_for_node(ordinal))),
        }
    }

    pub fn is_alive(&self) -> bool {
        !self.stopped.is_cancelled()
    }

    /// Stops heartbeats and pod handling for good. True when the node was alive.
    pub fn fail(&self) -> bool {
        let was_alive = self.is_alive();
        self.stopped.cancel();
        was_alive
    }

    pub fn uid(&self) -> Option<String> {
        lock(&self.uid).clone()
    }

    pub fn set_uid(&self, uid: Option<String>) {
        *lock(&self.uid) = uid;
    }

    /// The pod address pool for the node's pod CIDR: spec.podCIDR when allocated (IPv4), else the
    /// node's fallback range. A changed CIDR starts a fresh pool.
    pub fn pool(&self, pod_cidr: Option<&str>) -> MutexGuard<'_, IpPool> {
        let cidr = pod_cidr
            .and_then(|text| text.parse::<Ipv4Cidr>().ok())
            .unwrap_or_else(|| Ipv4Cidr::fallback_for_node(self.ordinal));
        let mut pool = lock(&self.pool);
        if pool.cidr() != cidr {
            *pool = IpPool::new(cidr);
        }
        pool
    }

    /// Releases a pod's address whatever the CIDR of the current pool.
    pub fn release_pod_ip(&self, uid: &str) {
        lock(&self.pool).release(uid);
    }
}

/// Where a prefix's nodes start numbering their fake addresses: 0 for the default prefix (node i
/// gets 10.244.i.0/24), else a block picked by hashing the prefix (FNV-1a), so that several sim
/// processes with different prefixes against one cluster rarely hand out the same addresses.
fn prefix_offset(prefix: &str) -> usize {
    if prefix == DEFAULT_PREFIX {
        return 0;
    }
    let hash = prefix
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    (hash % 0x1_0000) as usize
}

/// Node i's InternalIP: 10.240.0.0 + i + 1, apart from the pod ranges of `Ipv4Cidr::fallback_for_node`.
fn internal_ip_for(index: usize) -> Ipv4Addr {
    let base = u32::from(Ipv4Addr::new(10, 240, 0, 0));
    let offset = (index % 0x3_FFFF) as u32 + 1;
    Ipv4Addr::from(base + offset)
}

/// The data stays consistent even if a holder panicked: every update is a single assignment.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_named_and_addressed_by_index() {
        let node = SimNode::new("sim-node", 0);
        assert_eq!(node.name, "sim-node-0");
        assert_eq!(node.internal_ip, Ipv4Addr::new(10, 240, 0, 1));
        assert_eq!(
            SimNode::new(DEFAULT_PREFIX, 300).internal_ip,
            Ipv4Addr::new(10, 240, 1, 45)
        );
    }

    #[test]
    fn other_prefixes_number_their_addresses_elsewhere() {
        let gpu = SimNode::new("gpu", 0);
        assert_eq!(gpu.name, "gpu-0");
        assert_ne!(gpu.internal_ip, SimNode::new("sim-node", 0).internal_ip);
        assert_ne!(
            gpu.pool(None).cidr(),
            SimNode::new("sim-node", 0).pool(None).cidr()
        );
        assert_eq!(
            SimNode::new("gpu", 1).pool(None).cidr(),
            Ipv4Cidr::fallback_for_node(gpu.ordinal + 1)
        );
    }

    #[test]
    fn failing_is_once() {
        let node = SimNode::new("n", 1);
        assert!(node.is_alive());
        assert!(node.fail());
        assert!(!node.fail());
        assert!(!node.is_alive());
    }

    #[test]
    fn the_pool_follows_the_pod_cidr() {
        let node = SimNode::new(DEFAULT_PREFIX, 7);
        assert_eq!(node.pool(None).cidr().to_string(), "10.244.7.0/24");
        assert_eq!(
            node.pool(Some("10.1.2.0/24")).cidr().to_string(),
            "10.1.2.0/24"
        );
        assert_eq!(
            node.pool(Some("fd00::/64")).cidr().to_string(),
            "10.244.7.0/24"
        );
    }
}
