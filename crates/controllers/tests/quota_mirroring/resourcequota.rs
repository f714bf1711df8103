use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, ResourceQuota};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};

use crate::harness::{eventually, Cluster, WAIT};

const NS: &str = "quota";

fn pod(name: &str, resources: serde_json::Value) -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx", "resources": resources}]}
    }))
    .unwrap()
}

fn quota(name: &str, spec: serde_json::Value) -> ResourceQuota {
    serde_json::from_value(serde_json::json!({"metadata": {"name": name}, "spec": spec})).unwrap()
}

/// Waits until the quota's status.used holds exactly `expected` and status.hard is its spec.
async fn wait_used(quotas: &Api<ResourceQuota>, name: &str, what: &str, expected: &[(&str, &str)]) {
    let expected: BTreeMap<String, String> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let started = std::time::Instant::now();
    loop {
        let q = quotas.get(name).await.unwrap();
        let status = q.status.clone().unwrap_or_default();
        let used: BTreeMap<String, String> = status
            .used
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        let hard = q.spec.as_ref().and_then(|s| s.hard.clone());
        if used == expected && status.hard == hard {
            return;
        }
        assert!(
            started.elapsed() < WAIT,
            "timed out waiting for {what}: used {used:?}, hard {:?}",
            status.hard
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_used_follows_pods_and_config_maps() {
    let cluster = Cluster::start().await;
    let client = cluster.client.clone();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": NS}})).unwrap();
    namespaces
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    // The root CA publisher's ConfigMap is counted too; start once it is there.
    eventually("kube-root-ca.crt", WAIT, || async {
        config_maps.get_opt("kube-root-ca.crt").await.unwrap()
    })
    .await;

    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), NS);
    let everything = quota(
        "compute",
        serde_json::json!({"hard": {
            "pods": "10", "count/pods": "10", "requests.cpu": "2", "requests.memory": "1Gi",
            "limits.memory": "2Gi", "configmaps": "10", "services": "5",
            "count/deployments.apps": "3"
        }}),
    );
    quotas
        .create(&PostParams::default(), &everything)
        .await
        .unwrap();
    let best_effort = quota(
        "best-effort",
        serde_json::json!({"hard": {"pods": "5"}, "scopes": ["BestEffort"]}),
    );
    quotas
        .create(&PostParams::default(), &best_effort)
        .await
        .unwrap();
    wait_used(
        &quotas,
        "compute",
        "an empty namespace's usage",
        &[
            ("configmaps", "1"),
            ("count/deployments.apps", "0"),
            ("count/pods", "0"),
            ("limits.memory", "0"),
            ("pods", "0"),
            ("requests.cpu", "0"),
            ("requests.memory", "0"),
            ("services", "0"),
        ],
    )
    .await;
    wait_used(
        &quotas,
        "best-effort",
        "no best-effort pods",
        &[("pods", "0")],
    )
    .await;

    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let requests = |cpu: &str| {
        serde_json::json!({"requests": {"cpu": cpu, "memory": "64Mi"},
                           "limits": {"memory": "128Mi"}})
    };
    for (name, resources) in [
        ("a", requests("250m")),
        ("b", requests("500m")),
        ("idle", serde_json::json!({})),
    ] {
        pods.create(&PostParams::default(), &pod(name, resources))
            .await
            .unwrap();
    }
    let data: ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "settings"}})).unwrap();
    config_maps
        .create(&PostParams::default(), &data)
        .await
        .unwrap();
    wait_used(
        &quotas,
        "compute",
        "three pods and two config maps",
        &[
            ("configmaps", "2"),
            ("count/deployments.apps", "0"),
            ("count/pods", "3"),
            ("limits.memory", "256Mi"),
            ("pods", "3"),
            ("requests.cpu", "750m"),
            ("requests.memory", "128Mi"),
            ("services", "0"),
        ],
    )
    .await;
    wait_used(
        &quotas,
        "best-effort",
        "one best-effort pod",
        &[("pods", "1")],
    )
    .await;

    // A finished pod stays an object but no longer uses compute.
    let finished = serde_json::json!({"status": {"phase": "Succeeded"}});
    pods.patch_status("b", &PatchParams::default(), &Patch::Merge(&finished))
        .await
        .unwrap();
    pods.delete("a", &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    config_maps
        .delete("settings", &DeleteParams::default())
        .await
        .unwrap();
    wait_used(
        &quotas,
        "compute",
        "one finished pod deleted, one config map gone",
        &[
            ("configmaps", "1"),
            ("count/deployments.apps", "0"),
            ("count/pods", "2"),
            ("limits.memory", "0"),
            ("pods", "1"),
            ("requests.cpu", "0"),
            ("requests.memory", "0"),
            ("services", "0"),
        ],
    )
    .await;

    pods.delete("idle", &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    wait_used(
        &quotas,
        "best-effort",
        "best-effort pod deleted",
        &[("pods", "0")],
    )
    .await;
}
