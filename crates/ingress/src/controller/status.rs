//! `status.loadBalancer.ingress` of served Ingresses: the InternalIPs of every Node, sorted and
//! deduplicated, so that every agent computes the same and writes only when it differs.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Patch, PatchParams};
use kube::Api;
use serde_json::json;

pub fn load_balancer_ips<N: AsRef<Node>>(nodes: &[N]) -> Vec<String> {
    let ips: BTreeSet<String> = nodes
        .iter()
        .flat_map(|node| {
            node.as_ref()
                .status
                .iter()
                .flat_map(|status| status.addresses.iter().flatten())
        })
        .filter(|address| address.type_ == "InternalIP")
        .map(|address| address.address.clone())
        .collect();
    ips.into_iter().collect()
}

/// Whether `ingress` shows other addresses than `ips` (hostnames and ports count as different).
pub fn needs_status_update(ingress: &Ingress, ips: &[String]) -> bool {
    let current = ingress
        .status
        .as_ref()
        .and_then(|status| status.load_balancer.as_ref())
        .and_then(|load_balancer| load_balancer.ingress.as_deref())
        .unwrap_or_default();
    current.len() != ips.len()
        || current.iter().zip(ips).any(|(entry, ip)| {
            entry.ip.as_deref() != Some(ip.as_str())
                || entry.hostname.is_some()
                || entry.ports.is_some()
        })
}

pub async fn write_status(client: &kube::Client, ingress: &Ingress, ips: &[String]) {
    let (Some(namespace), Some(name)) = (&ingress.metadata.namespace, &ingress.metadata.name)
    else {
        return;
    };
    let api: Api<Ingress> = Api::namespaced(client.clone(), namespace);
    let entries: Vec<_> = ips.iter().map(|ip| json!({ "ip": ip })).collect();
    let patch = json!({ "status": { "loadBalancer": { "ingress": entries } } });
    match api
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => tracing::info!(%namespace, %name, ?ips, "updated ingress status"),
        Err(error) => tracing::warn!(%namespace, %name, %error, "updating ingress status"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(addresses: serde_json::Value) -> Node {
        serde_json::from_value(
            json!({"metadata": {"name": "n"}, "status": {"addresses": addresses}}),
        )
        .unwrap()
    }

    #[test]
    fn internal_ips_of_all_nodes_sorted_and_deduplicated() {
        let nodes = [
            std::sync::Arc::new(node(json!([
                {"type": "InternalIP", "address": "192.168.77.3"},
                {"type": "Hostname", "address": "n2"},
            ]))),
            std::sync::Arc::new(node(json!([
                {"type": "InternalIP", "address": "192.168.77.2"},
                {"type": "InternalIP", "address": "192.168.77.3"},
            ]))),
        ];
        assert_eq!(load_balancer_ips(&nodes), ["192.168.77.2", "192.168.77.3"]);
    }

    #[test]
    fn updates_only_when_different() {
        let ips = vec!["192.168.77.2".to_owned()];
        let with = |status: serde_json::Value| -> Ingress {
            serde_json::from_value(json!({"metadata": {"name": "x"}, "status": status})).unwrap()
        };
        assert!(needs_status_update(&with(json!({})), &ips));
        assert!(!needs_status_update(
            &with(json!({"loadBalancer": {"ingress": [{"ip": "192.168.77.2"}]}})),
            &ips
        ));
        assert!(needs_status_update(
            &with(json!({"loadBalancer": {"ingress": [{"ip": "192.168.77.9"}]}})),
            &ips
        ));
        assert!(!needs_status_update(&with(json!({})), &[]));
    }
}
