//! Pod CIDR allocation: each node gets the lowest free /24 (by default) of the cluster CIDR.
//! What is in use is read from the nodes themselves, so a deleted node's range is free again.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use super::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterCidr {
    base: u32,
    prefix: u8,
    node_prefix: u8,
}

impl ClusterCidr {
    pub fn parse(text: &str, node_prefix: u8) -> Result<Self, Error> {
        let invalid = || Error::ClusterCidr(text.to_string());
        let (address, prefix) = text.split_once('/').ok_or_else(invalid)?;
        let address: Ipv4Addr = address.parse().map_err(|_| invalid())?;
        let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
        if prefix > node_prefix || node_prefix > 30 {
            return Err(invalid());
        }
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        Ok(Self {
            base: u32::from(address) & mask,
            prefix,
            node_prefix,
        })
    }

    fn block(&self, index: u32) -> String {
        let address = Ipv4Addr::from(self.base + (index << (32 - self.node_prefix)));
        format!("{address}/{}", self.node_prefix)
    }

    /// The lowest block not in `used`, or None when the range is exhausted.
    pub fn allocate(&self, used: &BTreeSet<String>) -> Option<String> {
        let blocks = 1u32 << (self.node_prefix - self.prefix);
        (0..blocks)
            .map(|i| self.block(i))
            .find(|block| !used.contains(block))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_the_lowest_free_block_and_reuses_released_ones() {
        let cidr = ClusterCidr::parse("10.42.0.0/16", 24).unwrap();
        let mut used = BTreeSet::new();
        assert_eq!(cidr.allocate(&used).as_deref(), Some("10.42.0.0/24"));
        used.insert("10.42.0.0/24".to_string());
        used.insert("10.42.1.0/24".to_string());
        assert_eq!(cidr.allocate(&used).as_deref(), Some("10.42.2.0/24"));
        used.remove("10.42.0.0/24");
        assert_eq!(cidr.allocate(&used).as_deref(), Some("10.42.0.0/24"));
        let tiny = ClusterCidr::parse("10.0.0.0/24", 24).unwrap();
        assert_eq!(tiny.allocate(&["10.0.0.0/24".to_string()].into()), None);
        assert!(ClusterCidr::parse("nonsense", 24).is_err());
    }
}
