use std::net::SocketAddr;

/// Why the DNS server could not start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("binding DNS {protocol} socket {address}: {source}")]
    Bind {
        protocol: &'static str,
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("reading the bound socket address: {0}")]
    LocalAddress(std::io::Error),
    #[error("DNS server stopped: {0}")]
    Serve(String),
}
