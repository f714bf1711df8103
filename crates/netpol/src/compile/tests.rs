//! Scenarios: cluster objects in, enforced rules (and the nftables they become) out.

use std::collections::BTreeSet;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use nftables::RecordingNft;
use serde_json::{json, Value};

use crate::rules::Protocol;
use crate::{compile, render, Allow, ClusterState, NodeRules, Peer, PortMatch, TableSync};

const NODE: &str = "node-a";

fn pod(namespace: &str, name: &str, labels: Value, ip: &str, node: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"namespace": namespace, "name": name, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]},
    }))
    .unwrap()
}

fn pod_with_port(
    namespace: &str,
    name: &str,
    ip: &str,
    node: &str,
    port_name: &str,
    port: i32,
) -> Pod {
    let mut pod = pod(namespace, name, json!({"app": name}), ip, node);
    pod.spec.as_mut().unwrap().containers[0].ports = Some(vec![serde_json::from_value(
        json!({"name": port_name, "containerPort": port, "protocol": "TCP"}),
    )
    .unwrap()]);
    pod
}

fn namespace(name: &str, labels: Value) -> Namespace {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).unwrap()
}

fn policy(namespace: &str, name: &str, spec: Value) -> NetworkPolicy {
    serde_json::from_value(json!({
        "metadata": {"namespace": namespace, "name": name},
        "spec": spec,
    }))
    .unwrap()
}

fn state(pods: &[Pod], namespaces: &[Namespace], policies: &[NetworkPolicy]) -> ClusterState {
    ClusterState::from_objects(pods, namespaces, policies)
}

fn default_namespaces() -> Vec<Namespace> {
    vec![
        namespace("default", json!({})),
        namespace("other", json!({"team": "a"})),
        namespace("kube-system", json!({})),
    ]
}

/// The cluster most scenarios use: `web` (local, 10.42.0.2) and `client` (local, 10.42.0.3) in
/// default, `remote` in default on another node, `outsider` (app=client) in namespace other.
fn cluster_pods() -> Vec<Pod> {
    vec![
        pod("default", "web", json!({"app": "web"}), "10.42.0.2", NODE),
        pod(
            "default",
            "client",
            json!({"app": "client"}),
            "10.42.0.3",
            NODE,
        ),
        pod(
            "default",
            "remote",
            json!({"app": "client"}),
            "10.42.1.5",
            "node-b",
        ),
        pod(
            "other",
            "outsider",
            json!({"app": "client"}),
            "10.42.1.9",
            "node-b",
        ),
    ]
}

fn rules(policies: &[NetworkPolicy]) -> NodeRules {
    compile(
        &state(&cluster_pods(), &default_namespaces(), policies),
        NODE,
    )
}

fn addresses(ips: &[&str]) -> Peer {
    Peer::Addresses(ips.iter().map(|ip| ip.parse::<IpAddr>().unwrap()).collect())
}

fn tcp(port: u16) -> PortMatch {
    PortMatch::Range {
        protocol: Protocol::Tcp,
        first: port,
        last: port,
    }
}

fn isolated<'a>(rules: &'a NodeRules, name: &str) -> &'a crate::IsolatedPod {
    rules.pods.iter().find(|pod| pod.name == name).unwrap()
}

#[test]
fn without_policies_nothing_is_isolated() {
    let rules = rules(&[]);
    assert_eq!(rules, NodeRules::default());
    let script = render(&rules);
    assert!(script.starts_with(
        "add table inet r8s-netpol\ndelete table inet r8s-netpol\ntable inet r8s-netpol {\n"
    ));
    assert!(script.contains("type filter hook forward priority filter; policy accept;"));
    assert!(script.contains("ct state established,related accept"));
    assert!(!script.contains("vmap"));
}

#[test]
fn default_deny_ingress_isolates_every_pod_of_the_namespace() {
    let rules = rules(&[policy(
        "default",
        "deny",
        json!({"podSelector": {}, "policyTypes": ["Ingress"]}),
    )]);
    let names: Vec<&str> = rules.pods.iter().map(|pod| pod.name.as_str()).collect();
    assert_eq!(names, ["client", "web"]);
    let web = isolated(&rules, "web");
    assert_eq!(web.ingress, Some(vec![]));
    assert_eq!(web.egress, None);

    let script = render(&rules);
    assert!(script.contains(
        "ip daddr vmap { 10.42.0.3 : jump ingress-default/client, 10.42.0.2 : jump ingress-default/web }"
    ));
    assert!(!script.contains("saddr vmap"));
    assert!(script.contains(
        "\tchain ingress-default/web {\n\t\tcomment \"ingress of pod default/web\"\n\t\tdrop\n\t}\n"
    ));
    // The node itself (probes) still reaches its pods.
    assert!(script.contains("fib saddr type local accept"));
}

#[test]
fn policy_types_default_to_ingress_and_to_egress_when_egress_rules_exist() {
    let ingress_only = rules(&[policy("default", "p", json!({"podSelector": {}}))]);
    assert_eq!(isolated(&ingress_only, "web").egress, None);
    assert_eq!(isolated(&ingress_only, "web").ingress, Some(vec![]));

    let both = rules(&[policy(
        "default",
        "p",
        json!({"podSelector": {}, "egress": [{"to": [{"podSelector": {}}]}]}),
    )]);
    let web = isolated(&both, "web");
    assert_eq!(web.ingress, Some(vec![]));
    assert!(web.egress.as_ref().is_some_and(|rules| !rules.is_empty()));

    let egress_only = rules(&[policy(
        "default",
        "p",
        json!({"podSelector": {}, "policyTypes": ["Egress"]}),
    )]);
    assert_eq!(isolated(&egress_only, "web").ingress, None);
    assert_eq!(isolated(&egress_only, "web").egress, Some(vec![]));
}

#[test]
fn allow_from_pod_selector_takes_pods_of_the_policy_namespace_only() {
    let rules = rules(&[policy(
        "default",
        "allow-clients",
        json!({
            "podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}]}],
        }),
    )]);
    assert_eq!(rules.pods.len(), 1, "only web is selected");
    assert_eq!(
        isolated(&rules, "web").ingress,
        Some(vec![Allow {
            peer: addresses(&["10.42.0.3", "10.42.1.5"]),
            ports: PortMatch::Any,
        }])
    );
    let script = render(&rules);
    assert!(script.contains(
        "\tset pods-ip-0 {\n\t\ttype ipv4_addr\n\t\telements = { 10.42.0.3, 10.42.1.5 }\n\t}"
    ));
    assert!(script.contains("\t\tip saddr @pods-ip-0 return\n\t\tdrop\n"));
}

#[test]
fn a_rule_without_peers_admits_every_source() {
    let rules = rules(&[policy(
        "default",
        "any",
        json!({"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{}]}),
    )]);
    assert_eq!(
        isolated(&rules, "web").ingress,
        Some(vec![Allow {
            peer: Peer::Any,
            ports: PortMatch::Any
        }])
    );
    assert!(render(&rules).contains("comment \"ingress of pod default/web\"\n\t\treturn\n"));
}

#[test]
fn namespace_selector_alone_and_together_with_a_pod_selector() {
    let mut pods = cluster_pods();
    pods.push(pod(
        "other",
        "db",
        json!({"app": "db"}),
        "10.42.1.10",
        "node-b",
    ));
    let namespaces = default_namespaces();
    let alone = compile(
        &state(
            &pods,
            &namespaces,
            &[policy(
                "default",
                "p",
                json!({
                    "podSelector": {"matchLabels": {"app": "web"}},
                    "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}]}],
                }),
            )],
        ),
        NODE,
    );
    assert_eq!(
        isolated(&alone, "web").ingress.as_ref().unwrap()[0].peer,
        addresses(&["10.42.1.10", "10.42.1.9"])
    );

    let together = compile(
        &state(
            &pods,
            &namespaces,
            &[policy(
                "default",
                "p",
                json!({
                    "podSelector": {"matchLabels": {"app": "web"}},
                    "ingress": [{"from": [{
                        "namespaceSelector": {"matchLabels": {"team": "a"}},
                        "podSelector": {"matchLabels": {"app": "client"}},
                    }]}],
                }),
            )],
        ),
        NODE,
    );
    assert_eq!(
        isolated(&together, "web").ingress.as_ref().unwrap()[0].peer,
        addresses(&["10.42.1.9"])
    );

    let by_name_label = compile(
        &state(
            &pods,
            &namespaces,
            &[policy(
                "default",
                "p",
                json!({
                    "podSelector": {"matchLabels": {"app": "web"}},
                    "ingress": [{"from": [{"namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "other"}
                    }}]}],
                }),
            )],
        ),
        NODE,
    );
    assert_eq!(
        isolated(&by_name_label, "web").ingress.as_ref().unwrap()[0].peer,
        addresses(&["10.42.1.10", "10.42.1.9"])
    );
}

#[test]
fn ip_block_with_except() {
    let rules = rules(&[policy(
        "default",
        "p",
        json!({
            "podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{
                "from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.42.0.0/16", "10.42.1.0/24"]}}],
                "ports": [{"port": 80}],
            }],
        }),
    )]);
    assert_eq!(
        isolated(&rules, "web").ingress,
        Some(vec![Allow {
            peer: Peer::Block {
                cidr: "10.0.0.0/8".parse().unwrap(),
                except: vec!["10.42.0.0/16".parse().unwrap()],
            },
            ports: tcp(80),
        }])
    );
    assert!(render(&rules)
        .contains("\t\tip saddr 10.0.0.0/8 ip saddr != { 10.42.0.0/16 } tcp dport 80 return\n"));
}

#[test]
fn named_ports_resolve_against_the_destination_pod() {
    let pods = vec![
        pod_with_port("default", "web", "10.42.0.2", NODE, "http", 8080),
        pod_with_port("default", "api", "10.42.0.4", NODE, "grpc", 9090),
        pod(
            "default",
            "client",
            json!({"app": "client"}),
            "10.42.0.3",
            NODE,
        ),
    ];
    let ingress_policy = policy(
        "default",
        "named",
        json!({
            "podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]},
            "ingress": [{"ports": [{"port": "http", "protocol": "TCP"}]}],
        }),
    );
    let rules = compile(
        &state(&pods, &default_namespaces(), &[ingress_policy]),
        NODE,
    );
    assert_eq!(
        isolated(&rules, "web").ingress,
        Some(vec![Allow {
            peer: Peer::Any,
            ports: tcp(8080)
        }])
    );
    assert_eq!(
        isolated(&rules, "api").ingress,
        Some(vec![]),
        "api has no port named http"
    );

    let egress_policy = policy(
        "default",
        "named-out",
        json!({
            "podSelector": {"matchLabels": {"app": "client"}},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"port": "http"}, {"port": "grpc"}]}],
        }),
    );
    let rules = compile(&state(&pods, &default_namespaces(), &[egress_policy]), NODE);
    assert_eq!(
        isolated(&rules, "client").egress,
        Some(vec![
            Allow {
                peer: addresses(&["10.42.0.2"]),
                ports: tcp(8080)
            },
            Allow {
                peer: addresses(&["10.42.0.4"]),
                ports: tcp(9090)
            },
        ])
    );
    let script = render(&rules);
    assert!(script.contains("ip saddr vmap { 10.42.0.3 : jump egress-default/client }"));
    assert!(script.contains("\t\tip daddr 10.42.0.2 tcp dport 8080 return\n"));
}

#[test]
fn end_port_makes_a_range() {
    let rules = rules(&[policy(
        "default",
        "range",
        json!({
            "podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"ports": [{"port": 8000, "endPort": 8100}, {"protocol": "UDP"}]}],
        }),
    )]);
    assert_eq!(
        isolated(&rules, "web").ingress,
        Some(vec![
            Allow {
                peer: Peer::Any,
                ports: PortMatch::Protocol(Protocol::Udp)
            },
            Allow {
                peer: Peer::Any,
                ports: PortMatch::Range {
                    protocol: Protocol::Tcp,
                    first: 8000,
                    last: 8100
                }
            },
        ])
    );
    let script = render(&rules);
    assert!(script.contains("\t\ttcp dport 8000-8100 return\n"));
    assert!(script.contains("\t\tmeta l4proto udp return\n"));
}

#[test]
fn egress_deny_with_dns_allowed() {
    let mut pods = cluster_pods();
    pods.push(pod(
        "kube-system",
        "coredns",
        json!({"k8s-app": "kube-dns"}),
        "10.42.1.2",
        "node-b",
    ));
    let policies = [
        policy(
            "default",
            "deny-egress",
            json!({"podSelector": {}, "policyTypes": ["Egress"]}),
        ),
        policy(
            "default",
            "allow-dns",
            json!({
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{
                    "to": [{
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }],
                    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                }],
            }),
        ),
    ];
    let rules = compile(&state(&pods, &default_namespaces(), &policies), NODE);
    let web = isolated(&rules, "web");
    assert_eq!(web.ingress, None);
    let dns = addresses(&["10.42.1.2"]);
    assert_eq!(
        web.egress,
        Some(vec![
            Allow {
                peer: dns.clone(),
                ports: tcp(53)
            },
            Allow {
                peer: dns,
                ports: PortMatch::Range {
                    protocol: Protocol::Udp,
                    first: 53,
                    last: 53
                }
            },
        ])
    );
    let script = render(&rules);
    assert!(script.contains("\t\tip daddr 10.42.1.2 udp dport 53 return\n"));
    assert!(script.contains("\t\tip daddr 10.42.1.2 tcp dport 53 return\n"));
    // Egress is checked before the node's own traffic is let through, ingress after.
    let egress_at = script.find("saddr vmap").unwrap();
    let local_at = script.find("fib saddr type local accept").unwrap();
    assert!(egress_at < local_at);
}

#[test]
fn policies_of_other_namespaces_do_not_apply() {
    let rules = rules(&[policy(
        "other",
        "deny",
        json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
    )]);
    assert_eq!(
        rules,
        NodeRules::default(),
        "outsider is in other, but not on this node"
    );
}

#[test]
fn pods_of_other_nodes_are_not_enforced_here() {
    let rules = rules(&[policy("default", "deny", json!({"podSelector": {}}))]);
    let names: BTreeSet<&str> = rules.pods.iter().map(|pod| pod.name.as_str()).collect();
    assert!(!names.contains("remote"));
    let other_node = compile(
        &state(
            &cluster_pods(),
            &default_namespaces(),
            &[policy("default", "deny", json!({"podSelector": {}}))],
        ),
        "node-b",
    );
    let names: Vec<&str> = other_node
        .pods
        .iter()
        .map(|pod| pod.name.as_str())
        .collect();
    assert_eq!(names, ["remote"]);
}

#[test]
fn host_network_and_addressless_pods_are_neither_targets_nor_peers() {
    let mut host = pod(
        "default",
        "host",
        json!({"app": "client"}),
        "192.168.1.2",
        NODE,
    );
    host.spec.as_mut().unwrap().host_network = Some(true);
    let mut pending = pod(
        "default",
        "pending",
        json!({"app": "client"}),
        "10.42.0.9",
        NODE,
    );
    pending.status.as_mut().unwrap().pod_ip = None;
    pending.status.as_mut().unwrap().pod_ips = None;
    let mut done = pod(
        "default",
        "done",
        json!({"app": "client"}),
        "10.42.0.8",
        NODE,
    );
    done.status.as_mut().unwrap().phase = Some("Succeeded".into());
    let pods = [host, pending, done, cluster_pods().remove(0)];
    let rules = compile(
        &state(
            &pods,
            &default_namespaces(),
            &[policy(
                "default",
                "p",
                json!({"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}]}]}),
            )],
        ),
        NODE,
    );
    let names: Vec<&str> = rules.pods.iter().map(|pod| pod.name.as_str()).collect();
    assert_eq!(names, ["web"]);
    assert_eq!(isolated(&rules, "web").ingress, Some(vec![]));
}

#[test]
fn rules_of_several_policies_add_up() {
    let rules = rules(&[
        policy("default", "deny", json!({"podSelector": {}})),
        policy(
            "default",
            "allow-80",
            json!({"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"ports": [{"port": 80}]}]}),
        ),
        policy(
            "default",
            "allow-client",
            json!({"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}], "ports": [{"port": 443}]}]}),
        ),
    ]);
    assert_eq!(
        isolated(&rules, "web").ingress,
        Some(vec![
            Allow {
                peer: Peer::Any,
                ports: tcp(80)
            },
            Allow {
                peer: addresses(&["10.42.0.3", "10.42.1.5"]),
                ports: tcp(443)
            },
        ])
    );
    assert_eq!(isolated(&rules, "client").ingress, Some(vec![]));
}

#[test]
fn pods_sharing_a_selector_share_one_set() {
    let rules = rules(&[policy(
        "default",
        "p",
        json!({
            "podSelector": {},
            "ingress": [{"from": [{"podSelector": {}}]}],
            "egress": [{"to": [{"podSelector": {}}]}],
        }),
    )]);
    let script = render(&rules);
    assert_eq!(script.matches("\tset pods-ip-").count(), 1);
    assert_eq!(script.matches("@pods-ip-0 return").count(), 4);
}

#[test]
fn the_table_is_applied_only_when_it_changes() {
    let nft = RecordingNft::default();
    let mut table = TableSync::default();
    let namespaces = default_namespaces();
    let pods = cluster_pods();
    let empty = state(&pods, &namespaces, &[]);
    assert_eq!(table.sync(&empty, NODE, &nft).unwrap(), Some(0));
    assert_eq!(table.sync(&empty, NODE, &nft).unwrap(), None);
    assert_eq!(nft.scripts().len(), 1);

    let deny = state(
        &pods,
        &namespaces,
        &[policy("default", "deny", json!({"podSelector": {}}))],
    );
    assert_eq!(table.sync(&deny, NODE, &nft).unwrap(), Some(2));
    assert_eq!(nft.scripts().len(), 2);
    assert!(nft.last().unwrap().contains("jump ingress-default/web"));
}
