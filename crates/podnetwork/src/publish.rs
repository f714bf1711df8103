//! The VXLAN device's MAC and the node's address, published on the own Node for the other nodes.

use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::Node;
use serde_json::{json, Value};

use crate::node_view::{PUBLIC_IP_ANNOTATION, VXLAN_MAC_ANNOTATION};

/// The merge patch that sets both annotations, `None` when they already say so.
pub fn annotation_patch(node: &Node, mac: &str, node_ip: Ipv4Addr) -> Option<Value> {
    let annotations = node.metadata.annotations.as_ref();
    let current = |key: &str| annotations.and_then(|a| a.get(key)).map(String::as_str);
    let ip = node_ip.to_string();
    if current(VXLAN_MAC_ANNOTATION) == Some(mac) && current(PUBLIC_IP_ANNOTATION) == Some(&ip) {
        return None;
    }
    Some(json!({
        "metadata": {
            "annotations": { VXLAN_MAC_ANNOTATION: mac, PUBLIC_IP_ANNOTATION: ip }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_view::tests::node;

    #[test]
    fn patches_only_when_the_annotations_differ() {
        let ip = Ipv4Addr::new(192, 168, 77, 2);
        let mut own = node(
            "a",
            "10.42.0.0/24",
            "192.168.77.2",
            Some("02:00:00:00:00:01"),
        );
        let patch = annotation_patch(&own, "02:00:00:00:00:01", ip).unwrap();
        assert_eq!(
            patch["metadata"]["annotations"],
            json!({"r8s.io/vxlan-mac": "02:00:00:00:00:01", "r8s.io/public-ip": "192.168.77.2"})
        );
        own.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(PUBLIC_IP_ANNOTATION.into(), "192.168.77.2".into());
        assert_eq!(annotation_patch(&own, "02:00:00:00:00:01", ip), None);
        assert!(annotation_patch(&own, "02:00:00:00:00:02", ip).is_some());
    }
}
