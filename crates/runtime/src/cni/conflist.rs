//! The network list r8s writes once the kubelet tells it the node's pod CIDR.

use std::path::Path;

use serde_json::{json, Value};

/// The network's name (also host-local's lease directory under its `dataDir`).
pub const NETWORK_NAME: &str = "r8s";
/// The file under the CNI configuration directory.
pub const CONFLIST_FILE: &str = "10-r8s.conflist";
/// The Linux bridge every pod's veth is attached to.
pub const BRIDGE_NAME: &str = "r8s0";

/// The conflist: a bridge with host-local addresses from `pod_cidr`, then portmap for hostPorts.
pub fn bridge_conflist(pod_cidr: &str, ipam_data_dir: &Path) -> Value {
    bridge_conflist_with_mtu(pod_cidr, ipam_data_dir, None)
}

/// `bridge_conflist` whose bridge and pod interfaces get `mtu` (room for an overlay's headers
/// when the pod network encapsulates; the plugin's default, the bridge's, otherwise).
pub fn bridge_conflist_with_mtu(pod_cidr: &str, ipam_data_dir: &Path, mtu: Option<u32>) -> Value {
    let mut list = json!({
        "cniVersion": "1.0.0",
        "name": NETWORK_NAME,
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE_NAME,
                "isGateway": true,
                // One rule for the whole CIDR instead (`masquerade`): per-pod iptables calls
                // serialise pod starts.
                "ipMasq": false,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{ "subnet": pod_cidr }]],
                    "routes": [{ "dst": "0.0.0.0/0" }],
                    "dataDir": ipam_data_dir.to_string_lossy(),
                }
            },
            {
                "type": "portmap",
                "capabilities": { "portMappings": true },
                "snat": true
            }
        ]
    });
    if let (Some(mtu), Some(bridge)) = (mtu, list.pointer_mut("/plugins/0")) {
        bridge["mtu"] = json!(mtu);
    }
    list
}

/// The configuration the loopback plugin gets for a pod's `lo`.
pub fn loopback_config() -> Value {
    json!({ "cniVersion": "1.0.0", "name": "cni-loopback", "type": "loopback" })
}

/// The pod CIDR a conflist written by `bridge_conflist` was made for.
pub fn pod_cidr_of(conflist: &Value) -> Option<String> {
    conflist
        .get("plugins")?
        .as_array()?
        .iter()
        .find(|plugin| plugin.get("type").and_then(Value::as_str) == Some("bridge"))?
        .pointer("/ipam/ranges/0/0/subnet")?
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflist_has_bridge_with_host_local_then_portmap() {
        let list = bridge_conflist("10.88.0.0/24", Path::new("/agent/run/cni"));
        assert_eq!(list["cniVersion"], "1.0.0");
        assert_eq!(list["name"], "r8s");
        let plugins = list["plugins"].as_array().unwrap();
        assert_eq!(plugins.len(), 2);
        assert_eq!(plugins[0]["type"], "bridge");
        assert_eq!(plugins[0]["bridge"], "r8s0");
        assert_eq!(plugins[0]["isGateway"], true);
        assert_eq!(plugins[0]["ipMasq"], false);
        assert_eq!(plugins[0]["hairpinMode"], true);
        assert_eq!(plugins[0]["ipam"]["type"], "host-local");
        assert_eq!(plugins[0]["ipam"]["ranges"][0][0]["subnet"], "10.88.0.0/24");
        assert_eq!(plugins[0]["ipam"]["routes"][0]["dst"], "0.0.0.0/0");
        assert_eq!(plugins[0]["ipam"]["dataDir"], "/agent/run/cni");
        assert_eq!(plugins[1]["type"], "portmap");
        assert_eq!(plugins[1]["capabilities"]["portMappings"], true);
        assert_eq!(plugins[1]["snat"], true);
        assert_eq!(plugins[0].get("mtu"), None);
    }

    #[test]
    fn the_bridge_gets_the_pod_mtu_when_one_is_set() {
        let list = bridge_conflist_with_mtu("10.42.0.0/24", Path::new("/x"), Some(1450));
        assert_eq!(list["plugins"][0]["mtu"], 1450);
        assert_eq!(
            bridge_conflist_with_mtu("10.42.0.0/24", Path::new("/x"), None),
            bridge_conflist("10.42.0.0/24", Path::new("/x"))
        );
    }

    #[test]
    fn pod_cidr_is_read_back_from_the_conflist() {
        let list = bridge_conflist("10.244.1.0/24", Path::new("/x"));
        assert_eq!(pod_cidr_of(&list).as_deref(), Some("10.244.1.0/24"));
        assert_eq!(pod_cidr_of(&json!({"plugins": []})), None);
    }
}
