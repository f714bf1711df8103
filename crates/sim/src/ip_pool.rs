//! Pod IPs handed out from a node's pod CIDR. The addresses are only strings in the API: nothing
//! ever sends traffic to them.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 network such as `10.244.3.0/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Cidr {
    network: u32,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IPv4 CIDR")]
pub struct CidrError(String);

impl Ipv4Cidr {
    /// The network containing `address`, host bits cleared.
    pub fn new(address: Ipv4Addr, prefix: u8) -> Option<Ipv4Cidr> {
        (prefix <= 32).then(|| Ipv4Cidr {
            network: u32::from(address) & mask(prefix),
            prefix,
        })
    }

    /// The `i`-th /24 counted from 10.244.0.0, wrapping inside 10.0.0.0/8: the pod range of a node
    /// whose spec.podCIDR is not (yet) allocated.
    pub fn fallback_for_node(index: usize) -> Ipv4Cidr {
        let ten = u32::from(Ipv4Addr::new(10, 0, 0, 0));
        // Reduced modulo 2^16 first so that the multiplication cannot overflow.
        let offset = (0xF400 + (index % 0x1_0000) as u32) % 0x1_0000;
        Ipv4Cidr {
            network: ten | (offset << 8),
            prefix: 24,
        }
    }

    pub fn contains(&self, address: Ipv4Addr) -> bool {
        u32::from(address) & mask(self.prefix) == self.network
    }

    fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    /// Host addresses to hand out: the network address, the gateway (.1) and broadcast are kept
    /// back, as host-local IPAM does.
    fn usable(&self) -> std::ops::Range<u64> {
        if self.size() < 4 {
            return 0..self.size();
        }
        2..self.size() - 1
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

impl FromStr for Ipv4Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Ipv4Cidr, CidrError> {
        let error = || CidrError(text.to_string());
        let (address, prefix) = text.split_once('/').ok_or_else(error)?;
        let address: Ipv4Addr = address.parse().map_err(|_| error())?;
        let prefix: u8 = prefix.parse().map_err(|_| error())?;
        Ipv4Cidr::new(address, prefix).ok_or_else(error)
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.network), self.prefix)
    }
}

/// The addresses of one CIDR, each held by one owner (a pod UID).
#[derive(Debug)]
pub struct IpPool {
    cidr: Ipv4Cidr,
    by_owner: HashMap<String, Ipv4Addr>,
    used: HashSet<Ipv4Addr>,
    /// Where the next search starts, so that released addresses are not reused at once.
    cursor: u64,
}

impl IpPool {
    pub fn new(cidr: Ipv4Cidr) -> IpPool {
        IpPool {
            cidr,
            by_owner: HashMap::new(),
            used: HashSet::new(),
            cursor: 0,
        }
    }

    pub fn cidr(&self) -> Ipv4Cidr {
        self.cidr
    }

    /// The owner's address: the one it holds, else the next free one; None when the pool is full.
    pub fn allocate(&mut self, owner: &str) -> Option<Ipv4Addr> {
        if let Some(address) = self.by_owner.get(owner) {
            return Some(*address);
        }
        let usable = self.cidr.usable();
        let count = usable.end - usable.start;
        for step in 0..count {
            let offset = usable.start + (self.cursor + step) % count;
            let address = Ipv4Addr::from(self.cidr.network.wrapping_add(offset as u32));
            if !self.used.contains(&address) {
                self.cursor = (self.cursor + step + 1) % count;
                self.hold(owner, address);
                return Some(address);
            }
        }
        None
    }

    /// Records an address the owner already has (a pod taken over after a restart). False when the
    /// address is outside the pool or held by another owner.
    pub fn reserve(&mut self, owner: &str, address: Ipv4Addr) -> bool {
        if !self.cidr.contains(address) {
            return false;
        }
        match self.by_owner.get(owner) {
            Some(held) => *held == address,
            None if self.used.contains(&address) => false,
            None => {
                self.hold(owner, address);
                true
            }
        }
    }

    pub fn release(&mut self, owner: &str) {
        if let Some(address) = self.by_owner.remove(owner) {
            self.used.remove(&address);
        }
    }

    /// Releases the addresses of owners that no longer exist.
    pub fn retain_owners(&mut self, alive: impl Fn(&str) -> bool) {
        let gone: Vec<String> = self
            .by_owner
            .keys()
            .filter(|owner| !alive(owner))
            .cloned()
            .collect();
        for owner in gone {
            self.release(&owner);
        }
    }

    fn hold(&mut self, owner: &str, address: Ipv4Addr) {
        self.by_owner.insert(owner.to_string(), address);
        self.used.insert(address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_parse_and_print() {
        let cidr: Ipv4Cidr = "10.244.3.7/24".parse().unwrap();
        assert_eq!(cidr.to_string(), "10.244.3.0/24");
        assert!(cidr.contains(Ipv4Addr::new(10, 244, 3, 200)));
        assert!(!cidr.contains(Ipv4Addr::new(10, 244, 4, 1)));
        assert!("10.244.0.0".parse::<Ipv4Cidr>().is_err());
        assert!("10.244.0.0/33".parse::<Ipv4Cidr>().is_err());
        assert!("fd00::/64".parse::<Ipv4Cidr>().is_err());
    }

    #[test]
    fn fallback_ranges_are_distinct_per_node() {
        assert_eq!(Ipv4Cidr::fallback_for_node(0).to_string(), "10.244.0.0/24");
        assert_eq!(Ipv4Cidr::fallback_for_node(5).to_string(), "10.244.5.0/24");
        assert_eq!(
            Ipv4Cidr::fallback_for_node(256).to_string(),
            "10.245.0.0/24"
        );
        assert_eq!(Ipv4Cidr::fallback_for_node(3072).to_string(), "10.0.0.0/24");
        let ranges: HashSet<String> = (0..10_000)
            .map(|i| Ipv4Cidr::fallback_for_node(i).to_string())
            .collect();
        assert_eq!(ranges.len(), 10_000);
    }

    #[test]
    fn allocation_skips_network_gateway_and_broadcast() {
        let mut pool = IpPool::new("10.244.1.0/24".parse().unwrap());
        assert_eq!(pool.allocate("a"), Some(Ipv4Addr::new(10, 244, 1, 2)));
        assert_eq!(pool.allocate("b"), Some(Ipv4Addr::new(10, 244, 1, 3)));
        assert_eq!(pool.allocate("a"), Some(Ipv4Addr::new(10, 244, 1, 2)));
        let mut all = HashSet::new();
        for i in 0..251 {
            all.insert(pool.allocate(&format!("p{i}")).unwrap());
        }
        assert_eq!(pool.allocate("full"), None);
        assert!(!all.contains(&Ipv4Addr::new(10, 244, 1, 255)));
        assert!(!all.contains(&Ipv4Addr::new(10, 244, 1, 1)));
        pool.release("b");
        assert_eq!(pool.allocate("c"), Some(Ipv4Addr::new(10, 244, 1, 3)));
    }

    #[test]
    fn released_addresses_are_not_reused_at_once() {
        let mut pool = IpPool::new("10.0.0.0/24".parse().unwrap());
        let first = pool.allocate("a").unwrap();
        pool.release("a");
        assert_ne!(pool.allocate("b").unwrap(), first);
    }

    #[test]
    fn reservations_respect_the_range_and_other_owners() {
        let mut pool = IpPool::new("10.0.0.0/24".parse().unwrap());
        assert!(pool.reserve("a", Ipv4Addr::new(10, 0, 0, 9)));
        assert!(pool.reserve("a", Ipv4Addr::new(10, 0, 0, 9)));
        assert!(!pool.reserve("b", Ipv4Addr::new(10, 0, 0, 9)));
        assert!(!pool.reserve("b", Ipv4Addr::new(10, 0, 1, 9)));
        assert_eq!(pool.allocate("a"), Some(Ipv4Addr::new(10, 0, 0, 9)));
    }

    #[test]
    fn owners_that_are_gone_give_back_their_addresses() {
        let mut pool = IpPool::new("10.0.0.0/29".parse().unwrap());
        assert_eq!(pool.allocate("a"), Some(Ipv4Addr::new(10, 0, 0, 2)));
        for owner in ["b", "c", "d", "e"] {
            assert!(pool.allocate(owner).is_some());
        }
        assert_eq!(pool.allocate("f"), None);
        pool.retain_owners(|owner| owner != "c");
        assert!(pool.allocate("f").is_some());
    }
}
