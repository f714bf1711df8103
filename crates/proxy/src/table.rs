//! The whole `ip r8s` table as one `nft -f` script: the fixed skeleton (hooks, dispatch maps,
//! masquerading, reject/drop filters) plus every Service's chains, sets and map elements.
//! `add table; delete table; table { ... }` replaces whatever was there in one transaction.

use std::collections::BTreeMap;
use std::fmt::Write;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::model::{service_ports, ServiceKey};
use crate::names::{self, TABLE};
use crate::rules::{service_rules, ElementKey, RenderOptions, ServiceRules};

/// The declarations of the table's dispatch maps and sets, by name.
const CONTAINERS: [(&str, &str); 5] = [
    (
        names::SERVICE_IPS,
        "type ipv4_addr . inet_proto . inet_service : verdict;",
    ),
    (
        names::SERVICE_NODEPORTS,
        "type inet_proto . inet_service : verdict;",
    ),
    (
        names::NO_ENDPOINT_SERVICES,
        "type ipv4_addr . inet_proto . inet_service : verdict;",
    ),
    (
        names::NO_ENDPOINT_NODEPORTS,
        "type inet_proto . inet_service : verdict;",
    ),
    (names::CLUSTER_IPS, "type ipv4_addr;"),
];

/// The full ruleset for these objects: what a full resync applies. Used by `r8s bench services`.
pub fn full_ruleset(
    services: &[Service],
    slices: &[EndpointSlice],
    options: &RenderOptions,
) -> String {
    full_script(&render_all(services, slices, options), options)
}

/// One Service's rules (`None` when it is gone or needs nothing, like a headless Service).
pub fn render_service(
    service: Option<&Service>,
    slices: &[&EndpointSlice],
    options: &RenderOptions,
) -> Option<ServiceRules> {
    let rules = service_rules(&service_ports(service?, slices), options);
    (rules != ServiceRules::default()).then_some(rules)
}

/// Every Service's rules, keyed by Service.
pub fn render_all<'a>(
    services: impl IntoIterator<Item = &'a Service>,
    slices: impl IntoIterator<Item = &'a EndpointSlice>,
    options: &RenderOptions,
) -> BTreeMap<ServiceKey, ServiceRules> {
    let mut slices_by_service: BTreeMap<ServiceKey, Vec<&EndpointSlice>> = BTreeMap::new();
    for slice in slices {
        if let Some(key) = ServiceKey::of_slice(slice) {
            slices_by_service.entry(key).or_default().push(slice);
        }
    }
    services
        .into_iter()
        .filter_map(|service| {
            let key = ServiceKey::of_service(service);
            let own = slices_by_service
                .get(&key)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            Some((key, render_service(Some(service), own, options)?))
        })
        .collect()
}

/// The script that replaces the table with the skeleton plus `services`.
pub fn full_script(
    services: &BTreeMap<ServiceKey, ServiceRules>,
    options: &RenderOptions,
) -> String {
    let mut elements: BTreeMap<&ElementKey, &Option<String>> = BTreeMap::new();
    for rules in services.values() {
        for (key, value) in &rules.elements {
            elements.entry(key).or_insert(value);
        }
    }
    let mut out = String::with_capacity(256 * 1024);
    let _ = writeln!(
        out,
        "add table ip {TABLE}\ndelete table ip {TABLE}\ntable ip {TABLE} {{"
    );
    for (name, declaration) in CONTAINERS {
        let kind = if declaration.contains(": verdict") {
            "map"
        } else {
            "set"
        };
        let _ = write!(out, "\t{kind} {name} {{ {declaration}");
        let mut members = elements
            .iter()
            .filter(|(key, _)| key.container == name)
            .peekable();
        if members.peek().is_some() {
            out.push_str(" elements = { ");
            for (i, (key, value)) in members.enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&key.key);
                if let Some(value) = value {
                    let _ = write!(out, " : {value}");
                }
            }
            out.push_str(" }");
        }
        out.push_str(" }\n");
    }
    for (name, rules) in skeleton_chains(options) {
        write_chain(&mut out, name, &rules);
    }
    for rules in services.values() {
        for (name, declaration) in &rules.sets {
            let _ = writeln!(out, "\tset {name} {{ {declaration} }}");
        }
        for (name, chain) in &rules.chains {
            write_chain(&mut out, name, chain);
        }
    }
    out.push_str("}\n");
    out
}

fn write_chain(out: &mut String, name: &str, rules: &[String]) {
    let _ = writeln!(out, "\tchain {name} {{");
    for rule in rules {
        let _ = writeln!(out, "\t\t{rule}");
    }
    out.push_str("\t}\n");
}

/// The fixed chains. Priorities follow kube-proxy: NAT at dstnat/srcnat, the filters just
/// before NAT (`-110`) so a Service without endpoints is rejected before anything else sees it.
fn skeleton_chains(options: &RenderOptions) -> Vec<(&'static str, Vec<String>)> {
    let mark = names::MASQUERADE_MARK;
    let base = |hook: &str, priority: &str, kind: &str| {
        format!("type {kind} hook {hook} priority {priority}; policy accept;")
    };
    vec![
        (
            names::MARK_FOR_MASQUERADE,
            vec![format!("meta mark set meta mark or {mark}")],
        ),
        (
            "masquerading",
            vec![
                format!("meta mark & {mark} == 0 return"),
                format!("meta mark set meta mark xor {mark}"),
                "masquerade fully-random".to_string(),
            ],
        ),
        (
            "services",
            vec![
                format!(
                    "ip daddr . meta l4proto . th dport vmap @{}",
                    names::SERVICE_IPS
                ),
                format!(
                    "ip daddr != 127.0.0.0/8 fib daddr type local meta l4proto . th dport vmap @{}",
                    names::SERVICE_NODEPORTS
                ),
            ],
        ),
        (
            "nat-prerouting",
            vec![base("prerouting", "dstnat", "nat"), "jump services".into()],
        ),
        (
            "nat-output",
            vec![base("output", "-100", "nat"), "jump services".into()],
        ),
        (
            "nat-postrouting",
            vec![
                base("postrouting", "srcnat", "nat"),
                "jump masquerading".into(),
            ],
        ),
        (names::REJECT_CHAIN, vec!["reject".to_string()]),
        (
            "service-endpoints-check",
            vec![format!(
                "ip daddr . meta l4proto . th dport vmap @{}",
                names::NO_ENDPOINT_SERVICES
            )],
        ),
        (
            "nodeport-endpoints-check",
            vec![format!(
                "ip daddr != 127.0.0.0/8 fib daddr type local meta l4proto . th dport vmap @{}",
                names::NO_ENDPOINT_NODEPORTS
            )],
        ),
        (
            "cluster-ips-check",
            vec![
                format!("ip daddr @{} reject", names::CLUSTER_IPS),
                format!("ip daddr {} drop", options.service_cidr),
            ],
        ),
        (
            "filter-input",
            vec![
                base("input", "-110", "filter"),
                "ct state new jump nodeport-endpoints-check".into(),
                "ct state new jump service-endpoints-check".into(),
                "ct state new jump cluster-ips-check".into(),
            ],
        ),
        (
            "filter-forward",
            vec![
                base("forward", "-110", "filter"),
                "ct state new jump service-endpoints-check".into(),
                "ct state new jump cluster-ips-check".into(),
            ],
        ),
        (
            "filter-output",
            vec![
                base("output", "-110", "filter"),
                "ct state new jump service-endpoints-check".into(),
            ],
        ),
        (
            "filter-output-post-dnat",
            vec![
                base("output", "-90", "filter"),
                "ct state new jump cluster-ips-check".into(),
            ],
        ),
    ]
}
