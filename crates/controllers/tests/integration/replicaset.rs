use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::ResourceExt;

use crate::harness::{eventually, Cluster, WAIT};

pub fn replica_set(name: &str, replicas: i32) -> ReplicaSet {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}
            }
        }
    }))
    .unwrap()
}

pub async fn active_pods(pods: &Api<Pod>, app: &str) -> Vec<Pod> {
    pods.list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicaset_creates_replaces_and_scales_pods() {
    let cluster = Cluster::start().await;
    let sets: Api<ReplicaSet> = Api::namespaced(cluster.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    sets.create(&PostParams::default(), &replica_set("web", 3))
        .await
        .unwrap();
    let created = eventually("3 pods", WAIT, || async {
        let found = active_pods(&pods, "web").await;
        (found.len() == 3).then_some(found)
    })
    .await;
    for pod in &created {
        assert!(pod.name_any().starts_with("web-"));
        let owner = &pod.owner_references()[0];
        assert_eq!(owner.kind, "ReplicaSet");
        assert_eq!(owner.controller, Some(true));
    }
    // Stays at 3: no double creation while the cache catches up.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(active_pods(&pods, "web").await.len(), 3);

    let victim = created[0].name_any();
    pods.delete(&victim, &DeleteParams::default())
        .await
        .unwrap();
    eventually("replacement pod", WAIT, || async {
        let found = active_pods(&pods, "web").await;
        (found.len() == 3 && found.iter().all(|p| p.name_any() != victim)).then_some(())
    })
    .await;

    eventually("status replicas 3", WAIT, || async {
        let rs = sets.get("web").await.unwrap();
        let status = rs.status?;
        (status.replicas == 3 && status.observed_generation == rs.metadata.generation).then_some(())
    })
    .await;

    sets.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"replicas": 1}})),
    )
    .await
    .unwrap();
    eventually("scaled down to 1", WAIT, || async {
        (active_pods(&pods, "web").await.len() == 1).then_some(())
    })
    .await;

    // Events are written in the background: wait for both.
    let events: Api<Event> = Api::namespaced(cluster.client.clone(), "default");
    eventually(
        "SuccessfulCreate and SuccessfulDelete events",
        WAIT,
        || async {
            let reasons: Vec<String> = events
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .filter(|e| e.involved_object.name.as_deref() == Some("web"))
                .filter_map(|e| e.reason)
                .collect();
            let has = |reason: &str| reasons.iter().any(|r| r == reason);
            (has("SuccessfulCreate") && has("SuccessfulDelete")).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicaset_adopts_matching_orphans() {
    let cluster = Cluster::start().await;
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    let orphan: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "orphan", "labels": {"app": "adopter"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &orphan).await.unwrap();
    let sets: Api<ReplicaSet> = Api::namespaced(cluster.client.clone(), "default");
    let rs = sets
        .create(&PostParams::default(), &replica_set("adopter", 2))
        .await
        .unwrap();
    eventually("orphan adopted and one more created", WAIT, || async {
        let found = active_pods(&pods, "adopter").await;
        let adopted = pods.get("orphan").await.ok()?;
        let owner_uid = adopted.owner_references().first()?.uid.clone();
        (found.len() == 2 && Some(owner_uid) == rs.uid()).then_some(())
    })
    .await;
}

/// As upstream's event correlator: creating 20 pods records 9 Events, then one combining
/// the rest with a count (within the spam filter's burst of 25).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similar_events_are_combined_and_counted() {
    let cluster = Cluster::start().await;
    let sets: Api<ReplicaSet> = Api::namespaced(cluster.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    sets.create(&PostParams::default(), &replica_set("many", 20))
        .await
        .unwrap();
    eventually("20 pods", WAIT, || async {
        (active_pods(&pods, "many").await.len() == 20).then_some(())
    })
    .await;
    let events: Api<Event> = Api::namespaced(cluster.client.clone(), "default");
    let (separate, combined) = eventually("20 creations counted", WAIT, || async {
        let created: Vec<Event> = events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some("many"))
            .filter(|e| e.reason.as_deref() == Some("SuccessfulCreate"))
            .collect();
        let counted: i32 = created.iter().map(|e| e.count.unwrap_or(1)).sum();
        (counted == 20).then_some(created)
    })
    .await
    .into_iter()
    .partition::<Vec<Event>, _>(|e| {
        !e.message
            .as_deref()
            .unwrap_or_default()
            .starts_with("(combined from similar events): ")
    });
    assert_eq!(separate.len(), 9);
    // Concurrent creations may each start a combined Event before the first is written.
    assert!(combined.iter().any(|e| e.count.unwrap_or(1) > 1));
}
