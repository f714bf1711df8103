//! What one Service contributes to the table: its chains, affinity sets and map elements. Pure:
//! the same ports give the same `ServiceRules`, so a sync compares them with what it applied last.

use std::collections::BTreeMap;

use crate::model::{Endpoint, ServicePort};
use crate::names;
use crate::topology::EndpointSets;

/// Node facts the rules depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    pub node_name: String,
    /// Pod addresses; traffic from elsewhere to a ClusterIP is masqueraded.
    pub cluster_cidr: String,
    /// Virtual IPs; traffic to an unallocated one is dropped.
    pub service_cidr: String,
}

/// An element of a named map or set in the table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ElementKey {
    pub container: &'static str,
    pub key: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceRules {
    /// Chain name → its rules, in order.
    pub chains: BTreeMap<String, Vec<String>>,
    /// Set name → its declaration (`type ...; flags ...; timeout ...;`).
    pub sets: BTreeMap<String, String>,
    /// Element → its verdict in a map, or `None` in a plain set.
    pub elements: BTreeMap<ElementKey, Option<String>>,
}

impl ServiceRules {
    fn chain(&mut self, name: String, rules: Vec<String>) {
        self.chains.insert(name, rules);
    }

    fn element(&mut self, container: &'static str, key: String, value: Option<String>) {
        self.elements
            .entry(ElementKey { container, key })
            .or_insert(value);
    }
}

/// Everything the ports of one Service need.
pub fn service_rules(ports: &[ServicePort], options: &RenderOptions) -> ServiceRules {
    let mut rules = ServiceRules::default();
    for port in ports {
        add_port(&mut rules, port, options);
    }
    rules
}

fn add_port(rules: &mut ServiceRules, port: &ServicePort, options: &RenderOptions) {
    let sets = EndpointSets::of(port, &options.node_name);
    let internal = sets.internal(port);
    let external = sets.external(port);
    let uses_local_chain = port.internal_local || port.external_local;
    let internal_chain = if port.internal_local {
        names::local_chain(port)
    } else {
        names::cluster_chain(port)
    };
    let masquerade_off_cluster = format!(
        "ip daddr {} meta l4proto {} th dport {} ip saddr != {} jump {}",
        port.cluster_ip,
        port.protocol.nft_name(),
        port.port,
        options.cluster_cidr,
        names::MARK_FOR_MASQUERADE
    );

    for endpoint in sets.cluster.iter().chain(sets.local.iter()) {
        add_endpoint(rules, port, endpoint);
    }
    if !sets.cluster.is_empty() {
        let prefix = (!port.internal_local).then(|| masquerade_off_cluster.clone());
        let chain = balancing_rules(port, &sets.cluster, prefix);
        rules.chain(names::cluster_chain(port), chain);
    }
    if uses_local_chain && !sets.local.is_empty() {
        let prefix = port.internal_local.then(|| masquerade_off_cluster.clone());
        let chain = balancing_rules(port, &sets.local, prefix);
        rules.chain(names::local_chain(port), chain);
    }
    if port.has_external_destinations() && !external.is_empty() {
        rules.chain(names::external_chain(port), external_rules(port, options));
    }

    let proto = port.protocol.nft_name();
    let filter_verdict = |usable: &[&Endpoint]| {
        if usable.is_empty() && sets.cluster.is_empty() {
            format!("goto {}", names::REJECT_CHAIN)
        } else {
            "drop".to_string()
        }
    };
    rules.element(names::CLUSTER_IPS, port.cluster_ip.to_string(), None);
    let cluster_ip_key = format!("{} . {} . {}", port.cluster_ip, proto, port.port);
    if internal.is_empty() {
        let verdict = filter_verdict(internal);
        rules.element(names::NO_ENDPOINT_SERVICES, cluster_ip_key, Some(verdict));
    } else {
        let verdict = format!("goto {internal_chain}");
        rules.element(names::SERVICE_IPS, cluster_ip_key, Some(verdict));
    }
    let external_verdict = format!("goto {}", names::external_chain(port));
    for ip in port.external_ips.iter().chain(&port.load_balancer_ips) {
        let key = format!("{ip} . {proto} . {}", port.port);
        if external.is_empty() {
            let verdict = filter_verdict(external);
            rules.element(names::NO_ENDPOINT_SERVICES, key, Some(verdict));
        } else {
            rules.element(names::SERVICE_IPS, key, Some(external_verdict.clone()));
        }
    }
    if let Some(node_port) = port.node_port {
        let key = format!("{proto} . {node_port}");
        if external.is_empty() {
            let verdict = filter_verdict(external);
            rules.element(names::NO_ENDPOINT_NODEPORTS, key, Some(verdict));
        } else {
            rules.element(names::SERVICE_NODEPORTS, key, Some(external_verdict));
        }
    }
}

/// Picks an endpoint: a remembered one for a client with affinity, else one at random.
fn balancing_rules(
    port: &ServicePort,
    endpoints: &[&Endpoint],
    prefix: Option<String>,
) -> Vec<String> {
    let mut chain: Vec<String> = prefix.into_iter().collect();
    if port.affinity_timeout_seconds.is_some() {
        for endpoint in endpoints {
            chain.push(format!(
                "ip saddr @{} goto {}",
                names::affinity_set(port, endpoint),
                names::endpoint_chain(port, endpoint)
            ));
        }
    }
    // A cascade, like kube-proxy's iptables mode: the i-th of n endpoints is taken with
    // probability 1/(n-i), which picks each uniformly. One comparison per rule instead of an
    // anonymous verdict map per service keeps the kernel's work per sync low.
    let count = endpoints.len();
    for (i, endpoint) in endpoints.iter().enumerate() {
        let target = names::endpoint_chain(port, endpoint);
        let remaining = count - i;
        if remaining > 1 {
            chain.push(format!("numgen random mod {remaining} 0 goto {target}"));
        } else {
            chain.push(format!("goto {target}"));
        }
    }
    chain
}

/// NodePort, externalIP and LB traffic. With `externalTrafficPolicy: Cluster` it is masqueraded
/// (the reply must come back through this node); with `Local` the client address is kept and
/// only local endpoints serve, except for pods and the node itself, which use the whole cluster.
fn external_rules(port: &ServicePort, options: &RenderOptions) -> Vec<String> {
    let cluster_chain = names::cluster_chain(port);
    if !port.external_local {
        return vec![
            format!("jump {}", names::MARK_FOR_MASQUERADE),
            format!("goto {cluster_chain}"),
        ];
    }
    vec![
        format!("ip saddr {} goto {cluster_chain}", options.cluster_cidr),
        format!("fib saddr type local jump {}", names::MARK_FOR_MASQUERADE),
        format!("fib saddr type local goto {cluster_chain}"),
        format!("goto {}", names::local_chain(port)),
    ]
}

/// DNAT to one endpoint; a pod reaching itself through its Service (hairpin) is masqueraded so
/// the reply goes back through the bridge instead of straight to itself.
fn add_endpoint(rules: &mut ServiceRules, port: &ServicePort, endpoint: &Endpoint) {
    let name = names::endpoint_chain(port, endpoint);
    if rules.chains.contains_key(&name) {
        return;
    }
    let mut chain = vec![format!(
        "ip saddr {} meta mark set meta mark or {}",
        endpoint.ip,
        names::MASQUERADE_MARK
    )];
    if let Some(timeout) = port.affinity_timeout_seconds {
        let set = names::affinity_set(port, endpoint);
        chain.push(format!("update @{set} {{ ip saddr }}"));
        rules.sets.insert(
            set,
            format!("type ipv4_addr; flags dynamic,timeout; timeout {timeout}s;"),
        );
    }
    chain.push(format!(
        "meta l4proto {} dnat to {}:{}",
        port.protocol.nft_name(),
        endpoint.ip,
        endpoint.port
    ));
    rules.chain(name, chain);
}
