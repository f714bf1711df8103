use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::PostParams;
use kube::Api;
use serde_json::json;

use crate::harness::{create_node, eventually, ApiServer, WAIT};
use controllers::node_lifecycle::NodeLifecycleOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_lease_stops_renewing_goes_unknown_and_is_tainted() {
    let server = ApiServer::start().await;
    let client = server.client.clone();
    create_node(&client, "worker", json!({})).await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "worker"},
        "spec": {"holderIdentity": "worker", "leaseDurationSeconds": 40, "renewTime": jiff::Timestamp::now().to_string()}
    }))
    .unwrap();
    leases.create(&PostParams::default(), &lease).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "victim"},
        // The API server's DefaultTolerationSeconds admission would give it 300 s; zero means
        // evicted as soon as the node is tainted.
        "spec": {"containers": [{"name": "main", "image": "busybox"}],
                 "tolerations": [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                  "effect": "NoExecute", "tolerationSeconds": 0}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "victim"},
                         "target": {"apiVersion": "v1", "kind": "Node", "name": "worker"}});
    let _: serde_json::Value = pods
        .create_subresource("binding", "victim", &PostParams::default(), &binding)
        .await
        .unwrap();

    let options = NodeLifecycleOptions {
        node_monitor_grace_period: Duration::from_secs(2),
        ..Default::default()
    };
    tokio::spawn(controllers::node_lifecycle::run(
        client.clone(),
        controllers::Informers::spawn(client.clone(), &server.cancel),
        options,
        server.cancel.child_token(),
    ));
    let nodes: Api<Node> = Api::all(client.clone());

    let cidr = eventually("a pod CIDR", WAIT, || async {
        nodes.get("worker").await.ok()?.spec?.pod_cidr
    })
    .await;
    assert_eq!(cidr, "10.42.0.0/24");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let ready = nodes
        .get("worker")
        .await
        .unwrap()
        .status
        .unwrap()
        .conditions
        .unwrap();
    assert!(
        ready
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True"),
        "still within the grace period"
    );

    let node = eventually("Ready=Unknown", WAIT, || async {
        let node = nodes.get("worker").await.ok()?;
        let conditions = node.status.clone()?.conditions?;
        conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "Unknown")
            .then_some(node)
    })
    .await;
    let ready = node
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.reason.as_deref(), Some("NodeStatusUnknown"));
    assert_eq!(
        ready.message.as_deref(),
        Some("Kubelet stopped posting node status.")
    );

    let taints = eventually("unreachable taints", WAIT, || async {
        let taints = nodes.get("worker").await.ok()?.spec?.taints?;
        (taints.len() == 2).then_some(taints)
    })
    .await;
    assert!(taints
        .iter()
        .any(|t| t.key == "node.kubernetes.io/unreachable" && t.effect == "NoExecute"));
    assert!(taints
        .iter()
        .any(|t| t.key == "node.kubernetes.io/unreachable" && t.effect == "NoSchedule"));

    eventually("the intolerant pod to be evicted", WAIT, || async {
        let pod = pods.get_opt("victim").await.ok()?;
        pod.is_none_or(|p| p.metadata.deletion_timestamp.is_some())
            .then_some(())
    })
    .await;
}
