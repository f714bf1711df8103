use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::ResourceExt;

use crate::harness::{eventually, Cluster, WAIT};
use crate::replicaset::active_pods;

fn deployment(name: &str, replicas: i32, image: &str) -> Deployment {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]}
            }
        }
    }))
    .unwrap()
}

/// Play the node agent: every pod not yet ready becomes Running and Ready.
pub async fn mark_pods_ready(pods: &Api<Pod>, app: &str) {
    for pod in active_pods(pods, app).await {
        if crate_ready(&pod) {
            continue;
        }
        let status = serde_json::json!({"status": {
            "phase": "Running",
            "podIP": "10.42.0.10",
            "conditions": [{"type": "Ready", "status": "True",
                            "lastTransitionTime": "2024-01-01T00:00:00Z"}]
        }});
        let _ = pods
            .patch_status(
                &pod.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&status),
            )
            .await;
    }
}

fn crate_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn condition_reason(deployment: &Deployment, type_: &str) -> Option<String> {
    deployment
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)?
        .reason
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_rolls_out_within_surge_and_is_garbage_collected() {
    let cluster = Cluster::start().await;
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), "default");
    let sets: Api<ReplicaSet> = Api::namespaced(cluster.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    deployments
        .create(&PostParams::default(), &deployment("web", 3, "nginx:1"))
        .await
        .unwrap();
    let first = eventually("first rollout complete", WAIT, || async {
        mark_pods_ready(&pods, "web").await;
        let d = deployments.get("web").await.unwrap();
        let status = d.status.clone()?;
        (status.available_replicas == Some(3)
            && status.updated_replicas == Some(3)
            && condition_reason(&d, "Progressing").as_deref() == Some("NewReplicaSetAvailable"))
        .then_some(d)
    })
    .await;
    assert_eq!(
        condition_reason(&first, "Available").as_deref(),
        Some("MinimumReplicasAvailable")
    );
    assert_eq!(
        first
            .annotations()
            .get("deployment.kubernetes.io/revision")
            .map(String::as_str),
        Some("1")
    );
    let first_sets = sets.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(first_sets.len(), 1);
    let first_rs = first_sets[0].name_any();
    let hash = first_sets[0]
        .labels()
        .get("pod-template-hash")
        .cloned()
        .unwrap();
    assert_eq!(first_rs, format!("web-{hash}"));

    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"template": {"spec": {
                "containers": [{"name": "c", "image": "nginx:2"}]}}}})),
        )
        .await
        .unwrap();
    let mut max_seen = 0;
    let mut min_ready = usize::MAX;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "second rollout did not complete"
        );
        let current = active_pods(&pods, "web").await;
        max_seen = max_seen.max(current.len());
        min_ready = min_ready.min(current.iter().filter(|p| crate_ready(p)).count());
        mark_pods_ready(&pods, "web").await;
        let d = deployments.get("web").await.unwrap();
        let status = d.status.clone().unwrap_or_default();
        let all = sets.list(&ListParams::default()).await.unwrap().items;
        let old_scaled_down = all
            .iter()
            .filter(|rs| rs.name_any() == first_rs)
            .all(|rs| rs.spec.as_ref().and_then(|s| s.replicas) == Some(0));
        if status.updated_replicas == Some(3)
            && status.available_replicas == Some(3)
            && status.replicas == Some(3)
            && old_scaled_down
            && all.len() == 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        max_seen <= 4,
        "saw {max_seen} pods, more than replicas + maxSurge"
    );
    assert!(
        min_ready >= 3,
        "ready pods dropped to {min_ready}, below replicas - maxUnavailable"
    );
    let d = deployments.get("web").await.unwrap();
    assert_eq!(
        d.annotations()
            .get("deployment.kubernetes.io/revision")
            .map(String::as_str),
        Some("2")
    );

    let events: Api<Event> = Api::namespaced(cluster.client.clone(), "default");
    let messages: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("ScalingReplicaSet"))
        .filter_map(|e| e.message)
        .collect();
    assert!(messages.contains(&format!("Scaled up replica set {first_rs} from 0 to 3")));
    assert!(messages
        .iter()
        .any(|m| m.starts_with(&format!("Scaled down replica set {first_rs}"))));

    deployments
        .delete("web", &DeleteParams::background())
        .await
        .unwrap();
    eventually("replica sets and pods collected", WAIT, || async {
        let sets_left = sets.list(&ListParams::default()).await.unwrap().items.len();
        let pods_left = active_pods(&pods, "web").await.len();
        (sets_left == 0 && pods_left == 0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recreate_deployment_replaces_all_pods_at_once() {
    let cluster = Cluster::start().await;
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    let mut recreate = deployment("batch", 2, "busybox:1");
    recreate.spec.as_mut().unwrap().strategy =
        Some(serde_json::from_value(serde_json::json!({"type": "Recreate"})).unwrap());
    deployments
        .create(&PostParams::default(), &recreate)
        .await
        .unwrap();
    eventually("2 pods", WAIT, || async {
        mark_pods_ready(&pods, "batch").await;
        (active_pods(&pods, "batch").await.len() == 2).then_some(())
    })
    .await;
    deployments
        .patch(
            "batch",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"template": {"spec": {
                "containers": [{"name": "c", "image": "busybox:2"}]}}}})),
        )
        .await
        .unwrap();
    eventually("new pods only", WAIT, || async {
        mark_pods_ready(&pods, "batch").await;
        let current = active_pods(&pods, "batch").await;
        let images: Vec<String> = current
            .iter()
            .filter_map(|p| p.spec.as_ref()?.containers[0].image.clone())
            .collect();
        assert!(current.len() <= 2);
        (images.len() == 2 && images.iter().all(|i| i == "busybox:2")).then_some(())
    })
    .await;
}
