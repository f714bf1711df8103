//! Which addresses a LoadBalancer Service's status should announce: pure functions over the
//! Service and the Nodes.
//!
//! As k3s's ServiceLB (minus its DaemonSet pods): every Ready, schedulable Node carries the
//! Service's ports (the node-local proxy forwards them), so each such Node's address is an
//! ingress point. A Node's ExternalIPs are announced when it has any, its InternalIPs otherwise,
//! of the Service's IP families only, sorted, with `ipMode: VIP`.

use std::collections::BTreeSet;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{LoadBalancerIngress, Node, Service};

/// What this controller should do with a Service's `status.loadBalancer.ingress`.
#[derive(Debug, Clone, PartialEq)]
pub enum WantedIngress {
    /// Not ours to touch: another load balancer implementation (a `loadBalancerClass`), or a
    /// Service on its way out.
    LeaveAlone,
    /// Exactly these entries (none: the field is cleared).
    Exactly(Vec<LoadBalancerIngress>),
}

/// Whether this controller serves the Service: `type: LoadBalancer` without a class.
pub fn is_served_load_balancer(service: &Service) -> bool {
    service.spec.as_ref().is_some_and(|spec| {
        spec.type_.as_deref() == Some("LoadBalancer") && spec.load_balancer_class.is_none()
    })
}

/// The ingress `service`'s status should hold, given every Node in the cluster.
pub fn wanted_ingress<'a>(
    service: &Service,
    nodes: impl IntoIterator<Item = &'a Node>,
) -> WantedIngress {
    if service.metadata.deletion_timestamp.is_some() {
        return WantedIngress::LeaveAlone;
    }
    let Some(spec) = service.spec.as_ref() else {
        return WantedIngress::LeaveAlone;
    };
    if spec.type_.as_deref() != Some("LoadBalancer") {
        // No longer a LoadBalancer: whatever was announced goes.
        return WantedIngress::Exactly(Vec::new());
    }
    if spec.load_balancer_class.is_some() {
        return WantedIngress::LeaveAlone;
    }
    let families = ServiceFamilies::of(service);
    let addresses: BTreeSet<IpAddr> = nodes
        .into_iter()
        .filter(|node| carries_load_balancers(node))
        .flat_map(announced_addresses)
        .filter(|ip| families.admits(ip))
        .collect();
    WantedIngress::Exactly(
        addresses
            .into_iter()
            .map(|ip| LoadBalancerIngress {
                ip: Some(ip.to_string()),
                ip_mode: Some("VIP".into()),
                ..LoadBalancerIngress::default()
            })
            .collect(),
    )
}

/// The ingress the Service's status holds now (absent = none).
pub fn current_ingress(service: &Service) -> Vec<LoadBalancerIngress> {
    service
        .status
        .as_ref()
        .and_then(|status| status.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.clone())
        .unwrap_or_default()
}

/// A Node that should take load-balanced traffic: Ready, schedulable, not being deleted.
pub fn carries_load_balancers(node: &Node) -> bool {
    let schedulable = !node
        .spec
        .as_ref()
        .and_then(|spec| spec.unschedulable)
        .unwrap_or(false);
    let ready = node
        .status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        });
    schedulable && ready && node.metadata.deletion_timestamp.is_none()
}

/// The Node's ExternalIPs when it has any, else its InternalIPs.
fn announced_addresses(node: &Node) -> Vec<IpAddr> {
    let addresses = node
        .status
        .as_ref()
        .and_then(|status| status.addresses.as_deref())
        .unwrap_or_default();
    let of_type = |wanted: &str| -> Vec<IpAddr> {
        addresses
            .iter()
            .filter(|a| a.type_ == wanted)
            .filter_map(|a| a.address.parse().ok())
            .collect()
    };
    let external = of_type("ExternalIP");
    if external.is_empty() {
        of_type("InternalIP")
    } else {
        external
    }
}

/// The IP families a Service is reachable on.
struct ServiceFamilies {
    v4: bool,
    v6: bool,
}

impl ServiceFamilies {
    fn of(service: &Service) -> Self {
        let spec = service.spec.as_ref();
        let listed: Vec<&str> = spec
            .and_then(|spec| spec.ip_families.as_deref())
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .collect();
        if !listed.is_empty() {
            return Self {
                v4: listed.contains(&"IPv4"),
                v6: listed.contains(&"IPv6"),
            };
        }
        // Not yet defaulted: the family of the cluster IP, IPv4 when there is none.
        let cluster_ip_is_v6 = spec
            .and_then(|spec| spec.cluster_ip.as_deref())
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .is_some_and(|ip| ip.is_ipv6());
        Self {
            v4: !cluster_ip_is_v6,
            v6: cluster_ip_is_v6,
        }
    }

    fn admits(&self, ip: &IpAddr) -> bool {
        match ip {
            IpAddr::V4(_) => self.v4,
            IpAddr::V6(_) => self.v6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, ready: &str, unschedulable: bool, addresses: &[(&str, &str)]) -> Node {
        let addresses: Vec<_> = addresses
            .iter()
            .map(|(t, a)| json!({"type": t, "address": a}))
            .collect();
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"unschedulable": unschedulable},
            "status": {
                "conditions": [{"type": "Ready", "status": ready}],
                "addresses": addresses,
            }
        }))
        .unwrap()
    }

    fn service(spec: serde_json::Value) -> Service {
        serde_json::from_value(
            json!({"metadata": {"name": "web", "namespace": "default"}, "spec": spec}),
        )
        .unwrap()
    }

    fn ips(wanted: WantedIngress) -> Vec<String> {
        match wanted {
            WantedIngress::Exactly(ingress) => {
                for entry in &ingress {
                    assert_eq!(entry.ip_mode.as_deref(), Some("VIP"));
                }
                ingress.into_iter().filter_map(|i| i.ip).collect()
            }
            WantedIngress::LeaveAlone => panic!("left alone"),
        }
    }

    fn load_balancer() -> Service {
        service(json!({"type": "LoadBalancer", "ipFamilies": ["IPv4"], "ports": [{"port": 80}]}))
    }

    #[test]
    fn ready_schedulable_nodes_sorted() {
        let nodes = [
            node(
                "b",
                "True",
                false,
                &[("InternalIP", "192.168.77.3"), ("Hostname", "b")],
            ),
            node("a", "True", false, &[("InternalIP", "192.168.77.10")]),
            node("c", "True", false, &[("InternalIP", "192.168.77.2")]),
        ];
        assert_eq!(
            ips(wanted_ingress(&load_balancer(), &nodes)),
            ["192.168.77.2", "192.168.77.3", "192.168.77.10"]
        );
    }

    #[test]
    fn unready_unschedulable_and_deleting_nodes_are_left_out() {
        let mut deleting = node("d", "True", false, &[("InternalIP", "10.0.0.4")]);
        deleting.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2024-01-01T00:00:00Z".parse().unwrap(),
            ));
        let nodes = [
            node("a", "True", false, &[("InternalIP", "10.0.0.1")]),
            node("b", "False", false, &[("InternalIP", "10.0.0.2")]),
            node("c", "True", true, &[("InternalIP", "10.0.0.3")]),
            node("u", "Unknown", false, &[("InternalIP", "10.0.0.5")]),
            deleting,
        ];
        assert_eq!(ips(wanted_ingress(&load_balancer(), &nodes)), ["10.0.0.1"]);
    }

    #[test]
    fn external_addresses_win_over_internal_ones() {
        let nodes = [node(
            "a",
            "True",
            false,
            &[("InternalIP", "10.0.0.1"), ("ExternalIP", "203.0.113.7")],
        )];
        assert_eq!(
            ips(wanted_ingress(&load_balancer(), &nodes)),
            ["203.0.113.7"]
        );
    }

    #[test]
    fn only_the_service_families() {
        let nodes = [node(
            "a",
            "True",
            false,
            &[("InternalIP", "10.0.0.1"), ("InternalIP", "fd00::1")],
        )];
        assert_eq!(ips(wanted_ingress(&load_balancer(), &nodes)), ["10.0.0.1"]);
        let v6 = service(json!({"type": "LoadBalancer", "ipFamilies": ["IPv6"]}));
        assert_eq!(ips(wanted_ingress(&v6, &nodes)), ["fd00::1"]);
        let undefaulted = service(json!({"type": "LoadBalancer", "clusterIP": "10.43.0.9"}));
        assert_eq!(ips(wanted_ingress(&undefaulted, &nodes)), ["10.0.0.1"]);
    }

    #[test]
    fn no_nodes_no_ingress() {
        assert!(ips(wanted_ingress(&load_balancer(), &[])).is_empty());
    }

    #[test]
    fn other_types_are_cleared_and_classes_left_alone() {
        let nodes = [node("a", "True", false, &[("InternalIP", "10.0.0.1")])];
        let cluster_ip = service(json!({"type": "ClusterIP"}));
        assert_eq!(
            wanted_ingress(&cluster_ip, &nodes),
            WantedIngress::Exactly(vec![])
        );
        let classed =
            service(json!({"type": "LoadBalancer", "loadBalancerClass": "example.com/lb"}));
        assert_eq!(wanted_ingress(&classed, &nodes), WantedIngress::LeaveAlone);
        assert!(!is_served_load_balancer(&classed));
        assert!(is_served_load_balancer(&load_balancer()));
        assert!(!is_served_load_balancer(&cluster_ip));
    }
}
