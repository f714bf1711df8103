//! Scenario tests of what the proxy programs: objects in, nftables script out.

mod cluster_ip;
mod external;
mod partial_sync;

use serde_json::json;

use crate::rules::RenderOptions;
use crate::test_objects::{service, slice};
use crate::{full_ruleset, render_all};

pub fn options() -> RenderOptions {
    RenderOptions {
        node_name: "node-a".to_string(),
        cluster_cidr: "10.42.0.0/16".to_string(),
        service_cidr: "10.43.0.0/16".to_string(),
    }
}

/// A ClusterIP Service `default/web` on 10.43.0.5:80 → 8080, with `extra` merged into its spec.
pub fn web(extra: serde_json::Value) -> k8s_openapi::api::core::v1::Service {
    let mut object = json!({
        "metadata": {"namespace": "default", "name": "web"},
        "spec": {"clusterIP": "10.43.0.5", "ports": [{"port": 80, "targetPort": 8080}]}
    });
    if let (Some(spec), Some(extra)) = (object["spec"].as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            spec.insert(k.clone(), v.clone());
        }
    }
    service(object)
}

/// `web`'s slice with endpoints given as (last octet of 10.42.x.y, node, ready, terminating).
pub fn web_slice(
    endpoints: &[(&str, &str, bool, bool)],
) -> k8s_openapi::api::discovery::v1::EndpointSlice {
    let endpoints: Vec<serde_json::Value> = endpoints
        .iter()
        .map(|(ip, node, ready, terminating)| {
            json!({"addresses": [ip], "nodeName": node,
                   "conditions": {"ready": ready, "serving": true, "terminating": terminating}})
        })
        .collect();
    slice(json!({
        "metadata": {"namespace": "default", "name": "web-1",
                     "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "ports": [{"port": 8080, "protocol": "TCP"}],
        "endpoints": endpoints
    }))
}

pub fn ruleset(
    services: &[k8s_openapi::api::core::v1::Service],
    slices: &[k8s_openapi::api::discovery::v1::EndpointSlice],
) -> String {
    full_ruleset(services, slices, &options())
}

/// The rules of one chain in a full ruleset.
pub fn chain<'a>(script: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("\tchain {name} {{");
    script
        .lines()
        .skip_while(|line| *line != header)
        .skip(1)
        .take_while(|line| *line != "\t}")
        .map(str::trim)
        .collect()
}

#[test]
fn services_without_rules_are_not_tracked() {
    let headless = service(json!({
        "metadata": {"namespace": "default", "name": "db"},
        "spec": {"clusterIP": "None", "ports": [{"port": 5432}]}
    }));
    assert!(render_all([&headless], [], &options()).is_empty());
}
