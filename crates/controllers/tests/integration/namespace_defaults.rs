use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use kube::api::{Api, PostParams};

use crate::harness::{eventually, Cluster, WAIT};

pub fn namespace(name: &str) -> Namespace {
    serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_namespace_gets_default_service_account_and_root_ca() {
    let cluster = Cluster::start().await;
    let namespaces: Api<Namespace> = Api::all(cluster.client.clone());
    namespaces
        .create(&PostParams::default(), &namespace("team-a"))
        .await
        .unwrap();
    let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), "team-a");
    eventually("default service account", WAIT, || async {
        accounts.get_opt("default").await.unwrap()
    })
    .await;
    let maps: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), "team-a");
    let map = eventually("kube-root-ca.crt", WAIT, || async {
        maps.get_opt("kube-root-ca.crt").await.unwrap()
    })
    .await;
    let ca = map.data.unwrap().remove("ca.crt").unwrap();
    assert!(ca.contains("BEGIN CERTIFICATE"));

    // Deleting the default account brings it back.
    accounts
        .delete("default", &Default::default())
        .await
        .unwrap();
    eventually("default service account recreated", WAIT, || async {
        accounts
            .get_opt("default")
            .await
            .unwrap()
            .filter(|a| a.metadata.deletion_timestamp.is_none())
    })
    .await;
}
