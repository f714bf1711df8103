//! Answers for each shape of name, as CoreDNS's kubernetes plugin gives them.

use std::net::IpAddr;

use hickory_proto::rr::rdata::{CNAME, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::{classify, Lookup, QueryName, Records, ZoneName, TTL};
use crate::objects::{ServiceEntry, ServiceKey, ServiceKind};

/// The version of the Kubernetes DNS schema these records follow.
const SCHEMA_VERSION: &str = "1.1.0";

impl Records {
    /// Answers `name` (any case, trailing dot or not) for `record_type`.
    pub fn lookup(&self, name: &str, record_type: RecordType) -> Lookup {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        match classify(&name, &self.zone) {
            QueryName::Outside => Lookup::Forward,
            QueryName::Reverse(ip) => self.reverse(ip, record_type),
            QueryName::InZone(zone_name) => self.in_zone(&name, &zone_name, record_type),
        }
    }

    /// The zone's SOA, for the authority section of NXDOMAIN and NODATA answers.
    pub fn soa(&self) -> Option<Record> {
        let rdata = SOA::new(
            fqdn(&format!("ns.dns.{}", self.zone))?,
            fqdn(&format!("hostmaster.{}", self.zone))?,
            self.serial,
            7200,
            1800,
            86400,
            TTL,
        );
        Some(record(fqdn(&self.zone)?, RData::SOA(rdata)))
    }

    fn in_zone(&self, name: &str, zone_name: &ZoneName<'_>, record_type: RecordType) -> Lookup {
        let Some(owner) = fqdn(name) else {
            return nx_domain();
        };
        let mut found = Found::default();
        match *zone_name {
            ZoneName::Apex => match record_type {
                RecordType::SOA => found.answers.extend(self.soa()),
                RecordType::NS => self.name_server(&mut found),
                _ => {}
            },
            ZoneName::SchemaVersion => {
                if record_type == RecordType::TXT {
                    found.answer(owner, RData::TXT(TXT::new(vec![SCHEMA_VERSION.into()])));
                }
            }
            ZoneName::NameServer => found.address(owner, self.cluster_dns, record_type),
            ZoneName::EmptyParent => {}
            ZoneName::ServiceNamespace { namespace } => {
                if !self.services_in_namespace.contains_key(namespace) {
                    return nx_domain();
                }
            }
            ZoneName::Service { namespace, service } => {
                let key = ServiceKey::new(namespace, service);
                let Some(entry) = self.services.get(&key) else {
                    return nx_domain();
                };
                self.service(&key, entry, owner, record_type, &mut found);
            }
            ZoneName::Endpoint {
                namespace,
                service,
                endpoint,
            } => {
                let key = ServiceKey::new(namespace, service);
                let Some(entry) = self.headless(&key) else {
                    return nx_domain();
                };
                let ips: Vec<IpAddr> = self
                    .published_endpoints(&key, entry)
                    .into_iter()
                    .filter(|(label, _, _)| label == endpoint)
                    .map(|(_, ip, _)| ip)
                    .collect();
                if ips.is_empty() {
                    return nx_domain();
                }
                for ip in ips {
                    found.address(owner.clone(), ip, record_type);
                }
            }
            ZoneName::PortProtocol {
                namespace,
                service,
                protocol,
            } => {
                let key = ServiceKey::new(namespace, service);
                let has_protocol = self
                    .services
                    .get(&key)
                    .is_some_and(|entry| entry.ports.iter().any(|port| port.protocol == protocol));
                if !has_protocol {
                    return nx_domain();
                }
            }
            ZoneName::Port {
                namespace,
                service,
                port,
                protocol,
            } => {
                let key = ServiceKey::new(namespace, service);
                let Some(entry) = self.services.get(&key) else {
                    return nx_domain();
                };
                if !self.port_service(&key, entry, port, protocol, record_type, &mut found) {
                    return nx_domain();
                }
            }
            ZoneName::PodNamespace => {}
            ZoneName::Pod(ip) => found.address(owner, IpAddr::V4(ip), record_type),
            ZoneName::Missing => return nx_domain(),
        }
        found.into_lookup()
    }

    fn name_server(&self, found: &mut Found) {
        let (Some(apex), Some(server)) = (fqdn(&self.zone), fqdn(&format!("ns.dns.{}", self.zone)))
        else {
            return;
        };
        found.answer(apex, RData::NS(NS(server.clone())));
        found.additional(server, self.cluster_dns);
    }

    fn headless(&self, key: &ServiceKey) -> Option<&ServiceEntry> {
        self.services
            .get(key)
            .filter(|entry| entry.kind == ServiceKind::Headless)
    }

    fn service_name(&self, key: &ServiceKey) -> Option<Name> {
        fqdn(&format!("{}.{}.svc.{}", key.name, key.namespace, self.zone))
    }

    fn service(
        &self,
        key: &ServiceKey,
        entry: &ServiceEntry,
        owner: Name,
        record_type: RecordType,
        found: &mut Found,
    ) {
        match &entry.kind {
            ServiceKind::ExternalName(target) => {
                if let Some(target) = fqdn(target) {
                    found.answer(owner, RData::CNAME(CNAME(target)));
                }
            }
            ServiceKind::ClusterIp(ips) => {
                if record_type == RecordType::SRV {
                    for port in &entry.ports {
                        let (protocol, port_name) = (port.protocol.clone(), port.name.clone());
                        self.port_service(key, entry, &port_name, &protocol, record_type, found);
                    }
                }
                for ip in ips {
                    found.address(owner.clone(), *ip, record_type);
                }
            }
            ServiceKind::Headless => {
                if record_type == RecordType::SRV {
                    for port in &entry.ports {
                        let (protocol, port_name) = (port.protocol.clone(), port.name.clone());
                        self.port_service(key, entry, &port_name, &protocol, record_type, found);
                    }
                }
                for (_, ip, _) in self.published_endpoints(key, entry) {
                    found.address(owner.clone(), ip, record_type);
                }
            }
        }
    }

    /// SRV records for `_<port>._<protocol>.<service>`; false when the Service has no such port.
    fn port_service(
        &self,
        key: &ServiceKey,
        entry: &ServiceEntry,
        port_name: &str,
        protocol: &str,
        record_type: RecordType,
        found: &mut Found,
    ) -> bool {
        let Some(owner) = fqdn(&format!(
            "_{port_name}._{protocol}.{}.{}.svc.{}",
            key.name, key.namespace, self.zone
        )) else {
            return false;
        };
        let Some(service_name) = self.service_name(key) else {
            return false;
        };
        let matches =
            |port: &&crate::objects::NamedPort| port.name == port_name && port.protocol == protocol;
        match &entry.kind {
            ServiceKind::ExternalName(_) => false,
            ServiceKind::ClusterIp(ips) => {
                let Some(port) = entry.ports.iter().find(matches) else {
                    return false;
                };
                if record_type == RecordType::SRV {
                    let srv = SRV::new(0, 100, port.port, service_name.clone());
                    found.answer(owner, RData::SRV(srv));
                    for ip in ips {
                        found.additional(service_name.clone(), *ip);
                    }
                }
                true
            }
            ServiceKind::Headless => {
                if !entry.ports.iter().any(|port| matches(&port)) {
                    return false;
                }
                let targets: Vec<(Name, IpAddr, u16)> = self
                    .published_endpoints(key, entry)
                    .into_iter()
                    .filter_map(|(label, ip, slice)| {
                        let port = slice.ports.iter().find(matches)?;
                        let target = fqdn(&format!("{label}.{}", service_name.to_ascii()))?;
                        Some((target, ip, port.port))
                    })
                    .collect();
                if record_type == RecordType::SRV {
                    let weight = u16::try_from(100 / targets.len().max(1))
                        .unwrap_or(100)
                        .max(1);
                    for (target, ip, port) in targets {
                        let srv = SRV::new(0, weight, port, target.clone());
                        found.answer(owner.clone(), RData::SRV(srv));
                        found.additional(target, ip);
                    }
                }
                true
            }
        }
    }

    fn reverse(&self, ip: IpAddr, record_type: RecordType) -> Lookup {
        let names = self.names_of(ip);
        if names.is_empty() {
            return Lookup::Forward;
        }
        let mut found = Found::default();
        if record_type == RecordType::PTR {
            let Some(owner) = reverse_name(ip) else {
                return Lookup::Forward;
            };
            for name in names {
                found.answer(owner.clone(), RData::PTR(PTR(name)));
            }
        }
        found.into_lookup()
    }

    /// The cluster names that own `ip`: Services by ClusterIP, headless endpoints by address.
    fn names_of(&self, ip: IpAddr) -> Vec<Name> {
        let mut names = Vec::new();
        for (key, entry) in &self.services {
            match &entry.kind {
                ServiceKind::ClusterIp(ips) if ips.contains(&ip) => {
                    names.extend(self.service_name(key));
                }
                ServiceKind::Headless => {
                    let Some(service_name) = self.service_name(key) else {
                        continue;
                    };
                    for (label, endpoint_ip, _) in self.published_endpoints(key, entry) {
                        if endpoint_ip == ip {
                            names.extend(fqdn(&format!("{label}.{}", service_name.to_ascii())));
                        }
                    }
                }
                _ => {}
            }
        }
        names.sort();
        names
    }
}

/// Records gathered for one answer.
#[derive(Default)]
struct Found {
    answers: Vec<Record>,
    additionals: Vec<Record>,
}

impl Found {
    fn answer(&mut self, owner: Name, rdata: RData) {
        self.answers.push(record(owner, rdata));
    }

    /// An A or AAAA answer for `ip` when the query asks for its family.
    fn address(&mut self, owner: Name, ip: IpAddr, record_type: RecordType) {
        if let Some(rdata) = address_rdata(ip, record_type) {
            self.answer(owner, rdata);
        }
    }

    fn additional(&mut self, owner: Name, ip: IpAddr) {
        let record_type = if ip.is_ipv4() {
            RecordType::A
        } else {
            RecordType::AAAA
        };
        if let Some(rdata) = address_rdata(ip, record_type) {
            self.additionals.push(record(owner, rdata));
        }
    }

    fn into_lookup(self) -> Lookup {
        Lookup::Local {
            nx_domain: false,
            answers: self.answers,
            additionals: self.additionals,
        }
    }
}

fn address_rdata(ip: IpAddr, record_type: RecordType) -> Option<RData> {
    match (ip, record_type) {
        (IpAddr::V4(ip), RecordType::A) => Some(RData::A(ip.into())),
        (IpAddr::V6(ip), RecordType::AAAA) => Some(RData::AAAA(ip.into())),
        _ => None,
    }
}

fn nx_domain() -> Lookup {
    Lookup::Local {
        nx_domain: true,
        answers: Vec::new(),
        additionals: Vec::new(),
    }
}

fn record(owner: Name, rdata: RData) -> Record {
    Record::from_rdata(owner, TTL, rdata)
}

/// `name` made fully qualified; `None` when it is not a valid DNS name.
pub(super) fn fqdn(name: &str) -> Option<Name> {
    Name::from_ascii(format!("{}.", name.trim_end_matches('.'))).ok()
}

fn reverse_name(ip: IpAddr) -> Option<Name> {
    match ip {
        IpAddr::V4(ip) => {
            let [a, b, c, d] = ip.octets();
            fqdn(&format!("{d}.{c}.{b}.{a}.in-addr.arpa"))
        }
        IpAddr::V6(_) => None,
    }
}
