//! The cluster CIDR and its node blocks (/24 by default); which are taken is `pod_cidrs.rs`.

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
        // At most 2^16 node blocks, as upstream's CIDR set allows.
        if prefix > node_prefix || node_prefix > 30 || node_prefix - prefix > 16 {
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

    /// How many node blocks the range holds.
    pub fn block_count(&self) -> u32 {
        1u32 << (self.node_prefix - self.prefix)
    }

    /// The index of `block` (`a.b.c.d/len` with this node prefix) in the range, if it is one.
    pub fn index_of(&self, block: &str) -> Option<u32> {
        let (address, prefix) = block.split_once('/')?;
        if prefix.parse::<u8>().ok()? != self.node_prefix {
            return None;
        }
        let offset = u32::from(address.parse::<Ipv4Addr>().ok()?).checked_sub(self.base)?;
        let shift = 32 - self.node_prefix;
        let index = offset >> shift;
        (offset & ((1u32 << shift) - 1) == 0 && index < self.block_count()).then_some(index)
    }

    pub fn block(&self, index: u32) -> String {
        let address = Ipv4Addr::from(self.base + (index << (32 - self.node_prefix)));
        format!("{address}/{}", self.node_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_their_indexes() {
        let cidr = ClusterCidr::parse("10.42.0.0/16", 24).unwrap();
        assert_eq!(cidr.block_count(), 256);
        assert_eq!(cidr.index_of("10.42.7.0/24"), Some(7));
        assert_eq!(cidr.block(7), "10.42.7.0/24");
        assert_eq!(cidr.index_of("10.42.7.0/25"), None);
        assert_eq!(cidr.index_of("10.42.7.128/24"), None);
        assert_eq!(cidr.index_of("10.43.0.0/24"), None);
        assert_eq!(cidr.index_of("10.41.0.0/24"), None);
        assert_eq!(cidr.index_of("x/24"), None);
        assert_eq!(
            ClusterCidr::parse("10.0.0.0/24", 24).unwrap().block_count(),
            1
        );
        assert!(ClusterCidr::parse("nonsense", 24).is_err());
        assert!(ClusterCidr::parse("10.0.0.0/25", 24).is_err());
        assert!(ClusterCidr::parse("10.0.0.0/7", 24).is_err());
        assert_eq!(
            ClusterCidr::parse("10.0.0.0/8", 24).unwrap().block_count(),
            65536
        );
    }
}
