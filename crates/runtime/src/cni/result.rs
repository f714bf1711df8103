//! The pod's addresses in a CNI 1.0 result.

use serde_json::Value;

/// A pod's IPs, the first one is the primary (`PodSandboxStatus.network.ip`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PodIps(pub Vec<String>);

impl PodIps {
    /// Every `ips[].address` (CIDR notation) of a result, without the prefix length; IPv4 first.
    pub fn from_result(result: &Value) -> Self {
        let mut ips: Vec<String> = result
            .get("ips")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|ip| ip.get("address").and_then(Value::as_str))
            .map(|address| address.split('/').next().unwrap_or(address).to_owned())
            .collect();
        ips.sort_by_key(|ip| ip.contains(':'));
        Self(ips)
    }

    pub fn primary(&self) -> Option<&str> {
        self.0.first().map(String::as_str)
    }

    pub fn additional(&self) -> &[String] {
        self.0.get(1..).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn addresses_lose_their_prefix_and_ipv4_comes_first() {
        let result = json!({
            "cniVersion": "1.0.0",
            "interfaces": [{"name": "eth0"}],
            "ips": [
                {"address": "fd00::5/64", "interface": 0},
                {"address": "10.88.0.5/24", "gateway": "10.88.0.1", "interface": 0}
            ]
        });
        let ips = PodIps::from_result(&result);
        assert_eq!(ips.primary(), Some("10.88.0.5"));
        assert_eq!(ips.additional(), ["fd00::5".to_owned()]);
    }

    #[test]
    fn a_result_without_ips_has_none() {
        let ips = PodIps::from_result(&json!({"cniVersion": "1.0.0"}));
        assert_eq!(ips.primary(), None);
        assert!(ips.additional().is_empty());
    }
}
