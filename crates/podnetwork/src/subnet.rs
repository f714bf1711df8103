//! An IPv4 network as `Node.spec.podCIDR` writes it (`10.42.1.0/24`).

use std::fmt;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subnet {
    /// The network address, host bits cleared.
    pub network: Ipv4Addr,
    pub prefix_len: u8,
}

impl Subnet {
    /// `None` for anything but an IPv4 CIDR.
    pub fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = text.trim().split_once('/')?;
        let address: Ipv4Addr = address.parse().ok()?;
        let prefix_len: u8 = prefix.parse().ok().filter(|len| *len <= 32)?;
        let mask = u32::MAX
            .checked_shl(32 - u32::from(prefix_len))
            .unwrap_or(0);
        Some(Self {
            network: Ipv4Addr::from(u32::from(address) & mask),
            prefix_len,
        })
    }

    /// Whether every address of `other` is in this network.
    pub fn contains(&self, other: &Subnet) -> bool {
        other.prefix_len >= self.prefix_len
            && Subnet::parse(&format!("{}/{}", other.network, self.prefix_len)) == Some(*self)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ipv4_cidrs_and_clears_host_bits() {
        let subnet = Subnet::parse("10.42.1.7/24").unwrap();
        assert_eq!(subnet.network, Ipv4Addr::new(10, 42, 1, 0));
        assert_eq!(subnet.to_string(), "10.42.1.0/24");
        assert_eq!(Subnet::parse("0.0.0.0/0").unwrap().to_string(), "0.0.0.0/0");
        assert_eq!(
            Subnet::parse("10.0.0.1/32").unwrap().to_string(),
            "10.0.0.1/32"
        );
        assert_eq!(Subnet::parse("fd00::/64"), None);
        assert_eq!(Subnet::parse("10.0.0.0/33"), None);
        assert_eq!(Subnet::parse("10.0.0.0"), None);
    }

    #[test]
    fn containment() {
        let cluster = Subnet::parse("10.42.0.0/16").unwrap();
        assert!(cluster.contains(&Subnet::parse("10.42.7.0/24").unwrap()));
        assert!(cluster.contains(&cluster));
        assert!(!cluster.contains(&Subnet::parse("10.43.0.0/24").unwrap()));
        assert!(!cluster.contains(&Subnet::parse("0.0.0.0/0").unwrap()));
    }
}
