//! Which addresses a rule's `from`/`to` peer stands for.

use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::cidr::Cidr;
use crate::cluster::{ClusterState, PodInfo};
use crate::selector::selector_matches;

/// One peer of a rule, resolved against the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerTarget<'a> {
    /// No peers at all in the rule: every address.
    Any,
    /// The pods a pod and/or namespace selector picks.
    Pods(Vec<&'a PodInfo>),
    /// An `ipBlock`.
    Block { cidr: Cidr, except: Vec<Cidr> },
    /// A peer that matches nothing (an unparsable block, a peer with no selector).
    Nothing,
}

/// The targets of a rule's peer list; an empty or missing list means every address.
pub fn resolve_peers<'a>(
    state: &'a ClusterState,
    policy_namespace: &str,
    peers: Option<&[NetworkPolicyPeer]>,
) -> Vec<PeerTarget<'a>> {
    match peers {
        None | Some([]) => vec![PeerTarget::Any],
        Some(peers) => peers
            .iter()
            .map(|peer| resolve_peer(state, policy_namespace, peer))
            .collect(),
    }
}

fn resolve_peer<'a>(
    state: &'a ClusterState,
    policy_namespace: &str,
    peer: &NetworkPolicyPeer,
) -> PeerTarget<'a> {
    if let Some(block) = &peer.ip_block {
        let Ok(cidr) = block.cidr.parse::<Cidr>() else {
            return PeerTarget::Nothing;
        };
        let except = block
            .except
            .iter()
            .flatten()
            .filter_map(|text| text.parse::<Cidr>().ok())
            .filter(|excepted| excepted.is_ipv4() == cidr.is_ipv4())
            .collect();
        return PeerTarget::Block {
            cidr,
            except: outermost(except),
        };
    }
    let namespace_matches = |namespace: &str| match &peer.namespace_selector {
        // Without a namespace selector a pod selector looks only in the policy's namespace.
        None => namespace == policy_namespace,
        Some(selector) => selector_matches(selector, &state.namespace_labels(namespace)),
    };
    if peer.namespace_selector.is_none() && peer.pod_selector.is_none() {
        return PeerTarget::Nothing;
    }
    let everything = LabelSelector::default();
    let pod_selector = peer.pod_selector.as_ref().unwrap_or(&everything);
    PeerTarget::Pods(
        state
            .pods
            .iter()
            .filter(|pod| namespace_matches(&pod.namespace))
            .filter(|pod| selector_matches(pod_selector, &pod.labels))
            .collect(),
    )
}

/// The networks not inside another of the list, sorted: nftables refuses overlapping
/// intervals in one set, and an inner network adds nothing to an outer one.
fn outermost(mut networks: Vec<Cidr>) -> Vec<Cidr> {
    networks.sort_by_key(|network| (network.prefix(), *network));
    let mut kept: Vec<Cidr> = Vec::new();
    for network in networks {
        if !kept.iter().any(|outer| outer.covers(&network)) {
            kept.push(network);
        }
    }
    kept.sort();
    kept
}

impl PeerTarget<'_> {
    /// Whether `pod` is one of the addresses this target stands for.
    pub fn includes_pod(&self, pod: &PodInfo) -> bool {
        match self {
            PeerTarget::Any => true,
            PeerTarget::Pods(pods) => pods.iter().any(|p| p == &pod),
            PeerTarget::Block { cidr, except } => pod
                .ips
                .iter()
                .any(|ip| cidr.contains(*ip) && !except.iter().any(|e| e.contains(*ip))),
            PeerTarget::Nothing => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn nested_excepts_collapse_into_the_outer_one() {
        assert_eq!(
            outermost(cidrs(&[
                "10.1.2.0/24",
                "10.1.0.0/16",
                "10.2.0.0/16",
                "10.1.0.0/16"
            ])),
            cidrs(&["10.1.0.0/16", "10.2.0.0/16"])
        );
    }
}
