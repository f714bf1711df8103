//! What a query name means to the cluster zone: which object it asks about, judged from its
//! labels alone.

use std::net::{IpAddr, Ipv4Addr};

/// A query name as the cluster sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryName<'a> {
    /// A name under the cluster domain.
    InZone(ZoneName<'a>),
    /// `d.c.b.a.in-addr.arpa`: a reverse lookup of an IPv4 address.
    Reverse(IpAddr),
    /// Anything else: forwarded upstream.
    Outside,
}

/// The shapes of names under the cluster domain (kubernetes/dns docs/specification.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZoneName<'a> {
    /// `<zone>`
    Apex,
    /// `dns-version.<zone>`
    SchemaVersion,
    /// `ns.dns.<zone>`: the cluster DNS server itself.
    NameServer,
    /// `svc.<zone>`, `pod.<zone>`, `dns.<zone>`: names that exist only as parents.
    EmptyParent,
    /// `<namespace>.svc.<zone>`
    ServiceNamespace { namespace: &'a str },
    /// `<service>.<namespace>.svc.<zone>`
    Service {
        namespace: &'a str,
        service: &'a str,
    },
    /// `<endpoint>.<service>.<namespace>.svc.<zone>`: a headless Service's endpoint by hostname or
    /// dashed IP.
    Endpoint {
        namespace: &'a str,
        service: &'a str,
        endpoint: &'a str,
    },
    /// `_<protocol>.<service>.<namespace>.svc.<zone>`: the parent of port names.
    PortProtocol {
        namespace: &'a str,
        service: &'a str,
        protocol: &'a str,
    },
    /// `_<port>._<protocol>.<service>.<namespace>.svc.<zone>`
    Port {
        namespace: &'a str,
        service: &'a str,
        port: &'a str,
        protocol: &'a str,
    },
    /// `<namespace>.pod.<zone>`
    PodNamespace,
    /// `a-b-c-d.<namespace>.pod.<zone>`
    Pod(Ipv4Addr),
    /// Under the zone, but no name of this shape can exist.
    Missing,
}

/// Classifies `name` (lower case, no trailing dot) against `zone` (lower case, no trailing dot).
pub fn classify<'a>(name: &'a str, zone: &str) -> QueryName<'a> {
    if name == zone {
        return QueryName::InZone(ZoneName::Apex);
    }
    if let Some(relative) = name
        .strip_suffix(zone)
        .and_then(|rest| rest.strip_suffix('.'))
    {
        let labels: Vec<&str> = relative.split('.').rev().collect();
        return QueryName::InZone(classify_in_zone(&labels));
    }
    match reverse_ipv4(name) {
        Some(ip) => QueryName::Reverse(IpAddr::V4(ip)),
        None => QueryName::Outside,
    }
}

/// `labels` run from the zone outwards: `web.default.svc` is `["svc", "default", "web"]`.
fn classify_in_zone<'a>(labels: &[&'a str]) -> ZoneName<'a> {
    match labels {
        ["dns-version"] => ZoneName::SchemaVersion,
        ["dns", "ns"] => ZoneName::NameServer,
        ["svc"] | ["pod"] | ["dns"] => ZoneName::EmptyParent,
        ["svc", namespace] => ZoneName::ServiceNamespace { namespace },
        ["svc", namespace, service] => ZoneName::Service { namespace, service },
        ["svc", namespace, service, endpoint] => match endpoint.strip_prefix('_') {
            Some(protocol) => ZoneName::PortProtocol {
                namespace,
                service,
                protocol,
            },
            None => ZoneName::Endpoint {
                namespace,
                service,
                endpoint,
            },
        },
        ["svc", namespace, service, protocol, port] => {
            match (protocol.strip_prefix('_'), port.strip_prefix('_')) {
                (Some(protocol), Some(port)) => ZoneName::Port {
                    namespace,
                    service,
                    port,
                    protocol,
                },
                _ => ZoneName::Missing,
            }
        }
        ["pod", _] => ZoneName::PodNamespace,
        ["pod", _, dashed] => match dashed_ipv4(dashed) {
            Some(ip) => ZoneName::Pod(ip),
            None => ZoneName::Missing,
        },
        _ => ZoneName::Missing,
    }
}

/// `10-42-0-7` → 10.42.0.7
pub fn dashed_ipv4(label: &str) -> Option<Ipv4Addr> {
    label.replace('-', ".").parse().ok()
}

/// 10.42.0.7 → `10-42-0-7`; IPv6 colons become dashes too.
pub fn dashed(ip: IpAddr) -> String {
    ip.to_string().replace(['.', ':'], "-")
}

fn reverse_ipv4(name: &str) -> Option<Ipv4Addr> {
    let reversed = name.strip_suffix(".in-addr.arpa")?;
    let octets: Vec<u8> = reversed
        .split('.')
        .map(|octet| octet.parse().ok())
        .collect::<Option<_>>()?;
    match octets.as_slice() {
        [d, c, b, a] => Some(Ipv4Addr::new(*a, *b, *c, *d)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONE: &str = "cluster.local";

    #[test]
    fn service_names() {
        assert_eq!(
            classify("web.default.svc.cluster.local", ZONE),
            QueryName::InZone(ZoneName::Service {
                namespace: "default",
                service: "web"
            })
        );
        assert_eq!(
            classify("_http._tcp.web.default.svc.cluster.local", ZONE),
            QueryName::InZone(ZoneName::Port {
                namespace: "default",
                service: "web",
                port: "http",
                protocol: "tcp"
            })
        );
        assert_eq!(
            classify("web-0.web.default.svc.cluster.local", ZONE),
            QueryName::InZone(ZoneName::Endpoint {
                namespace: "default",
                service: "web",
                endpoint: "web-0"
            })
        );
    }

    #[test]
    fn pods_reverse_and_outside() {
        assert_eq!(
            classify("10-42-0-7.default.pod.cluster.local", ZONE),
            QueryName::InZone(ZoneName::Pod(Ipv4Addr::new(10, 42, 0, 7)))
        );
        assert_eq!(
            classify("x.default.pod.cluster.local", ZONE),
            QueryName::InZone(ZoneName::Missing)
        );
        assert_eq!(
            classify("10.0.43.10.in-addr.arpa", ZONE),
            QueryName::Reverse(IpAddr::V4(Ipv4Addr::new(10, 43, 0, 10)))
        );
        assert_eq!(classify("example.com", ZONE), QueryName::Outside);
        assert_eq!(classify("notcluster.local", ZONE), QueryName::Outside);
        assert_eq!(
            classify("a.b.c.d.e.svc.cluster.local", ZONE),
            QueryName::InZone(ZoneName::Missing)
        );
    }
}
