//! From the cluster's pods, namespaces and policies to what this node enforces: the pure heart
//! of the crate.
//!
//! A pod is isolated in a direction when a policy of its namespace selects it and lists that
//! policy type; it then accepts, in that direction, exactly the union of those policies' rules.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicySpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::cluster::{ClusterState, PodInfo};
use crate::peers::{resolve_peers, PeerTarget};
use crate::ports::{resolve_ports, PortSpec};
use crate::rules::{Allow, IsolatedPod, NodeRules, Peer, PortMatch};
use crate::selector::selector_matches;

/// What node `node_name` enforces for the pods it runs.
pub fn compile(state: &ClusterState, node_name: &str) -> NodeRules {
    let mut claimed_ips = BTreeSet::new();
    let mut pods = Vec::new();
    for pod in state
        .pods
        .iter()
        .filter(|pod| pod.node_name.as_deref() == Some(node_name))
    {
        let mut ingress: Option<Vec<Allow>> = None;
        let mut egress: Option<Vec<Allow>> = None;
        for (policy, spec) in policies_selecting(state, pod) {
            let namespace = policy.metadata.namespace.as_deref().unwrap_or_default();
            let types = PolicyTypes::of(spec);
            if types.ingress {
                let allows = ingress.get_or_insert_with(Vec::new);
                for rule in spec.ingress.iter().flatten() {
                    let peers = resolve_peers(state, namespace, rule.from.as_deref());
                    let ports = resolve_ports(rule.ports.as_deref());
                    allows.extend(ingress_allows(pod, &peers, &ports));
                }
            }
            if types.egress {
                let allows = egress.get_or_insert_with(Vec::new);
                for rule in spec.egress.iter().flatten() {
                    let peers = resolve_peers(state, namespace, rule.to.as_deref());
                    let ports = resolve_ports(rule.ports.as_deref());
                    allows.extend(egress_allows(state, &peers, &ports));
                }
            }
        }
        if ingress.is_none() && egress.is_none() {
            continue;
        }
        // Two live pods never share an address; should a stale one linger, the first keeps it.
        let ips: Vec<IpAddr> = pod
            .ips
            .iter()
            .copied()
            .filter(|ip| claimed_ips.insert(*ip))
            .collect();
        if ips.is_empty() {
            continue;
        }
        pods.push(IsolatedPod {
            namespace: pod.namespace.clone(),
            name: pod.name.clone(),
            ips,
            ingress: ingress.map(normalized),
            egress: egress.map(normalized),
        });
    }
    NodeRules { pods }
}

fn policies_selecting<'a>(
    state: &'a ClusterState,
    pod: &'a PodInfo,
) -> impl Iterator<Item = (&'a NetworkPolicy, &'a NetworkPolicySpec)> + 'a {
    let everything = LabelSelector::default();
    state.policies.iter().filter_map(move |policy| {
        let spec = policy.spec.as_ref()?;
        let selects = policy.metadata.namespace.as_deref() == Some(pod.namespace.as_str())
            && selector_matches(
                spec.pod_selector.as_ref().unwrap_or(&everything),
                &pod.labels,
            );
        selects.then_some((policy, spec))
    })
}

/// The directions a policy isolates; without `policyTypes`, as the API defaults it: Ingress
/// always, Egress when the policy has egress rules.
struct PolicyTypes {
    ingress: bool,
    egress: bool,
}

impl PolicyTypes {
    fn of(spec: &NetworkPolicySpec) -> Self {
        match spec.policy_types.as_deref() {
            Some(types) if !types.is_empty() => Self {
                ingress: types.iter().any(|t| t == "Ingress"),
                egress: types.iter().any(|t| t == "Egress"),
            },
            _ => Self {
                ingress: true,
                egress: spec.egress.as_ref().is_some_and(|rules| !rules.is_empty()),
            },
        }
    }
}

/// One ingress rule of a policy selecting `pod`: named ports are the pod's own.
fn ingress_allows(pod: &PodInfo, peers: &[PeerTarget<'_>], ports: &[PortSpec]) -> Vec<Allow> {
    let ports: Vec<PortMatch> = ports
        .iter()
        .filter_map(|port| port.on_destination(pod))
        .collect();
    peers
        .iter()
        .filter_map(peer_addresses)
        .flat_map(|peer| {
            ports.iter().map(move |ports| Allow {
                peer: peer.clone(),
                ports: *ports,
            })
        })
        .collect()
}

/// One egress rule: named ports are looked up on each destination pod, so they allow only
/// traffic to pods (among the peers) that declare that port.
fn egress_allows(state: &ClusterState, peers: &[PeerTarget<'_>], ports: &[PortSpec]) -> Vec<Allow> {
    let mut allows = Vec::new();
    for target in peers {
        for port in ports {
            match port {
                PortSpec::Fixed(ports) => allows.extend(peer_addresses(target).map(|peer| Allow {
                    peer,
                    ports: *ports,
                })),
                PortSpec::Named { .. } => {
                    let mut by_port: BTreeMap<PortMatch, BTreeSet<IpAddr>> = BTreeMap::new();
                    for pod in state.pods.iter().filter(|pod| target.includes_pod(pod)) {
                        if let Some(ports) = port.on_destination(pod) {
                            by_port.entry(ports).or_default().extend(&pod.ips);
                        }
                    }
                    allows.extend(by_port.into_iter().map(|(ports, ips)| Allow {
                        peer: Peer::Addresses(ips),
                        ports,
                    }));
                }
                PortSpec::Nothing => {}
            }
        }
    }
    allows
}

/// The addresses a peer stands for when ports are known; `None` when it matches nothing.
fn peer_addresses(target: &PeerTarget<'_>) -> Option<Peer> {
    match target {
        PeerTarget::Any => Some(Peer::Any),
        PeerTarget::Pods(pods) => {
            let ips: BTreeSet<IpAddr> = pods
                .iter()
                .flat_map(|pod| pod.ips.iter().copied())
                .collect();
            (!ips.is_empty()).then_some(Peer::Addresses(ips))
        }
        PeerTarget::Block { cidr, except } => Some(Peer::Block {
            cidr: *cidr,
            except: except.clone(),
        }),
        PeerTarget::Nothing => None,
    }
}

fn normalized(mut allows: Vec<Allow>) -> Vec<Allow> {
    allows.sort();
    allows.dedup();
    allows
}

#[cfg(test)]
mod tests;
