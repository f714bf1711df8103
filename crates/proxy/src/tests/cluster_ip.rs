use serde_json::json;

use super::{chain, ruleset, web, web_slice};

const WEB: &str = "default/web/tcp/80";

#[test]
fn the_skeleton_replaces_the_table_and_hooks_nat_and_filters() {
    let script = ruleset(&[], &[]);
    assert!(script.starts_with("add table ip r8s\ndelete table ip r8s\ntable ip r8s {\n"));
    assert_eq!(
        chain(&script, "nat-prerouting"),
        [
            "type nat hook prerouting priority dstnat; policy accept;",
            "jump services"
        ]
    );
    assert_eq!(
        chain(&script, "nat-output"),
        [
            "type nat hook output priority -100; policy accept;",
            "jump services"
        ]
    );
    assert_eq!(
        chain(&script, "masquerading"),
        [
            "meta mark & 0x4000 == 0 return",
            "meta mark set meta mark xor 0x4000",
            "masquerade fully-random"
        ]
    );
    assert_eq!(
        chain(&script, "cluster-ips-check"),
        ["ip daddr @cluster-ips reject", "ip daddr 10.43.0.0/16 drop"]
    );
    assert!(chain(&script, "services")
        .contains(&"ip daddr . meta l4proto . th dport vmap @service-ips"));
}

#[test]
fn a_cluster_ip_balances_randomly_over_ready_endpoints() {
    let script = ruleset(
        &[web(json!({}))],
        &[web_slice(&[
            ("10.42.0.6", "node-a", true, false),
            ("10.42.1.7", "node-b", true, false),
            ("10.42.1.8", "node-b", false, false),
        ])],
    );
    assert!(script.contains(&format!("10.43.0.5 . tcp . 80 : goto service-{WEB}")));
    assert!(script.contains("set cluster-ips { type ipv4_addr; elements = { 10.43.0.5 } }"));
    assert_eq!(
        chain(&script, &format!("service-{WEB}")),
        [
            "ip daddr 10.43.0.5 meta l4proto tcp th dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade".to_string(),
            format!("numgen random mod 2 0 goto endpoint-{WEB}__10.42.0.6/8080"),
            format!("goto endpoint-{WEB}__10.42.1.7/8080"),
        ]
    );
    assert_eq!(
        chain(&script, &format!("endpoint-{WEB}__10.42.0.6/8080")),
        [
            "ip saddr 10.42.0.6 meta mark set meta mark or 0x4000",
            "meta l4proto tcp dnat to 10.42.0.6:8080"
        ]
    );
    assert!(
        !script.contains("10.42.1.8"),
        "not-ready endpoints are unused"
    );
}

#[test]
fn terminating_endpoints_serve_only_when_none_is_ready() {
    let script = ruleset(
        &[web(json!({}))],
        &[web_slice(&[("10.42.0.6", "node-a", false, true)])],
    );
    assert!(script.contains(&format!("endpoint-{WEB}__10.42.0.6/8080")));
}

#[test]
fn a_service_without_endpoints_rejects() {
    let script = ruleset(&[web(json!({}))], &[]);
    assert!(script.contains(
        "map no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict; elements = { 10.43.0.5 . tcp . 80 : goto reject-chain } }"
    ));
    assert!(!script.contains(&format!("chain service-{WEB}")));
    assert_eq!(chain(&script, "reject-chain"), ["reject"]);
}

#[test]
fn client_ip_affinity_remembers_clients_per_endpoint() {
    let script = ruleset(
        &[web(json!({"sessionAffinity": "ClientIP",
                      "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}}))],
        &[web_slice(&[("10.42.0.6", "node-a", true, false)])],
    );
    let set = format!("affinity-{WEB}__10.42.0.6/8080");
    assert!(script.contains(&format!(
        "set {set} {{ type ipv4_addr; flags dynamic,timeout; timeout 60s; }}"
    )));
    let service_chain = chain(&script, &format!("service-{WEB}"));
    assert_eq!(
        service_chain[1],
        format!("ip saddr @{set} goto endpoint-{WEB}__10.42.0.6/8080")
    );
    assert_eq!(
        chain(&script, &format!("endpoint-{WEB}__10.42.0.6/8080"))[1],
        format!("update @{set} {{ ip saddr }}")
    );
}

#[test]
fn internal_traffic_policy_local_uses_only_this_nodes_endpoints() {
    let slices = [web_slice(&[
        ("10.42.0.6", "node-a", true, false),
        ("10.42.1.7", "node-b", true, false),
    ])];
    let script = ruleset(&[web(json!({"internalTrafficPolicy": "Local"}))], &slices);
    assert!(script.contains(&format!("10.43.0.5 . tcp . 80 : goto local-{WEB}")));
    let local = chain(&script, &format!("local-{WEB}"));
    assert!(local[0].contains("jump mark-for-masquerade"));
    assert_eq!(local[1], format!("goto endpoint-{WEB}__10.42.0.6/8080"));

    let remote_only = [web_slice(&[("10.42.1.7", "node-b", true, false)])];
    let script = ruleset(
        &[web(json!({"internalTrafficPolicy": "Local"}))],
        &remote_only,
    );
    assert!(script.contains("10.43.0.5 . tcp . 80 : drop"), "{script}");
}

#[test]
fn udp_and_sctp_ports_match_their_protocol() {
    let svc = crate::test_objects::service(json!({
        "metadata": {"namespace": "kube-system", "name": "kube-dns"},
        "spec": {"clusterIP": "10.43.0.10", "ports": [
            {"name": "dns", "port": 53, "protocol": "UDP"},
            {"name": "sig", "port": 9, "protocol": "SCTP"}]}
    }));
    let script = ruleset(&[svc], &[]);
    assert!(script.contains("10.43.0.10 . udp . 53 : goto reject-chain"));
    assert!(script.contains("10.43.0.10 . sctp . 9 : goto reject-chain"));
}

#[test]
fn selectorless_services_use_hand_made_slices() {
    let svc = crate::test_objects::service(json!({
        "metadata": {"namespace": "default", "name": "manual"},
        "spec": {"clusterIP": "10.43.0.20", "ports": [{"port": 80}]}
    }));
    let slice = crate::test_objects::slice(json!({
        "metadata": {"namespace": "default", "name": "manual-1",
                     "labels": {"kubernetes.io/service-name": "manual"}},
        "addressType": "IPv4",
        "ports": [{"port": 9376}],
        "endpoints": [{"addresses": ["192.168.77.9"]}]
    }));
    let script = ruleset(&[svc], &[slice]);
    assert!(script.contains("meta l4proto tcp dnat to 192.168.77.9:9376"));
}

#[test]
fn the_cascade_picks_each_of_three_endpoints_with_equal_chance() {
    let script = ruleset(
        &[web(json!({}))],
        &[web_slice(&[
            ("10.42.0.6", "node-a", true, false),
            ("10.42.0.7", "node-a", true, false),
            ("10.42.0.8", "node-a", true, false),
        ])],
    );
    // 1/3, then 1/2 of the remaining 2/3, then the rest: 1/3 each.
    let rules = chain(&script, &format!("service-{WEB}"));
    assert!(rules[1].starts_with("numgen random mod 3 0 goto"));
    assert!(rules[2].starts_with("numgen random mod 2 0 goto"));
    assert!(rules[3].starts_with("goto endpoint-"));
}
