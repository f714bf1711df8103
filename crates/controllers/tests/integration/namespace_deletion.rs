use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, PostParams};

use crate::harness::{eventually, Cluster, WAIT};
use crate::namespace_defaults::namespace;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_namespace_removes_its_content_then_the_namespace() {
    let cluster = Cluster::start().await;
    let namespaces: Api<Namespace> = Api::all(cluster.client.clone());
    namespaces
        .create(&PostParams::default(), &namespace("doomed"))
        .await
        .unwrap();
    let maps: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), "doomed");
    for name in ["one", "two"] {
        let map: ConfigMap = serde_json::from_value(
            serde_json::json!({"metadata": {"name": name}, "data": {"k": "v"}}),
        )
        .unwrap();
        maps.create(&PostParams::default(), &map).await.unwrap();
    }
    namespaces
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let terminating = namespaces.get("doomed").await;
    if let Ok(terminating) = terminating {
        assert_eq!(
            terminating.status.and_then(|s| s.phase).as_deref(),
            Some("Terminating")
        );
    }
    eventually("namespace gone", WAIT, || async {
        namespaces
            .get_opt("doomed")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    let leftovers: Api<ConfigMap> = Api::all(cluster.client.clone());
    let left = leftovers.list(&Default::default()).await.unwrap();
    assert!(left
        .items
        .iter()
        .all(|m| m.metadata.namespace.as_deref() != Some("doomed")));
}
