use serde_json::json;

use super::{chain, ruleset, web, web_slice};

const WEB: &str = "default/web/tcp/80";

fn node_port(extra: serde_json::Value) -> k8s_openapi::api::core::v1::Service {
    let mut spec = json!({"type": "NodePort",
                          "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30080}]});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            spec.insert(k.clone(), v.clone());
        }
    }
    web(spec)
}

#[test]
fn node_ports_masquerade_and_use_the_whole_cluster() {
    let script = ruleset(
        &[node_port(json!({}))],
        &[web_slice(&[("10.42.1.7", "node-b", true, false)])],
    );
    assert!(script.contains(&format!("tcp . 30080 : goto external-{WEB}")));
    assert_eq!(
        chain(&script, &format!("external-{WEB}")),
        [
            "jump mark-for-masquerade".to_string(),
            format!("goto service-{WEB}")
        ]
    );
    assert!(chain(&script, "services").contains(
        &"ip daddr != 127.0.0.0/8 fib daddr type local meta l4proto . th dport vmap @service-nodeports"
    ));
}

#[test]
fn external_traffic_policy_local_keeps_the_client_and_drops_without_local_endpoints() {
    let local = json!({"externalTrafficPolicy": "Local"});
    let script = ruleset(
        &[node_port(local.clone())],
        &[web_slice(&[
            ("10.42.0.6", "node-a", true, false),
            ("10.42.1.7", "node-b", true, false),
        ])],
    );
    assert_eq!(
        chain(&script, &format!("external-{WEB}")),
        [
            format!("ip saddr 10.42.0.0/16 goto service-{WEB}"),
            "fib saddr type local jump mark-for-masquerade".to_string(),
            format!("fib saddr type local goto service-{WEB}"),
            format!("goto local-{WEB}"),
        ]
    );
    assert_eq!(
        chain(&script, &format!("local-{WEB}")),
        [format!("goto endpoint-{WEB}__10.42.0.6/8080")]
    );

    let script = ruleset(
        &[node_port(local)],
        &[web_slice(&[("10.42.1.7", "node-b", true, false)])],
    );
    assert!(script.contains(
        "map no-endpoint-nodeports { type inet_proto . inet_service : verdict; elements = { tcp . 30080 : drop } }"
    ));
    assert!(script.contains(&format!("10.43.0.5 . tcp . 80 : goto service-{WEB}")));
}

#[test]
fn node_ports_without_endpoints_reject() {
    let script = ruleset(&[node_port(json!({}))], &[]);
    assert!(script.contains("elements = { tcp . 30080 : goto reject-chain }"));
}

#[test]
fn external_ips_and_load_balancer_ingress_go_through_the_external_chain() {
    let mut lb = node_port(json!({"type": "LoadBalancer", "externalIPs": ["192.168.77.40"]}));
    lb.status =
        serde_json::from_value(json!({"loadBalancer": {"ingress": [{"ip": "192.168.77.50"}]}}))
            .ok();
    let script = ruleset(&[lb], &[web_slice(&[("10.42.0.6", "node-a", true, false)])]);
    assert!(script.contains(&format!("192.168.77.40 . tcp . 80 : goto external-{WEB}")));
    assert!(script.contains(&format!("192.168.77.50 . tcp . 80 : goto external-{WEB}")));
}

#[test]
fn load_balancer_ingress_is_ignored_on_other_service_types() {
    let mut svc = web(json!({}));
    svc.status =
        serde_json::from_value(json!({"loadBalancer": {"ingress": [{"ip": "192.168.77.50"}]}}))
            .ok();
    assert!(!ruleset(&[svc], &[]).contains("192.168.77.50"));
}
