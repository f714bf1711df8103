use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::PostParams;
use kube::Api;
use serde_json::json;

use crate::harness::{eventually, set_pod_phase, ApiServer, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_creates_web_0_1_2_in_order() {
    let server = ApiServer::start().await;
    let client = server.client.clone();
    tokio::spawn(controllers::statefulset::run(
        client.clone(),
        controllers::Informers::spawn(client.clone(), &server.cancel),
        server.cancel.child_token(),
    ));
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    let set: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "main", "image": "nginx"}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
        }
    }))
    .unwrap();
    sets.create(&PostParams::default(), &set).await.unwrap();

    for ordinal in 0..3 {
        let name = format!("web-{ordinal}");
        let pod = eventually(&name, WAIT, || async {
            pods.get_opt(&name).await.ok().flatten()
        })
        .await;
        let labels = pod.metadata.labels.clone().unwrap();
        assert_eq!(labels["statefulset.kubernetes.io/pod-name"], name);
        assert_eq!(labels["apps.kubernetes.io/pod-index"], ordinal.to_string());
        assert!(labels["controller-revision-hash"].starts_with("web-"));
        let spec = pod.spec.clone().unwrap();
        assert_eq!(spec.hostname.as_deref(), Some(name.as_str()));
        assert_eq!(spec.subdomain.as_deref(), Some("web"));
        assert!(claims
            .get_opt(&format!("data-web-{ordinal}"))
            .await
            .unwrap()
            .is_some());

        // OrderedReady: the next ordinal waits until this one is Running and Ready.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let next = format!("web-{}", ordinal + 1);
        assert!(
            pods.get_opt(&next).await.unwrap().is_none(),
            "{next} created before {name} was ready"
        );
        set_pod_phase(&client, "default", &name, "Running").await;
    }

    let status = eventually("three ready replicas", WAIT, || async {
        let status = sets.get("web").await.ok()?.status?;
        (status.ready_replicas == Some(3)).then_some(status)
    })
    .await;
    assert_eq!(status.replicas, 3);
    assert_eq!(status.updated_replicas, Some(3));
    assert_eq!(status.current_revision, status.update_revision);
    assert!(pods.get_opt("web-3").await.unwrap().is_none());
}
