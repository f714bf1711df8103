use std::net::IpAddr;

use hickory_proto::rr::{Record, RecordType};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::json;

use super::{Lookup, Records};
use crate::objects::{service_entry, slice_entry, slice_key};

fn records() -> Records {
    let mut records = Records::new("cluster.local", IpAddr::from([10, 43, 0, 10]));
    add_service(
        &mut records,
        json!({"metadata": {"name": "web", "namespace": "default"},
               "spec": {"clusterIP": "10.43.0.20", "clusterIPs": ["10.43.0.20"],
                        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"port": 81}]}}),
    );
    add_service(
        &mut records,
        json!({"metadata": {"name": "db", "namespace": "data"},
               "spec": {"clusterIP": "None", "ports": [{"name": "pg", "port": 5432}]}}),
    );
    add_slice(
        &mut records,
        json!({"metadata": {"name": "db-abc", "namespace": "data",
                            "labels": {"kubernetes.io/service-name": "db"}},
               "addressType": "IPv4",
               "endpoints": [
                   {"addresses": ["10.42.0.5"], "conditions": {"ready": true}, "hostname": "db-0"},
                   {"addresses": ["10.42.1.6"], "conditions": {"ready": true}},
                   {"addresses": ["10.42.1.7"], "conditions": {"ready": false}}],
               "ports": [{"name": "pg", "port": 5433, "protocol": "TCP"}]}),
    );
    add_service(
        &mut records,
        json!({"metadata": {"name": "ext", "namespace": "default"},
               "spec": {"type": "ExternalName", "externalName": "example.com"}}),
    );
    records
}

fn add_service(records: &mut Records, service: serde_json::Value) {
    let service: Service = serde_json::from_value(service).unwrap();
    let (key, entry) = service_entry(&service).unwrap();
    records.upsert_service(key, entry);
}

fn add_slice(records: &mut Records, slice: serde_json::Value) {
    let slice: EndpointSlice = serde_json::from_value(slice).unwrap();
    let (service, entry) = slice_entry(&slice).unwrap();
    records.upsert_slice(slice_key(&slice).unwrap(), service, entry);
}

/// `(nx_domain, answers as "name type data")`
fn answer(records: &Records, name: &str, record_type: RecordType) -> (bool, Vec<String>) {
    match records.lookup(name, record_type) {
        Lookup::Local {
            nx_domain, answers, ..
        } => (nx_domain, answers.iter().map(show).collect()),
        Lookup::Forward => panic!("{name} was forwarded"),
    }
}

fn show(record: &Record) -> String {
    format!(
        "{} {} {} {}",
        record.name,
        record.ttl,
        record.record_type(),
        record.data
    )
}

fn ok(answers: &[&str]) -> (bool, Vec<String>) {
    (false, answers.iter().map(|a| a.to_string()).collect())
}

#[test]
fn cluster_ip_service_resolves_to_its_cluster_ip() {
    assert_eq!(
        answer(&records(), "web.default.svc.cluster.local.", RecordType::A),
        ok(&["web.default.svc.cluster.local. 5 A 10.43.0.20"])
    );
    assert_eq!(
        answer(&records(), "WEB.Default.svc.cluster.local", RecordType::A),
        ok(&["web.default.svc.cluster.local. 5 A 10.43.0.20"])
    );
}

#[test]
fn aaaa_in_an_ipv4_cluster_is_nodata() {
    assert_eq!(
        answer(
            &records(),
            "web.default.svc.cluster.local.",
            RecordType::AAAA
        ),
        ok(&[])
    );
}

#[test]
fn headless_service_resolves_to_ready_endpoints() {
    assert_eq!(
        answer(&records(), "db.data.svc.cluster.local.", RecordType::A),
        ok(&[
            "db.data.svc.cluster.local. 5 A 10.42.0.5",
            "db.data.svc.cluster.local. 5 A 10.42.1.6"
        ])
    );
}

#[test]
fn publish_not_ready_addresses_includes_every_endpoint() {
    let mut records = records();
    add_service(
        &mut records,
        json!({"metadata": {"name": "db", "namespace": "data"},
               "spec": {"clusterIP": "None", "publishNotReadyAddresses": true}}),
    );
    let (_, answers) = answer(&records, "db.data.svc.cluster.local.", RecordType::A);
    assert_eq!(answers.len(), 3);
}

#[test]
fn headless_endpoints_have_names_by_hostname_or_dashed_ip() {
    assert_eq!(
        answer(&records(), "db-0.db.data.svc.cluster.local.", RecordType::A),
        ok(&["db-0.db.data.svc.cluster.local. 5 A 10.42.0.5"])
    );
    assert_eq!(
        answer(
            &records(),
            "10-42-1-6.db.data.svc.cluster.local.",
            RecordType::A
        ),
        ok(&["10-42-1-6.db.data.svc.cluster.local. 5 A 10.42.1.6"])
    );
    assert!(
        answer(
            &records(),
            "10-42-1-7.db.data.svc.cluster.local.",
            RecordType::A
        )
        .0,
        "not-ready endpoints have no name"
    );
}

#[test]
fn named_ports_have_srv_records() {
    let records = records();
    assert_eq!(
        answer(&records, "_http._tcp.web.default.svc.cluster.local.", RecordType::SRV),
        ok(&["_http._tcp.web.default.svc.cluster.local. 5 SRV 0 100 80 web.default.svc.cluster.local."])
    );
    assert_eq!(
        answer(&records, "_pg._tcp.db.data.svc.cluster.local.", RecordType::SRV),
        ok(&[
            "_pg._tcp.db.data.svc.cluster.local. 5 SRV 0 50 5433 db-0.db.data.svc.cluster.local.",
            "_pg._tcp.db.data.svc.cluster.local. 5 SRV 0 50 5433 10-42-1-6.db.data.svc.cluster.local."
        ])
    );
    assert!(
        answer(
            &records,
            "_http._udp.web.default.svc.cluster.local.",
            RecordType::SRV
        )
        .0
    );
    let Lookup::Local { additionals, .. } =
        records.lookup("_http._tcp.web.default.svc.cluster.local.", RecordType::SRV)
    else {
        panic!("forwarded");
    };
    assert_eq!(
        additionals.iter().map(show).collect::<Vec<_>>(),
        ["web.default.svc.cluster.local. 5 A 10.43.0.20"]
    );
}

#[test]
fn pod_names_resolve_to_their_dashed_ip() {
    assert_eq!(
        answer(
            &records(),
            "10-42-0-9.default.pod.cluster.local.",
            RecordType::A
        ),
        ok(&["10-42-0-9.default.pod.cluster.local. 5 A 10.42.0.9"])
    );
}

#[test]
fn reverse_lookups_name_cluster_ips_and_headless_endpoints() {
    assert_eq!(
        answer(&records(), "20.0.43.10.in-addr.arpa.", RecordType::PTR),
        ok(&["20.0.43.10.in-addr.arpa. 5 PTR web.default.svc.cluster.local."])
    );
    assert_eq!(
        answer(&records(), "5.0.42.10.in-addr.arpa.", RecordType::PTR),
        ok(&["5.0.42.10.in-addr.arpa. 5 PTR db-0.db.data.svc.cluster.local."])
    );
    assert_eq!(
        records().lookup("1.1.168.192.in-addr.arpa.", RecordType::PTR),
        Lookup::Forward
    );
}

#[test]
fn external_name_services_are_cnames() {
    assert_eq!(
        answer(&records(), "ext.default.svc.cluster.local.", RecordType::A),
        ok(&["ext.default.svc.cluster.local. 5 CNAME example.com."])
    );
}

#[test]
fn missing_names_under_the_zone_are_nxdomain() {
    let records = records();
    for name in [
        "nope.default.svc.cluster.local.",
        "web.nowhere.svc.cluster.local.",
        "nowhere.svc.cluster.local.",
        "x.y.z.web.default.svc.cluster.local.",
        "something.cluster.local.",
    ] {
        assert_eq!(
            answer(&records, name, RecordType::A),
            (true, vec![]),
            "{name}"
        );
    }
    assert_eq!(
        answer(&records, "default.svc.cluster.local.", RecordType::A),
        ok(&[])
    );
    assert!(records.soa().is_some());
}

#[test]
fn names_outside_the_zone_are_forwarded() {
    assert_eq!(
        records().lookup("example.com.", RecordType::A),
        Lookup::Forward
    );
}

#[test]
fn deleting_a_service_or_slice_removes_its_names() {
    let mut records = records();
    records.remove_slice(&("data".into(), "db-abc".into()));
    assert_eq!(
        answer(&records, "db.data.svc.cluster.local.", RecordType::A),
        ok(&[])
    );
    records.remove_service(&crate::objects::ServiceKey::new("default", "web"));
    assert!(answer(&records, "web.default.svc.cluster.local.", RecordType::A).0);
}

#[test]
fn zone_apex_answers_soa_and_ns() {
    let records = records();
    let (_, soa) = answer(&records, "cluster.local.", RecordType::SOA);
    assert_eq!(soa.len(), 1);
    assert!(
        soa[0].contains("ns.dns.cluster.local. hostmaster.cluster.local."),
        "{soa:?}"
    );
    assert_eq!(
        answer(&records, "dns-version.cluster.local.", RecordType::TXT)
            .1
            .len(),
        1
    );
}
