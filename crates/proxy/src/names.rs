//! Names of everything in the `ip r8s` table. Per-service chains and sets carry the service port
//! (`<namespace>/<name>/<protocol>/<port>`) and, for endpoints, the endpoint address, so a name
//! says what it is in `nft list table ip r8s`.

use crate::model::{Endpoint, ServicePort};

pub const TABLE: &str = "r8s";

/// `ip daddr . meta l4proto . th dport : verdict` for ClusterIPs, externalIPs and LB IPs.
pub const SERVICE_IPS: &str = "service-ips";
/// `meta l4proto . th dport : verdict` for NodePorts on the node's own addresses.
pub const SERVICE_NODEPORTS: &str = "service-nodeports";
/// Service IPs whose Service has no usable endpoint: reject or drop.
pub const NO_ENDPOINT_SERVICES: &str = "no-endpoint-services";
/// NodePorts whose Service has no usable endpoint: reject or drop.
pub const NO_ENDPOINT_NODEPORTS: &str = "no-endpoint-nodeports";
/// Every ClusterIP, to reject traffic to ports no Service serves.
pub const CLUSTER_IPS: &str = "cluster-ips";

pub const MARK_FOR_MASQUERADE: &str = "mark-for-masquerade";
pub const REJECT_CHAIN: &str = "reject-chain";

/// The packet mark that asks postrouting to masquerade (kube-proxy's bit).
pub const MASQUERADE_MARK: &str = "0x4000";

fn port_id(port: &ServicePort) -> String {
    format!(
        "{}/{}/{}/{}",
        port.service.namespace,
        port.service.name,
        port.protocol.nft_name(),
        port.port
    )
}

fn endpoint_id(port: &ServicePort, endpoint: &Endpoint) -> String {
    format!("{}__{}/{}", port_id(port), endpoint.ip, endpoint.port)
}

/// Load-balances over every usable endpoint in the cluster.
pub fn cluster_chain(port: &ServicePort) -> String {
    format!("service-{}", port_id(port))
}

/// Load-balances over this node's endpoints only.
pub fn local_chain(port: &ServicePort) -> String {
    format!("local-{}", port_id(port))
}

/// Entry for NodePort, externalIP and load-balancer traffic.
pub fn external_chain(port: &ServicePort) -> String {
    format!("external-{}", port_id(port))
}

pub fn endpoint_chain(port: &ServicePort, endpoint: &Endpoint) -> String {
    format!("endpoint-{}", endpoint_id(port, endpoint))
}

/// Client addresses recently sent to this endpoint (session affinity).
pub fn affinity_set(port: &ServicePort, endpoint: &Endpoint) -> String {
    format!("affinity-{}", endpoint_id(port, endpoint))
}
