//! Service-account tokens from the TokenRequest API, used as bearer tokens, authorized by RBAC.

use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio_util::sync::CancellationToken;

async fn admin_config(kubeconfig: &std::path::Path) -> kube::Config {
    let kubeconfig = Kubeconfig::read_from(kubeconfig).unwrap();
    kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap()
}

/// A client that presents `token` and no client certificate.
fn token_client(admin: &kube::Config, token: &str) -> kube::Client {
    let mut config = admin.clone();
    config.auth_info = kube::config::AuthInfo {
        token: Some(token.to_string().into()),
        ..Default::default()
    };
    kube::Client::try_from(config).unwrap()
}

fn api_error(result: Result<impl std::fmt::Debug, kube::Error>) -> (u16, String) {
    match result {
        Err(kube::Error::Api(status)) => (status.code, status.message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn request_token(accounts: &Api<ServiceAccount>, name: &str, seconds: i64) -> TokenRequest {
    let request = TokenRequest {
        spec: TokenRequestSpec {
            expiration_seconds: Some(seconds),
            ..Default::default()
        },
        ..Default::default()
    };
    accounts
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .unwrap()
}

/// Retry `check` until it holds: RBAC and the authenticator read the watch cache, which follows
/// writes a moment later.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..50 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} never happened");
}

#[tokio::test]
async fn tokens_authenticate_service_accounts_and_rbac_authorizes_them() {
    let data_dir = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let started = apiserver::run(
        apiserver::ServeOptions::loopback(data_dir.path()),
        cancel.clone(),
    )
    .await
    .unwrap();
    let admin_config = admin_config(&started.kubeconfig_path).await;
    let admin = kube::Client::try_from(admin_config.clone()).unwrap();
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), "default");

    // No account, no token: upstream's NotFound.
    let missing = accounts
        .create_token_request("default", &PostParams::default(), &TokenRequest::default())
        .await;
    assert_eq!(
        api_error(missing),
        (404, "serviceaccounts \"default\" not found".to_string())
    );
    let mut account = ServiceAccount::default();
    account.metadata.name = Some("default".into());
    let account = accounts
        .create(&PostParams::default(), &account)
        .await
        .unwrap();

    let issued = request_token(&accounts, "default", 3600).await;
    let status = issued.status.unwrap();
    assert_eq!(status.token.split('.').count(), 3);
    assert_eq!(
        issued.spec.audiences,
        vec!["https://kubernetes.default.svc.cluster.local".to_string()]
    );
    let too_short = accounts
        .create_token_request(
            "default",
            &PostParams::default(),
            &TokenRequest {
                spec: TokenRequestSpec {
                    expiration_seconds: Some(60),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await;
    assert_eq!(api_error(too_short).0, 422);

    // Authenticated, but RBAC grants nothing yet.
    let robot = token_client(&admin_config, &status.token);
    let default_pods: Api<Pod> = Api::namespaced(robot.clone(), "default");
    let system_pods: Api<Pod> = Api::namespaced(robot.clone(), "kube-system");
    eventually("the account reaching the watch cache", || async {
        api_error(default_pods.list(&ListParams::default()).await).0 == 403
    })
    .await;
    assert_eq!(
        api_error(default_pods.list(&ListParams::default()).await),
        (
            403,
            "pods is forbidden: User \"system:serviceaccount:default:default\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"".to_string()
        )
    );

    // A Role and RoleBinding in default let it list pods there, and only there.
    let roles: Api<Role> = Api::namespaced(admin.clone(), "default");
    let mut role = Role::default();
    role.metadata.name = Some("pod-reader".into());
    role.rules = Some(vec![PolicyRule {
        api_groups: Some(vec![String::new()]),
        resources: Some(vec!["pods".into()]),
        verbs: vec!["get".into(), "list".into()],
        ..Default::default()
    }]);
    roles.create(&PostParams::default(), &role).await.unwrap();
    let bindings: Api<RoleBinding> = Api::namespaced(admin.clone(), "default");
    let mut binding = RoleBinding::default();
    binding.metadata.name = Some("robot-reads-pods".into());
    binding.role_ref = RoleRef {
        api_group: "rbac.authorization.k8s.io".into(),
        kind: "Role".into(),
        name: "pod-reader".into(),
    };
    binding.subjects = Some(vec![Subject {
        kind: "ServiceAccount".into(),
        name: "default".into(),
        namespace: Some("default".into()),
        ..Default::default()
    }]);
    bindings
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
    eventually("the binding taking effect", || async {
        default_pods.list(&ListParams::default()).await.is_ok()
    })
    .await;
    assert_eq!(
        api_error(system_pods.list(&ListParams::default()).await).0,
        403
    );

    // Garbled and expired tokens are 401.
    let mut garbled = status.token.clone();
    garbled.pop();
    garbled.push(if status.token.ends_with('A') {
        'B'
    } else {
        'A'
    });
    for bad in [garbled.as_str(), "not-a-token", "a.b.c"] {
        let client = token_client(&admin_config, bad);
        let pods: Api<Pod> = Api::namespaced(client, "default");
        assert_eq!(api_error(pods.list(&ListParams::default()).await).0, 401);
    }
    let expired = started
        .server
        .service_account_tokens
        .as_ref()
        .unwrap()
        .issue(
            apiserver::authn::service_account_claims::TokenGrant {
                namespace: "default".into(),
                service_account: apiserver::authn::service_account_claims::ObjectRef {
                    name: "default".into(),
                    uid: account.metadata.uid.clone().unwrap(),
                },
                audiences: vec!["https://kubernetes.default.svc.cluster.local".into()],
                expiration_seconds: 600,
                ..Default::default()
            },
            jiff_now() - 3600,
        )
        .unwrap()
        .0;
    let pods: Api<Pod> = Api::namespaced(token_client(&admin_config, &expired), "default");
    assert_eq!(api_error(pods.list(&ListParams::default()).await).0, 401);

    // A deleted account's tokens stop working.
    accounts
        .delete("default", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the deleted account's token being refused", || async {
        matches!(default_pods.list(&ListParams::default()).await,
            Err(kube::Error::Api(status)) if status.code == 401)
    })
    .await;
    cancel.cancel();
}

fn jiff_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
