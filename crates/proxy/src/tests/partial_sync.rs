use std::collections::BTreeMap;
use std::sync::Arc;

use nftables::RecordingNft;
use serde_json::json;

use super::{options, web, web_slice};
use crate::{render_service, Proxier, ServiceKey, SyncError};

const WEB: &str = "default/web/tcp/80";

fn key() -> ServiceKey {
    ServiceKey::new("default", "web")
}

#[test]
fn a_partial_sync_needs_a_full_one_first() {
    let mut proxier = Proxier::new(Arc::new(RecordingNft::default()), options());
    assert!(matches!(
        proxier.sync_services(BTreeMap::new()),
        Err(SyncError::NeverSynced)
    ));
}

#[test]
fn an_endpoint_change_rewrites_only_that_services_chains() {
    let nft = Arc::new(RecordingNft::default());
    let mut proxier = Proxier::new(nft.clone(), options());
    let svc = web(json!({}));
    let before = web_slice(&[("10.42.0.6", "node-a", true, false)]);
    proxier.sync_full([&svc], [&before]).unwrap();
    assert!(nft.last().unwrap().starts_with("add table ip r8s\n"));

    let after = web_slice(&[("10.42.0.7", "node-a", true, false)]);
    let desired = render_service(Some(&svc), &[&after], &options());
    assert!(proxier
        .sync_services(BTreeMap::from([(key(), desired)]))
        .unwrap());
    let script = nft.last().unwrap();
    let expected = [
        format!("add chain ip r8s endpoint-{WEB}__10.42.0.7/8080"),
        format!("add rule ip r8s endpoint-{WEB}__10.42.0.7/8080 ip saddr 10.42.0.7 meta mark set meta mark or 0x4000"),
        format!("add rule ip r8s endpoint-{WEB}__10.42.0.7/8080 meta l4proto tcp dnat to 10.42.0.7:8080"),
        format!("flush chain ip r8s service-{WEB}"),
        format!("add rule ip r8s service-{WEB} ip daddr 10.43.0.5 meta l4proto tcp th dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade"),
        format!("add rule ip r8s service-{WEB} goto endpoint-{WEB}__10.42.0.7/8080"),
        format!("flush chain ip r8s endpoint-{WEB}__10.42.0.6/8080"),
        format!("delete chain ip r8s endpoint-{WEB}__10.42.0.6/8080"),
    ];
    assert_eq!(script.lines().collect::<Vec<_>>(), expected);

    // Nothing changed: nothing applied.
    let same = render_service(Some(&svc), &[&after], &options());
    assert!(!proxier
        .sync_services(BTreeMap::from([(key(), same)]))
        .unwrap());
    assert_eq!(nft.scripts().len(), 2);
}

#[test]
fn losing_every_endpoint_moves_the_service_to_reject() {
    let nft = Arc::new(RecordingNft::default());
    let mut proxier = Proxier::new(nft.clone(), options());
    let svc = web(json!({}));
    let slice = web_slice(&[("10.42.0.6", "node-a", true, false)]);
    proxier.sync_full([&svc], [&slice]).unwrap();
    let desired = render_service(Some(&svc), &[], &options());
    proxier
        .sync_services(BTreeMap::from([(key(), desired)]))
        .unwrap();
    let script = nft.last().unwrap();
    assert!(script.contains("delete element ip r8s service-ips { 10.43.0.5 . tcp . 80 }"));
    assert!(script.contains(
        "add element ip r8s no-endpoint-services { 10.43.0.5 . tcp . 80 : goto reject-chain }"
    ));
    assert!(script.contains(&format!("delete chain ip r8s service-{WEB}")));
    let delete_element = script.find("delete element").unwrap();
    let delete_chain = script.find("delete chain").unwrap();
    assert!(
        delete_element < delete_chain,
        "references go before their targets"
    );
}

#[test]
fn a_deleted_service_leaves_nothing() {
    let nft = Arc::new(RecordingNft::default());
    let mut proxier = Proxier::new(nft.clone(), options());
    let svc = web(json!({"sessionAffinity": "ClientIP"}));
    let slice = web_slice(&[("10.42.0.6", "node-a", true, false)]);
    proxier.sync_full([&svc], [&slice]).unwrap();
    proxier
        .sync_services(BTreeMap::from([(key(), None)]))
        .unwrap();
    let script = nft.last().unwrap();
    assert!(script.contains("delete element ip r8s cluster-ips { 10.43.0.5 }"));
    assert!(script.contains(&format!("delete set ip r8s affinity-{WEB}__10.42.0.6/8080")));
    assert!(!script.contains("add "));
}
