#[derive(Debug, thiserror::Error)]
pub enum PodNetworkError {
    #[error("running {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("reading {what} from `ip -json`: {detail}")]
    BadOutput { what: String, detail: String },
    #[error("no interface holds the node address {0}")]
    NoUnderlay(std::net::IpAddr),
    #[error("the pod network supports IPv4 node addresses only, not {0}")]
    NotIpv4(std::net::IpAddr),
    #[error("enabling IP forwarding: {0}")]
    Forwarding(std::io::Error),
    #[error("publishing the VXLAN address on node {node}: {source}")]
    Publish { node: String, source: kube::Error },
}
