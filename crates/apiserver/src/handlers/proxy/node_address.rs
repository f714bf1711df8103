//! Where a Node's kubelet listens: its InternalIP (else another address) and
//! `status.daemonEndpoints.kubeletEndpoint.Port` (10250 when unset).

use std::net::{IpAddr, SocketAddr};

use serde_json::Value;

use crate::status::ApiError;

const DEFAULT_KUBELET_PORT: u16 = 10250;
const ADDRESS_PREFERENCE: &[&str] = &["InternalIP", "ExternalIP", "Hostname"];

pub fn kubelet_address(node: &Value) -> Result<SocketAddr, ApiError> {
    let name = node
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let addresses = node
        .pointer("/status/addresses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let ip = ADDRESS_PREFERENCE
        .iter()
        .flat_map(|kind| {
            addresses
                .iter()
                .filter(move |a| a.get("type").and_then(Value::as_str) == Some(kind))
        })
        .filter_map(|a| a.get("address").and_then(Value::as_str))
        .find_map(|a| a.parse::<IpAddr>().ok())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "no preferred addresses found; known addresses: [] for node {name:?}"
            ))
        })?;
    let port = node
        .pointer("/status/daemonEndpoints/kubeletEndpoint/Port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
        .unwrap_or(DEFAULT_KUBELET_PORT);
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prefers_internal_ip_and_reads_the_port() {
        let node = json!({"metadata": {"name": "n"}, "status": {
            "addresses": [{"type": "Hostname", "address": "n"}, {"type": "ExternalIP", "address": "1.2.3.4"}, {"type": "InternalIP", "address": "10.0.0.5"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 12345}}}});
        assert_eq!(
            kubelet_address(&node).unwrap(),
            "10.0.0.5:12345".parse().unwrap()
        );
        let node = json!({"status": {"addresses": [{"type": "ExternalIP", "address": "1.2.3.4"}]}});
        assert_eq!(
            kubelet_address(&node).unwrap(),
            "1.2.3.4:10250".parse().unwrap()
        );
        assert_eq!(kubelet_address(&json!({})).unwrap_err().code, 400);
    }
}
