//! Transport protocols as the Kubernetes API names them and as nftables spells them.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// The protocol as the API spells it (`TCP`, `UDP`, `SCTP`); a missing protocol means TCP.
    pub fn from_api(protocol: Option<&str>) -> Option<Self> {
        match protocol.unwrap_or("TCP") {
            "TCP" => Some(Self::Tcp),
            "UDP" => Some(Self::Udp),
            "SCTP" => Some(Self::Sctp),
            _ => None,
        }
    }

    /// The protocol as nftables spells it (`tcp dport`, `meta l4proto tcp`).
    pub fn nft_name(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Sctp => "sctp",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names_map_to_nft_names() {
        assert_eq!(Protocol::from_api(None), Some(Protocol::Tcp));
        assert_eq!(
            Protocol::from_api(Some("UDP")).map(Protocol::nft_name),
            Some("udp")
        );
        assert_eq!(Protocol::from_api(Some("sctp")), None);
    }
}
