//! What the API server is configured with.

use std::net::Ipv4Addr;
use std::time::Duration;

/// API server settings that shape request handling (not the listener).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Service virtual IPs are allocated from this IPv4 network (default 10.43.0.0/16).
    pub service_cidr: (Ipv4Addr, u8),
    /// NodePorts are allocated from this range (default 30000-32767).
    pub node_port_range: (u16, u16),
    /// How long Events live.
    pub event_ttl: Duration,
    pub max_requests_inflight: usize,
    pub max_mutating_requests_inflight: usize,
    /// How many objects one deletecollection deletes at a time (`--delete-collection-workers`).
    /// Each deletion waits for its own commit; several in flight share one commit.
    pub delete_collection_workers: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            service_cidr: (Ipv4Addr::new(10, 43, 0, 0), 16),
            node_port_range: (30000, 32767),
            event_ttl: Duration::from_secs(3600),
            max_requests_inflight: 400,
            max_mutating_requests_inflight: 200,
            delete_collection_workers: 16,
        }
    }
}

/// The first usable address of a network: the `kubernetes` Service's ClusterIP.
pub fn first_service_ip(cidr: (Ipv4Addr, u8)) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(cidr.0).wrapping_add(1))
}

/// Parse `10.43.0.0/16`.
pub fn parse_ipv4_cidr(text: &str) -> Option<(Ipv4Addr, u8)> {
    let (ip, bits) = text.split_once('/')?;
    let ip: Ipv4Addr = ip.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    if bits > 30 {
        return None;
    }
    let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
    Some((Ipv4Addr::from(u32::from(ip) & mask), bits))
}

/// Parse `30000-32767`.
pub fn parse_port_range(text: &str) -> Option<(u16, u16)> {
    let (low, high) = text.split_once('-')?;
    let (low, high): (u16, u16) = (low.trim().parse().ok()?, high.trim().parse().ok()?);
    (low <= high).then_some((low, high))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_and_ranges() {
        let cidr = parse_ipv4_cidr("10.43.7.9/16").unwrap();
        assert_eq!(cidr, (Ipv4Addr::new(10, 43, 0, 0), 16));
        assert_eq!(first_service_ip(cidr), Ipv4Addr::new(10, 43, 0, 1));
        assert_eq!(parse_port_range("30000-32767"), Some((30000, 32767)));
        assert_eq!(parse_port_range("5-1"), None);
        assert_eq!(parse_ipv4_cidr("bad"), None);
    }
}
