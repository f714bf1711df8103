//! The node authorizer's graph and NodeRestriction: a node reads the secrets, config maps, claims,
//! volumes and service accounts of pods bound to it and nothing else of those kinds, creates only
//! its own Node and plain mirror pods, and writes only pods bound to it.

use std::time::Duration;

use k8s_openapi::api::core::v1::{
    ConfigMap, Node, PersistentVolume, PersistentVolumeClaim, Pod, Secret, ServiceAccount,
};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn client_with_token(admin: &kube::Config, token: &str) -> kube::Client {
    let mut config = admin.clone();
    config.auth_info = kube::config::AuthInfo {
        token: Some(token.to_string().into()),
        ..Default::default()
    };
    kube::Client::try_from(config).unwrap()
}

fn code<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> u16 {
    match result {
        Ok(_) => 200,
        Err(kube::Error::Api(status)) => status.code,
        Err(other) => panic!("{other}"),
    }
}

async fn create<K>(api: &Api<K>, object: serde_json::Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let object: K = serde_json::from_value(object).unwrap();
    api.create(&PostParams::default(), &object).await.unwrap();
}

/// Retry until `get` answers `expected`: the graph follows the watch cache a moment later.
async fn eventually_code<F, Fut, T>(what: &str, expected: u16, mut get: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
    T: std::fmt::Debug,
{
    let mut last = 0;
    for _ in 0..50 {
        last = code(get().await);
        if last == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: {last}, expected {expected}");
}

#[tokio::test]
async fn nodes_reach_only_what_their_pods_reference() {
    let data_dir = tempfile::tempdir().unwrap();
    let tokens = data_dir.path().join("tokens.csv");
    std::fs::write(
        &tokens,
        "n1-token,system:node:n1,u1,\"system:nodes\"\nn2-token,system:node:n2,u2,\"system:nodes\"\n",
    )
    .unwrap();
    let mut options = apiserver::ServeOptions::loopback(data_dir.path());
    options.token_file = Some(tokens);
    let cancel = CancellationToken::new();
    let _stop = cancel.clone().drop_guard();
    let started = apiserver::run(options, cancel.clone()).await.unwrap();
    let kubeconfig = Kubeconfig::read_from(&started.kubeconfig_path).unwrap();
    let admin_config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .unwrap();
    let admin = kube::Client::try_from(admin_config.clone()).unwrap();
    let n1 = client_with_token(&admin_config, "n1-token");
    let n2 = client_with_token(&admin_config, "n2-token");

    let secrets: Api<Secret> = Api::namespaced(admin.clone(), "default");
    for name in ["mounted", "unused", "tls"] {
        create(
            &secrets,
            json!({"metadata": {"name": name}, "stringData": {"k": "v"}}),
        )
        .await;
    }
    let maps: Api<ConfigMap> = Api::namespaced(admin.clone(), "default");
    create(
        &maps,
        json!({"metadata": {"name": "settings"}, "data": {"k": "v"}}),
    )
    .await;
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), "default");
    create(&accounts, json!({"metadata": {"name": "builder"}})).await;
    create(
        &Api::<PersistentVolume>::all(admin.clone()),
        json!({"metadata": {"name": "pv1"}, "spec": {"capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/tmp/pv1"}}}),
    )
    .await;
    create(
        &Api::<PersistentVolumeClaim>::namespaced(admin.clone(), "default"),
        json!({"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
            "volumeName": "pv1", "resources": {"requests": {"storage": "1Gi"}}}}),
    )
    .await;
    let pods: Api<Pod> = Api::namespaced(admin.clone(), "default");
    create(
        &pods,
        json!({"metadata": {"name": "web"}, "spec": {
            "nodeName": "n1",
            "serviceAccountName": "builder",
            "automountServiceAccountToken": false,
            "volumes": [
                {"name": "s", "secret": {"secretName": "mounted"}},
                {"name": "d", "persistentVolumeClaim": {"claimName": "data"}}],
            "containers": [{"name": "c", "image": "busybox", "env": [
                {"name": "K", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "k"}}}]}]}}),
    )
    .await;

    let n1_secrets: Api<Secret> = Api::namespaced(n1.clone(), "default");
    let n2_secrets: Api<Secret> = Api::namespaced(n2.clone(), "default");
    eventually_code("n1 reads its pod's secret", 200, || {
        n1_secrets.get("mounted")
    })
    .await;
    assert_eq!(code(n1_secrets.get("unused").await), 403);
    assert_eq!(code(n1_secrets.list(&ListParams::default()).await), 403);
    assert_eq!(code(n2_secrets.get("mounted").await), 403);
    let n1_maps: Api<ConfigMap> = Api::namespaced(n1.clone(), "default");
    assert_eq!(code(n1_maps.get("settings").await), 200);
    assert_eq!(
        code(
            Api::<ConfigMap>::namespaced(n2.clone(), "default")
                .get("settings")
                .await
        ),
        403
    );
    assert_eq!(
        code(
            Api::<ServiceAccount>::namespaced(n1.clone(), "default")
                .get("builder")
                .await
        ),
        200
    );
    assert_eq!(
        code(
            Api::<PersistentVolumeClaim>::namespaced(n1.clone(), "default")
                .get("data")
                .await
        ),
        200
    );
    assert_eq!(
        code(Api::<PersistentVolume>::all(n1.clone()).get("pv1").await),
        200
    );
    assert_eq!(
        code(Api::<PersistentVolume>::all(n2.clone()).get("pv1").await),
        403
    );
    let token = |client: &kube::Client| {
        let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
        async move {
            accounts
                .create_token_request("builder", &PostParams::default(), &Default::default())
                .await
        }
    };
    assert_eq!(code(token(&n1).await), 200);
    assert_eq!(code(token(&n2).await), 403);

    // The ingress controller on every node reads the TLS secrets Ingresses name.
    assert_eq!(code(n2_secrets.get("tls").await), 403);
    create(
        &Api::<Ingress>::namespaced(admin.clone(), "default"),
        json!({"metadata": {"name": "site"}, "spec": {"tls": [{"hosts": ["a.example"], "secretName": "tls"}],
            "defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}),
    )
    .await;
    eventually_code("n2 reads an Ingress's TLS secret", 200, || {
        n2_secrets.get("tls")
    })
    .await;

    // NodeRestriction: a node creates only its own Node and its own plain mirror pods, and
    // writes only pods bound to it.
    let n1_nodes: Api<Node> = Api::all(n1.clone());
    let other: Node = serde_json::from_value(json!({"metadata": {"name": "n2"}})).unwrap();
    let refused = n1_nodes.create(&PostParams::default(), &other).await;
    match refused {
        Err(kube::Error::Api(status)) => assert_eq!(
            (status.code, status.message.as_str()),
            (
                403,
                "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify node \"n2\""
            )
        ),
        other => panic!("{other:?}"),
    }
    let own: Node = serde_json::from_value(json!({"metadata": {"name": "n1"}})).unwrap();
    let own = n1_nodes.create(&PostParams::default(), &own).await.unwrap();
    let mirror = |name: &str, node: &str, extra: serde_json::Value| {
        let mut pod = json!({"metadata": {"name": name,
                "annotations": {"kubernetes.io/config.mirror": "hash"},
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "n1",
                    "uid": own.metadata.uid.clone().unwrap(), "controller": true}]},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}});
        if let Some(extra) = extra.as_object() {
            pod["spec"].as_object_mut().unwrap().extend(extra.clone());
        }
        serde_json::from_value::<Pod>(pod).unwrap()
    };
    let n1_pods: Api<Pod> = Api::namespaced(n1.clone(), "default");
    let n2_pods: Api<Pod> = Api::namespaced(n2.clone(), "default");
    let post = PostParams::default();
    assert_eq!(
        code(
            n1_pods
                .create(&post, &mirror("static-n1", "n1", json!({})))
                .await
        ),
        200
    );
    assert_eq!(
        code(
            n1_pods
                .create(&post, &mirror("elsewhere", "n2", json!({})))
                .await
        ),
        403
    );
    let with_secret = json!({"volumes": [{"name": "s", "secret": {"secretName": "unused"}}]});
    assert_eq!(
        code(
            n1_pods
                .create(&post, &mirror("thief", "n1", with_secret))
                .await
        ),
        403
    );
    let mut plain = mirror("plain", "n1", json!({}));
    plain.metadata.annotations = None;
    assert_eq!(code(n1_pods.create(&post, &plain).await), 403);
    let status = Patch::Merge(json!({"status": {"message": "from a node"}}));
    let patch = PatchParams::default();
    assert_eq!(
        code(n2_pods.patch_status("web", &patch, &status).await),
        403
    );
    assert_eq!(
        code(n1_pods.patch_status("web", &patch, &status).await),
        200
    );
    let now = DeleteParams::default().grace_period(0);
    assert_eq!(code(n2_pods.delete("web", &now).await), 403);

    // Once the pod is gone, so is the node's access.
    n1_pods.delete("web", &now).await.unwrap();
    eventually_code("n1 loses the secret with its pod", 403, || {
        n1_secrets.get("mounted")
    })
    .await;
    assert_eq!(code(n1_maps.get("settings").await), 403);
}
