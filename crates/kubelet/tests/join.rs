//! A node joins an in-process API server with the server's join token: it gets a node client
//! certificate through the CSR API (approved and signed by the certificates controllers), may
//! then write its own Node status and Lease, and nothing a node may not.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Namespace, Node, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kubelet::bootstrap::join;
use kubelet::server::authorization::{AccessRequest, AccessReview, ApiAccessReview};
use kubelet::server::client_identity::ClientIdentity;
use kubelet::server::token_review::{ApiTokenReview, TokenReviewer};
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn kube_status(error: &kube::Error) -> Option<u16> {
    match error {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

#[tokio::test]
async fn a_node_joins_with_the_token_and_is_a_node() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let data_dir = tempfile::tempdir().unwrap();
    let node_dir = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let _stop = cancel.clone().drop_guard();
    let started = apiserver::run(
        apiserver::ServeOptions::loopback(data_dir.path()),
        cancel.clone(),
    )
    .await
    .unwrap();
    let token_on_disk = std::fs::read_to_string(&started.join_token_path).unwrap();
    assert_eq!(token_on_disk.trim(), started.join_token);

    let kubeconfig = Kubeconfig::read_from(&started.kubeconfig_path).unwrap();
    let admin_config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .unwrap();
    let admin = kube::Client::try_from(admin_config).unwrap();
    tokio::spawn(controllers::certificates::approver::run(
        admin.clone(),
        cancel.child_token(),
    ));
    tokio::spawn(controllers::certificates::signer::run(
        admin.clone(),
        Some(controllers::SigningCa {
            cert_pem: started.ca_cert_pem.clone(),
            key_pem: started.ca_key_pem.clone(),
        }),
        cancel.child_token(),
    ));
    let server_url = format!("https://127.0.0.1:{}", started.address.port());

    // A wrong secret is not a user at all.
    let wrong = started
        .join_token
        .rsplit_once(':')
        .map(|(head, _)| format!("{head}:not-the-secret"))
        .unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let refused = join(&server_url, &wrong, "n2", other_dir.path())
        .await
        .unwrap_err();
    let message = refused.to_string();
    assert!(
        message.contains("rejected the join token (401 Unauthorized)"),
        "{message}"
    );

    let config = tokio::time::timeout(
        Duration::from_secs(60),
        join(&server_url, &started.join_token, "n1", node_dir.path()),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(node_dir.path().join("kubelet.kubeconfig").exists());
    let node_client = kube::Client::try_from(config).unwrap();

    let nodes: Api<Node> = Api::all(node_client.clone());
    let node = Node {
        metadata: ObjectMeta {
            name: Some("n1".into()),
            ..ObjectMeta::default()
        },
        ..Node::default()
    };
    nodes.create(&PostParams::default(), &node).await.unwrap();
    let patched = nodes
        .patch_status(
            "n1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"capacity": {"pods": "110"}}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.status.unwrap().capacity.unwrap()["pods"].0, "110");

    let leases: Api<Lease> = Api::namespaced(node_client.clone(), "kube-node-lease");
    let lease = Lease {
        metadata: ObjectMeta {
            name: Some("n1".into()),
            ..ObjectMeta::default()
        },
        ..Lease::default()
    };
    leases.create(&PostParams::default(), &lease).await.unwrap();

    // Another node's status is not this node's to write.
    Api::<Node>::all(admin.clone())
        .create(
            &PostParams::default(),
            &Node {
                metadata: ObjectMeta {
                    name: Some("n9".into()),
                    ..ObjectMeta::default()
                },
                ..Node::default()
            },
        )
        .await
        .unwrap();
    let foreign = nodes
        .patch_status(
            "n9",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"capacity": {"pods": "1"}}})),
        )
        .await
        .unwrap_err();
    assert_eq!(kube_status(&foreign), Some(403), "{foreign}");

    // The node asks the API server who may reach its kubelet (webhook authorization).
    let review = ApiAccessReview::new(node_client.clone());
    let ask = |user: &str, groups: &[&str]| AccessRequest {
        user: ClientIdentity {
            name: user.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        },
        verb: "get".into(),
        subresource: "proxy".into(),
        node: "n1".into(),
    };
    let apiserver = ask("kube-apiserver-kubelet-client", &["system:masters"]);
    assert!(review.allowed(&apiserver).await.unwrap());
    let other_node = ask("system:node:n9", &["system:nodes"]);
    assert!(!review.allowed(&other_node).await.unwrap());
    let ops = ask("ops", &[]);
    assert!(!review.allowed(&ops).await.unwrap());
    let role: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": "kubelet-proxy"},
        "rules": [{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}],
    }))
    .unwrap();
    Api::<ClusterRole>::all(admin.clone())
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "ops-kubelet-proxy"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kubelet-proxy"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "ops"}],
    }))
    .unwrap();
    Api::<ClusterRoleBinding>::all(admin.clone())
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
    let allowed_soon = async {
        while !review.allowed(&ops).await.unwrap() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), allowed_soon)
        .await
        .expect("RBAC lets ops reach the kubelet");

    // A service account's bearer token, reviewed by the API server for the kubelet.
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), "default");
    let account: ServiceAccount =
        serde_json::from_value(json!({"metadata": {"name": "scraper"}})).unwrap();
    accounts
        .create(&PostParams::default(), &account)
        .await
        .unwrap();
    let issued = accounts
        .create_token_request("scraper", &PostParams::default(), &Default::default())
        .await
        .unwrap();
    let token = issued.status.unwrap().token;
    let tokens = ApiTokenReview::new(node_client.clone());
    let who = tokens.review(&token).await.unwrap().expect("a valid token");
    assert_eq!(who.name, "system:serviceaccount:default:scraper");
    assert!(
        who.groups.iter().any(|g| g == "system:serviceaccounts"),
        "{who:?}"
    );
    assert_eq!(tokens.review("not-a-token").await.unwrap(), None);

    let namespaces: Api<Namespace> = Api::all(node_client);
    let forbidden = namespaces
        .delete("default", &DeleteParams::default())
        .await
        .unwrap_err();
    assert_eq!(kube_status(&forbidden), Some(403), "{forbidden}");

    // A later start reuses the stored certificate: the token is not even read.
    let again = join(&server_url, "unused", "n1", node_dir.path())
        .await
        .unwrap();
    let again = kube::Client::try_from(again).unwrap();
    Api::<Node>::all(again).get("n1").await.unwrap();
}
