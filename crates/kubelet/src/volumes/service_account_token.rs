//! Projected `serviceAccountToken` sources: a bound token from the TokenRequest API.

use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount, ServiceAccountTokenProjection};
use kube::api::{Api, PostParams};

/// Upstream's default token lifetime (one hour).
const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;

/// Requests a token for the pod's service account, bound to the pod. When the API server does not
/// serve TokenRequest (or refuses it), the token is empty and a warning is logged, so the file
/// still exists.
pub async fn request_token(
    client: &kube::Client,
    pod: &Pod,
    projection: &ServiceAccountTokenProjection,
) -> String {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let service_account = pod
        .spec
        .as_ref()
        .and_then(|s| s.service_account_name.as_deref())
        .filter(|n| !n.is_empty())
        .unwrap_or("default");
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: projection
                .audience
                .iter()
                .filter(|a| !a.is_empty())
                .cloned()
                .collect(),
            expiration_seconds: Some(
                projection
                    .expiration_seconds
                    .unwrap_or(DEFAULT_EXPIRATION_SECONDS),
            ),
            bound_object_ref: Some(BoundObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: pod.metadata.name.clone(),
                uid: pod.metadata.uid.clone(),
            }),
        },
        ..Default::default()
    };
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    match api
        .create_subresource::<TokenRequest, TokenRequest>(
            "token",
            service_account,
            &PostParams::default(),
            &request,
        )
        .await
    {
        Ok(answer) => answer.status.map(|s| s.token).unwrap_or_default(),
        Err(e) => {
            tracing::warn!(
                namespace,
                service_account,
                error = %e,
                "TokenRequest failed; writing an empty service account token"
            );
            String::new()
        }
    }
}
