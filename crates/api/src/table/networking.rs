//! Services and their endpoints, ingresses, network policies, service CIDRs and IP addresses.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::{json, Value};

use super::fields::{age, formatted_label_selector, int, list, name, text, text_or};
use super::printer::Printer;
use super::Column;
use crate::selector::format_labels;

pub(crate) const SERVICE: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Type", "How the service is exposed."),
        Column::text(
            "Cluster-IP",
            "The IP address of the service inside the cluster.",
        ),
        Column::text(
            "External-IP",
            "Addresses the service is reachable at from outside.",
        ),
        Column::text("Port(s)", "The ports the service exposes."),
        Column::age(),
        Column::text("Selector", "The labels of the pods the service routes to.").wide(),
    ],
    cells: service_cells,
};

/// Load-balancer ingress points (IP, else hostname), sorted and deduplicated.
fn load_balancer_addresses(ingress: &[Value]) -> Vec<String> {
    let addresses: BTreeSet<String> = ingress
        .iter()
        .filter_map(|point| {
            [text(point, "/ip"), text(point, "/hostname")]
                .into_iter()
                .find(|a| !a.is_empty())
                .map(str::to_string)
        })
        .collect();
    addresses.into_iter().collect()
}

fn external_ip(service: &Value) -> String {
    let external_ips: Vec<&str> = list(service, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match text(service, "/spec/type") {
        "ClusterIP" | "NodePort" | "" if !external_ips.is_empty() => external_ips.join(","),
        "ClusterIP" | "NodePort" | "" => "<none>".to_string(),
        "LoadBalancer" => {
            let mut addresses =
                load_balancer_addresses(list(service, "/status/loadBalancer/ingress"));
            addresses.extend(external_ips.iter().map(|ip| ip.to_string()));
            if addresses.is_empty() {
                "<pending>".to_string()
            } else {
                addresses.join(",")
            }
        }
        "ExternalName" => text(service, "/spec/externalName").to_string(),
        _ => "<unknown>".to_string(),
    }
}

fn service_ports(service: &Value) -> String {
    let ports: Vec<String> = list(service, "/spec/ports")
        .iter()
        .map(|port| {
            let protocol = text_or(port, "/protocol", "TCP");
            match int(port, "/nodePort") {
                0 => format!("{}/{protocol}", int(port, "/port")),
                node_port => format!("{}:{node_port}/{protocol}", int(port, "/port")),
            }
        })
        .collect();
    if ports.is_empty() {
        "<none>".to_string()
    } else {
        ports.join(",")
    }
}

fn service_cells(service: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(service)),
        json!(text_or(service, "/spec/type", "ClusterIP")),
        json!(text_or(service, "/spec/clusterIPs/0", "<none>")),
        json!(external_ip(service)),
        json!(service_ports(service)),
        json!(age(service, now)),
        json!(format_labels(service.pointer("/spec/selector"))),
    ]
}

/// At most three entries, then " + N more...".
fn first_three(entries: &[String], total: usize) -> String {
    let shown = entries
        .iter()
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join(",");
    if total > 3 {
        format!("{shown} + {} more...", total - 3)
    } else {
        shown
    }
}

fn host_port(ip: &str, port: i64) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

pub(crate) const ENDPOINTS: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Endpoints", "The addresses and ports backing the service."),
        Column::age(),
    ],
    cells: endpoints_cells,
};

fn endpoints_cells(endpoints: &Value, now: Timestamp) -> Vec<Value> {
    let subsets = list(endpoints, "/subsets");
    let text_cell = if subsets.is_empty() {
        "<none>".to_string()
    } else {
        let mut shown = Vec::new();
        for subset in subsets {
            let addresses = list(subset, "/addresses");
            let ports = list(subset, "/ports");
            if ports.is_empty() {
                shown.extend(addresses.iter().map(|a| text(a, "/ip").to_string()));
            } else {
                for port in ports {
                    shown.extend(
                        addresses
                            .iter()
                            .map(|a| host_port(text(a, "/ip"), int(port, "/port"))),
                    );
                }
            }
        }
        first_three(&shown, shown.len())
    };
    vec![
        json!(name(endpoints)),
        json!(text_cell),
        json!(age(endpoints, now)),
    ]
}

pub(crate) const ENDPOINT_SLICE: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("AddressType", "The type of the addresses in the slice."),
        Column::text("Ports", "The ports of the endpoints."),
        Column::text("Endpoints", "The addresses of the endpoints."),
        Column::age(),
    ],
    cells: endpoint_slice_cells,
};

/// Joined entries, at most three, "<unset>" when there are none.
fn listed_or_unset(entries: &[String]) -> String {
    if entries.is_empty() {
        "<unset>".to_string()
    } else {
        first_three(entries, entries.len())
    }
}

fn endpoint_slice_cells(slice: &Value, now: Timestamp) -> Vec<Value> {
    let ports: Vec<String> = list(slice, "/ports")
        .iter()
        .map(|port| match port.get("port").and_then(Value::as_i64) {
            Some(number) => number.to_string(),
            None => text_or(port, "/name", "*"),
        })
        .collect();
    let addresses: Vec<String> = list(slice, "/endpoints")
        .iter()
        .flat_map(|endpoint| list(endpoint, "/addresses"))
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    vec![
        json!(name(slice)),
        json!(text(slice, "/addressType")),
        json!(listed_or_unset(&ports)),
        json!(listed_or_unset(&addresses)),
        json!(age(slice, now)),
    ]
}

pub(crate) const INGRESS: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text(
            "Class",
            "The name of the IngressClass resource that should be used for additional configuration",
        ),
        Column::text(
            "Hosts",
            "Hosts that incoming requests are matched against before the ingress rule",
        ),
        Column::text(
            "Address",
            "Address is a list containing ingress points for the load-balancer",
        ),
        Column::text("Ports", "Ports of TLS configurations that open"),
        Column::age(),
    ],
    cells: ingress_cells,
};

fn ingress_hosts(ingress: &Value) -> String {
    let rules = list(ingress, "/spec/rules");
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if hosts.len() == 3 {
            more = true;
            break;
        }
        let host = text(rule, "/host");
        if !host.is_empty() {
            hosts.push(host);
        }
    }
    if hosts.is_empty() {
        return "*".to_string();
    }
    if more {
        format!("{} + {} more...", hosts.join(","), rules.len() - 3)
    } else {
        hosts.join(",")
    }
}

fn ingress_cells(ingress: &Value, now: Timestamp) -> Vec<Value> {
    let ports = if list(ingress, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        json!(name(ingress)),
        json!(text_or(ingress, "/spec/ingressClassName", "<none>")),
        json!(ingress_hosts(ingress)),
        json!(load_balancer_addresses(list(ingress, "/status/loadBalancer/ingress")).join(",")),
        json!(ports),
        json!(age(ingress, now)),
    ]
}

pub(crate) const INGRESS_CLASS: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text(
            "Controller",
            "Controller that is responsible for handling this class",
        ),
        Column::text(
            "Parameters",
            "A reference to a resource with additional parameters",
        ),
        Column::age(),
    ],
    cells: ingress_class_cells,
};

fn ingress_class_cells(class: &Value, now: Timestamp) -> Vec<Value> {
    let parameters = match class.pointer("/spec/parameters").filter(|p| p.is_object()) {
        None => "<none>".to_string(),
        Some(p) => {
            let kind = match text(p, "/apiGroup") {
                "" => text(p, "/kind").to_string(),
                group => format!("{}.{group}", text(p, "/kind")),
            };
            format!("{kind}/{}", text(p, "/name"))
        }
    };
    vec![
        json!(name(class)),
        json!(text(class, "/spec/controller")),
        json!(parameters),
        json!(age(class, now)),
    ]
}

pub(crate) const NETWORK_POLICY: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Pod-Selector", "The pods the policy applies to."),
        Column::age(),
    ],
    cells: network_policy_cells,
};

fn network_policy_cells(policy: &Value, now: Timestamp) -> Vec<Value> {
    let selector = policy
        .pointer("/spec/podSelector")
        .cloned()
        .unwrap_or_else(|| json!({}));
    vec![
        json!(name(policy)),
        json!(formatted_label_selector(Some(&selector))),
        json!(age(policy, now)),
    ]
}

pub(crate) const SERVICE_CIDR: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text(
            "CIDRs",
            "The IP ranges service addresses are allocated from.",
        ),
        Column::age(),
    ],
    cells: service_cidr_cells,
};

fn service_cidr_cells(object: &Value, now: Timestamp) -> Vec<Value> {
    let cidrs: Vec<&str> = list(object, "/spec/cidrs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    vec![
        json!(name(object)),
        json!(cidrs.join(",")),
        json!(age(object, now)),
    ]
}

pub(crate) const IP_ADDRESS: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("ParentRef", "The object the address is allocated to."),
    ],
    cells: ip_address_cells,
};

fn ip_address_cells(object: &Value, _now: Timestamp) -> Vec<Value> {
    let parent = match object.pointer("/spec/parentRef").filter(|p| p.is_object()) {
        None => "<none>".to_string(),
        Some(p) => {
            let mut text_cell = match text(p, "/group") {
                "" => text(p, "/resource").to_lowercase(),
                group => format!("{}.{group}", text(p, "/resource")).to_lowercase(),
            };
            if !text(p, "/namespace").is_empty() {
                text_cell = format!("{text_cell}/{}", text(p, "/namespace"));
            }
            format!("{text_cell}/{}", text(p, "/name"))
        }
    };
    vec![json!(name(object)), json!(parent)]
}
