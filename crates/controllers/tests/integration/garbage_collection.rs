use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, PostParams};
use kube::ResourceExt;

use crate::harness::{eventually, Cluster, WAIT};
use crate::replicaset::{active_pods, replica_set};

async fn replica_set_with_pods(cluster: &Cluster, name: &str) -> (Api<ReplicaSet>, Api<Pod>) {
    let sets: Api<ReplicaSet> = Api::namespaced(cluster.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    sets.create(&PostParams::default(), &replica_set(name, 2))
        .await
        .unwrap();
    eventually("2 pods", WAIT, || async {
        (active_pods(&pods, name).await.len() == 2).then_some(())
    })
    .await;
    (sets, pods)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_deletion_removes_dependents() {
    let cluster = Cluster::start().await;
    let (sets, pods) = replica_set_with_pods(&cluster, "bg").await;
    sets.delete("bg", &DeleteParams::background())
        .await
        .unwrap();
    eventually("pods collected", WAIT, || async {
        (active_pods(&pods, "bg").await.is_empty()).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreground_deletion_removes_dependents_before_the_owner() {
    let cluster = Cluster::start().await;
    let (sets, pods) = replica_set_with_pods(&cluster, "fg").await;
    sets.delete("fg", &DeleteParams::foreground())
        .await
        .unwrap();
    // The owner stays (with its finalizer) while dependents exist.
    let owner = sets.get_opt("fg").await.unwrap();
    if let Some(owner) = owner {
        assert!(owner.finalizers().iter().any(|f| f == "foregroundDeletion"));
    }
    eventually("owner gone after its pods", WAIT, || async {
        let gone = sets.get_opt("fg").await.unwrap().is_none();
        if gone {
            assert!(active_pods(&pods, "fg").await.is_empty());
        }
        gone.then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphan_deletion_keeps_dependents_without_the_reference() {
    let cluster = Cluster::start().await;
    let (sets, pods) = replica_set_with_pods(&cluster, "orph").await;
    sets.delete("orph", &DeleteParams::orphan()).await.unwrap();
    eventually("owner gone", WAIT, || async {
        sets.get_opt("orph").await.unwrap().is_none().then_some(())
    })
    .await;
    let left = active_pods(&pods, "orph").await;
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|p| p.owner_references().is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dangling_owner_reference_with_another_uid_is_collected() {
    let cluster = Cluster::start().await;
    let maps: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), "default");
    let owner: ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "owner"}})).unwrap();
    maps.create(&PostParams::default(), &owner).await.unwrap();
    let dependent: ConfigMap = serde_json::from_value(serde_json::json!({"metadata": {
        "name": "dependent",
        "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                             "uid": "00000000-0000-0000-0000-000000000000"}]
    }}))
    .unwrap();
    maps.create(&PostParams::default(), &dependent)
        .await
        .unwrap();
    eventually("dependent collected", WAIT, || async {
        maps.get_opt("dependent")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert!(maps.get_opt("owner").await.unwrap().is_some());
}
