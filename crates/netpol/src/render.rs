//! [`NodeRules`] written as one nftables script that replaces the whole `inet r8s-netpol` table
//! in a single transaction.
//!
//! Layout: the `forward` base chain accepts established traffic, then sends packets from an
//! egress-isolated pod to that pod's `egress-…` chain and packets to an ingress-isolated pod to
//! its `ingress-…` chain. Those chains `return` what a rule allows (so traffic between two local
//! pods passes both checks) and drop the rest. Traffic the node itself sends to its pods is always
//! allowed, as upstream requires. Pod address lists are named sets, shared by every rule that
//! names the same pods.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::IpAddr;

use crate::rules::{Allow, IsolatedPod, NodeRules, Peer, PortMatch};

pub const TABLE_FAMILY: &str = "inet";
pub const TABLE_NAME: &str = "r8s-netpol";

/// The longest chain name nftables takes is 255 bytes; longer pod names get numbered chains.
const MAX_CHAIN_NAME: usize = 255;

#[derive(Clone, Copy)]
enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    fn chain_prefix(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }

    /// The address field that holds the peer: the source of ingress, the destination of egress.
    fn peer_field(self) -> &'static str {
        match self {
            Direction::Ingress => "saddr",
            Direction::Egress => "daddr",
        }
    }

    /// The address field that holds the local pod.
    fn pod_field(self) -> &'static str {
        match self {
            Direction::Ingress => "daddr",
            Direction::Egress => "saddr",
        }
    }
}

/// The script that makes the table exactly `rules`.
pub fn render(rules: &NodeRules) -> String {
    let mut sets = AddressSets::default();
    let mut chains = String::new();
    let mut dispatch: BTreeMap<(&'static str, &'static str), Vec<String>> = BTreeMap::new();
    for (index, pod) in rules.pods.iter().enumerate() {
        for (direction, allows) in [
            (Direction::Ingress, &pod.ingress),
            (Direction::Egress, &pod.egress),
        ] {
            let Some(allows) = allows else { continue };
            let chain = chain_name(direction, pod, index);
            write_pod_chain(&mut chains, &mut sets, &chain, direction, pod, allows);
            for ip in &pod.ips {
                let key = (direction.chain_prefix(), family(*ip));
                dispatch
                    .entry(key)
                    .or_default()
                    .push(format!("{ip} : jump {chain}"));
            }
        }
    }

    let mut script = String::new();
    let _ = writeln!(script, "add table {TABLE_FAMILY} {TABLE_NAME}");
    let _ = writeln!(script, "delete table {TABLE_FAMILY} {TABLE_NAME}");
    let _ = writeln!(script, "table {TABLE_FAMILY} {TABLE_NAME} {{");
    sets.write(&mut script);
    script.push_str("\tchain forward {\n");
    script.push_str("\t\ttype filter hook forward priority filter; policy accept;\n");
    script.push_str("\t\tct state established,related accept\n");
    script.push_str("\t\tct state invalid drop\n");
    for direction in [Direction::Egress, Direction::Ingress] {
        if matches!(direction, Direction::Ingress) {
            script.push_str("\t\tfib saddr type local accept\n");
        }
        for family in ["ip", "ip6"] {
            if let Some(entries) = dispatch.get(&(direction.chain_prefix(), family)) {
                let _ = writeln!(
                    script,
                    "\t\t{family} {} vmap {{ {} }}",
                    direction.pod_field(),
                    entries.join(", ")
                );
            }
        }
    }
    script.push_str("\t}\n");
    script.push_str(&chains);
    script.push_str("}\n");
    script
}

fn chain_name(direction: Direction, pod: &IsolatedPod, index: usize) -> String {
    let name = format!(
        "{}-{}/{}",
        direction.chain_prefix(),
        pod.namespace,
        pod.name
    );
    if name.len() <= MAX_CHAIN_NAME {
        name
    } else {
        format!("{}-pod{index}", direction.chain_prefix())
    }
}

fn write_pod_chain(
    out: &mut String,
    sets: &mut AddressSets,
    chain: &str,
    direction: Direction,
    pod: &IsolatedPod,
    allows: &[Allow],
) {
    let _ = writeln!(out, "\tchain {chain} {{");
    let _ = writeln!(
        out,
        "\t\tcomment \"{} of pod {}/{}\"",
        direction.chain_prefix(),
        pod.namespace,
        pod.name
    );
    for allow in allows {
        for peer_match in peer_matches(sets, direction, &allow.peer) {
            let rule = [peer_match, port_match(&allow.ports)]
                .into_iter()
                .filter(|part| !part.is_empty())
                .chain(["return".to_string()])
                .collect::<Vec<_>>()
                .join(" ");
            let _ = writeln!(out, "\t\t{rule}");
        }
    }
    out.push_str("\t\tdrop\n\t}\n");
}

/// The address matches for a peer, one per address family it covers ("" for any address).
fn peer_matches(sets: &mut AddressSets, direction: Direction, peer: &Peer) -> Vec<String> {
    let field = direction.peer_field();
    match peer {
        Peer::Any => vec![String::new()],
        Peer::Addresses(ips) => {
            let (v4, v6): (BTreeSet<IpAddr>, BTreeSet<IpAddr>) =
                ips.iter().partition(|ip| ip.is_ipv4());
            [("ip", v4), ("ip6", v6)]
                .into_iter()
                .filter(|(_, ips)| !ips.is_empty())
                .map(|(family, ips)| format!("{family} {field} {}", sets.reference(family, ips)))
                .collect()
        }
        Peer::Block { cidr, except } => {
            let family = if cidr.is_ipv4() { "ip" } else { "ip6" };
            let mut text = format!("{family} {field} {cidr}");
            if !except.is_empty() {
                let except: Vec<String> = except.iter().map(ToString::to_string).collect();
                let _ = write!(text, " {family} {field} != {{ {} }}", except.join(", "));
            }
            vec![text]
        }
    }
}

fn port_match(ports: &PortMatch) -> String {
    match ports {
        PortMatch::Any => String::new(),
        PortMatch::Protocol(protocol) => format!("meta l4proto {}", protocol.nft_name()),
        PortMatch::Range {
            protocol,
            first,
            last,
        } if first == last => format!("{} dport {first}", protocol.nft_name()),
        PortMatch::Range {
            protocol,
            first,
            last,
        } => format!("{} dport {first}-{last}", protocol.nft_name()),
    }
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "ip"
    } else {
        "ip6"
    }
}

/// Named sets of pod addresses, one per distinct list, so that a list many rules share (the
/// pods of a selector) is written once.
#[derive(Default)]
struct AddressSets {
    /// Family and addresses → the set's number, in order of first use.
    by_content: BTreeMap<(&'static str, BTreeSet<IpAddr>), usize>,
}

impl AddressSets {
    /// How a rule names `ips`: the address itself when there is one, else `@set`.
    fn reference(&mut self, family: &'static str, ips: BTreeSet<IpAddr>) -> String {
        if ips.len() == 1 {
            return ips.iter().map(ToString::to_string).collect();
        }
        let next = self.by_content.len();
        let number = *self.by_content.entry((family, ips)).or_insert(next);
        format!("@{}", set_name(family, number))
    }

    fn write(&self, out: &mut String) {
        let mut sets: Vec<(usize, &'static str, &BTreeSet<IpAddr>)> = self
            .by_content
            .iter()
            .map(|((family, ips), number)| (*number, *family, ips))
            .collect();
        sets.sort_by_key(|(number, _, _)| *number);
        for (number, family, ips) in sets {
            let kind = if family == "ip" {
                "ipv4_addr"
            } else {
                "ipv6_addr"
            };
            let elements: Vec<String> = ips.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                out,
                "\tset {} {{\n\t\ttype {kind}\n\t\telements = {{ {} }}\n\t}}",
                set_name(family, number),
                elements.join(", ")
            );
        }
    }
}

fn set_name(family: &str, number: usize) -> String {
    format!("pods-{family}-{number}")
}
