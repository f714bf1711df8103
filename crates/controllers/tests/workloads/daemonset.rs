use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, PostParams};
use kube::Api;
use serde_json::json;

use crate::harness::{create_node, eventually, ApiServer, WAIT};

fn pinned_node(pod: &Pod) -> Option<String> {
    let terms = &pod
        .spec
        .as_ref()?
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms
        .first()?
        .match_fields
        .as_ref()?
        .first()?
        .values
        .as_ref()?
        .first()
        .cloned()
}

async fn pinned_nodes(pods: &Api<Pod>) -> BTreeSet<String> {
    let list = pods
        .list(&ListParams::default().labels("app=agent"))
        .await
        .unwrap();
    list.items.iter().filter_map(pinned_node).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemonset_runs_a_pod_on_every_node_including_one_added_later() {
    let server = ApiServer::start().await;
    let client = server.client.clone();
    create_node(&client, "node-a", json!({})).await;
    create_node(&client, "node-b", json!({})).await;
    tokio::spawn(controllers::daemonset::run(
        client.clone(),
        controllers::Informers::spawn(client.clone(), &server.cancel),
        server.cancel.child_token(),
    ));
    let sets: Api<DaemonSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let set: DaemonSet = serde_json::from_value(json!({
        "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
                 "template": {"metadata": {"labels": {"app": "agent"}},
                              "spec": {"containers": [{"name": "main", "image": "busybox"}]}}}
    }))
    .unwrap();
    sets.create(&PostParams::default(), &set).await.unwrap();

    let two: BTreeSet<String> = ["node-a", "node-b"].map(String::from).into();
    eventually("a pod on each node", WAIT, || async {
        (pinned_nodes(&pods).await == two).then_some(())
    })
    .await;

    create_node(&client, "node-c", json!({})).await;
    let three: BTreeSet<String> = ["node-a", "node-b", "node-c"].map(String::from).into();
    eventually("a pod on the new node", WAIT, || async {
        (pinned_nodes(&pods).await == three).then_some(())
    })
    .await;

    let all = pods
        .list(&ListParams::default().labels("app=agent"))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 3, "exactly one pod per node");
    let tolerations = all.items[0]
        .spec
        .as_ref()
        .unwrap()
        .tolerations
        .clone()
        .unwrap();
    assert!(tolerations
        .iter()
        .any(|t| t.key.as_deref() == Some("node.kubernetes.io/not-ready")));
    let status = eventually("status", WAIT, || async {
        let status = sets.get("agent").await.ok()?.status?;
        (status.desired_number_scheduled == 3 && status.current_number_scheduled == 3)
            .then_some(status)
    })
    .await;
    assert_eq!(status.number_misscheduled, 0);
    assert_eq!(status.updated_number_scheduled, Some(3));
}
