//! How one node's DNS server is configured.

use std::net::IpAddr;
use std::path::PathBuf;

/// Settings for [`crate::run`].
#[derive(Clone, Debug)]
pub struct DnsOptions {
    /// The Node this server runs on; names its EndpointSlice and owns it.
    pub node_name: String,
    /// The address the server binds and advertises in the `kube-dns` EndpointSlice.
    pub node_ip: IpAddr,
    /// UDP and TCP port; 53 in a cluster, 0 for an ephemeral port in tests.
    pub port: u16,
    /// The `kube-dns` Service's ClusterIP (`--cluster-dns`).
    pub cluster_dns: IpAddr,
    /// The zone served from the cluster (`--cluster-domain`).
    pub cluster_domain: String,
    /// Where the upstream nameservers for other names are listed.
    pub resolv_conf: PathBuf,
    /// Whether to create the `kube-dns` Service and this node's EndpointSlice.
    pub register: bool,
}

impl DnsOptions {
    pub fn new(
        node_name: &str,
        node_ip: IpAddr,
        cluster_dns: IpAddr,
        cluster_domain: &str,
    ) -> Self {
        Self {
            node_name: node_name.to_owned(),
            node_ip,
            port: 53,
            cluster_dns,
            cluster_domain: cluster_domain.to_owned(),
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
            register: true,
        }
    }
}
