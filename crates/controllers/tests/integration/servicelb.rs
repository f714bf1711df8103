use k8s_openapi::api::core::v1::{Node, Service};
use kube::api::{Api, Patch, PatchParams, PostParams};

use crate::harness::{eventually, Cluster, WAIT};

fn node(name: &str) -> Node {
    serde_json::from_value(serde_json::json!({"metadata": {"name": name}, "spec": {}})).unwrap()
}

async fn set_node_status(nodes: &Api<Node>, name: &str, ip: &str, ready: bool) {
    let status = serde_json::json!({"status": {
        "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" },
                        "lastHeartbeatTime": jiff_now(), "lastTransitionTime": jiff_now()}],
        "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}]
    }});
    nodes
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
}

fn jiff_now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap()
        .to_string()
}

async fn ingress_of(services: &Api<Service>, name: &str) -> Vec<(String, String)> {
    let service = services.get(name).await.unwrap();
    service
        .status
        .and_then(|s| s.load_balancer)
        .and_then(|lb| lb.ingress)
        .unwrap_or_default()
        .into_iter()
        .map(|i| (i.ip.unwrap_or_default(), i.ip_mode.unwrap_or_default()))
        .collect()
}

fn ips(list: &[&str]) -> Vec<(String, String)> {
    list.iter()
        .map(|ip| (ip.to_string(), "VIP".to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_balancer_ingress_follows_ready_nodes() {
    let cluster = Cluster::start().await;
    let nodes: Api<Node> = Api::all(cluster.client.clone());
    for (name, ip) in [("lb-b", "192.168.77.3"), ("lb-a", "192.168.77.2")] {
        nodes
            .create(&PostParams::default(), &node(name))
            .await
            .unwrap();
        set_node_status(&nodes, name, ip, true).await;
    }
    let services: Api<Service> = Api::namespaced(cluster.client.clone(), "default");
    let service: Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "lb"},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "targetPort": 8080}]}
    }))
    .unwrap();
    services
        .create(&PostParams::default(), &service)
        .await
        .unwrap();
    eventually("both nodes announced", WAIT, || async {
        (ingress_of(&services, "lb").await == ips(&["192.168.77.2", "192.168.77.3"])).then_some(())
    })
    .await;

    set_node_status(&nodes, "lb-b", "192.168.77.3", false).await;
    eventually("the unready node withdrawn", WAIT, || async {
        (ingress_of(&services, "lb").await == ips(&["192.168.77.2"])).then_some(())
    })
    .await;

    let classed: Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "classed"},
        "spec": {"type": "LoadBalancer", "loadBalancerClass": "example.com/lb",
                 "ports": [{"port": 80}]}
    }))
    .unwrap();
    services
        .create(&PostParams::default(), &classed)
        .await
        .unwrap();

    let to_cluster_ip = serde_json::json!({"spec": {
        "type": "ClusterIP", "externalTrafficPolicy": null,
        "ports": [{"port": 80, "targetPort": 8080}]
    }});
    services
        .patch("lb", &PatchParams::default(), &Patch::Merge(&to_cluster_ip))
        .await
        .unwrap();
    eventually("ingress cleared", WAIT, || async {
        ingress_of(&services, "lb").await.is_empty().then_some(())
    })
    .await;
    assert!(ingress_of(&services, "classed").await.is_empty());
}
