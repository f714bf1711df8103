//! Objects every cluster has from its first start: the four system namespaces, the `kubernetes`
//! Service and the default RBAC policy. They are written through the server's own request pipeline, as any client would.

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::Full;
use serde_json::{json, Value};

use crate::authn::UserInfo;
use crate::server::ApiServer;

const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Upstream's built-in priority classes.
const SYSTEM_PRIORITY_CLASSES: &[(&str, i64, &str)] = &[
    (
        "system-node-critical",
        2_000_001_000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
    (
        "system-cluster-critical",
        2_000_000_000,
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ),
];

fn system_user() -> UserInfo {
    UserInfo {
        name: "system:apiserver".into(),
        uid: String::new(),
        groups: vec!["system:masters".into()],
    }
}

async fn post(server: &ApiServer, path: &str, body: &Value) -> u16 {
    send(server, Method::POST, path, body).await
}

async fn send(server: &ApiServer, method: Method, path: &str, body: &Value) -> u16 {
    let request = Request::builder()
        .method(method)
        .uri(format!("{path}?fieldManager=kube-apiserver"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::USER_AGENT, "kube-apiserver")
        .body(Full::new(Bytes::from(
            serde_json::to_vec(body).unwrap_or_default(),
        )))
        .map_err(|e| tracing::warn!(%e, "building bootstrap request"));
    let Ok(request) = request else { return 500 };
    server
        .handle(Some(system_user()), request)
        .await
        .status()
        .as_u16()
}

/// Creates the object, or replaces it when it exists: the API server's own endpoints follow
/// its address across restarts.
async fn create_or_replace(server: &ApiServer, collection: &str, name: &str, body: &Value) -> u16 {
    match post(server, collection, body).await {
        409 => send(server, Method::PUT, &format!("{collection}/{name}"), body).await,
        code => code,
    }
}

/// Create whatever of the bootstrap objects is missing (409 AlreadyExists is fine).
pub async fn ensure_bootstrap_objects(server: &ApiServer, advertise_ip: &str, port: u16) {
    for namespace in SYSTEM_NAMESPACES {
        let body =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
        let code = post(server, "/api/v1/namespaces", &body).await;
        if code != 201 && code != 409 {
            tracing::warn!(namespace, code, "creating a system namespace failed");
        }
    }
    for (name, value, description) in SYSTEM_PRIORITY_CLASSES {
        let body = json!({
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": name},
            "value": value,
            "description": description,
        });
        let code = post(server, "/apis/scheduling.k8s.io/v1/priorityclasses", &body).await;
        if code != 201 && code != 409 {
            tracing::warn!(name, code, "creating a system PriorityClass failed");
        }
    }
    ensure_bootstrap_policy(server).await;
    let cluster_ip = crate::config::first_service_ip(server.config.service_cidr).to_string();
    let service = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {
            "clusterIP": cluster_ip,
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
            "sessionAffinity": "None",
            "type": "ClusterIP",
        },
    });
    let code = post(server, "/api/v1/namespaces/default/services", &service).await;
    if code != 201 && code != 409 {
        tracing::warn!(code, "creating the kubernetes Service failed");
    }
    let endpoints = json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": advertise_ip}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
    });
    let code = create_or_replace(
        server,
        "/api/v1/namespaces/default/endpoints",
        "kubernetes",
        &endpoints,
    )
    .await;
    if code != 200 && code != 201 {
        tracing::warn!(code, "writing the kubernetes Endpoints failed");
    }
    // What service proxies read: the EndpointSlice upstream's endpoint reconciler keeps.
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [advertise_ip], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    });
    let code = create_or_replace(
        server,
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
        "kubernetes",
        &slice,
    )
    .await;
    if code != 200 && code != 201 {
        tracing::warn!(code, "writing the kubernetes EndpointSlice failed");
    }
}

/// Upstream's default ClusterRoles and ClusterRoleBindings. Existing ones are left as they are (an
/// administrator's changes survive; upstream would reconcile those annotated autoupdate=true).
async fn ensure_bootstrap_policy(server: &ApiServer) {
    const RBAC: &str = "/apis/rbac.authorization.k8s.io/v1";
    let roles = crate::authz::rbac::bootstrap_cluster_roles();
    let bindings = crate::authz::rbac::bootstrap_cluster_role_bindings();
    let objects = roles
        .iter()
        .map(|r| (r, "clusterroles"))
        .chain(bindings.iter().map(|b| (b, "clusterrolebindings")));
    for (object, plural) in objects {
        let code = post(server, &format!("{RBAC}/{plural}"), object).await;
        if code != 201 && code != 409 {
            let name = object["metadata"]["name"].as_str().unwrap_or("");
            tracing::warn!(name, plural, code, "creating bootstrap RBAC policy failed");
        }
    }
}
