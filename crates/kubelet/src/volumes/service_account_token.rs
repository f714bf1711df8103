//! Projected `serviceAccountToken` sources: a bound token from the TokenRequest API, cached per pod
//! and requested again once 80% of its lifetime has passed (upstream's token manager), so the
//! periodic volume resync does not ask for a new token every time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount, ServiceAccountTokenProjection};
use kube::api::{Api, PostParams};

/// Upstream's default token lifetime (one hour).
const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// How long a failed request is not retried (the file keeps an empty token meanwhile).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);
/// The client retries 503s with back-off; a server without TokenRequest must not hold up the
/// pod's volumes for longer than this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TokenKey {
    pod_uid: String,
    service_account: String,
    audience: String,
    expiration_seconds: i64,
}

struct CachedToken {
    token: String,
    refresh_at: Instant,
}

/// Tokens of the node's pods, by pod, account, audience and lifetime.
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<TokenKey, CachedToken>>,
}

impl TokenCache {
    /// The cached token for this projection, or a fresh one when none is cached or it is due.
    pub async fn token(
        &self,
        client: &kube::Client,
        pod: &Pod,
        projection: &ServiceAccountTokenProjection,
    ) -> String {
        let key = TokenKey {
            pod_uid: pod.metadata.uid.clone().unwrap_or_default(),
            service_account: service_account(pod).to_string(),
            audience: projection.audience.clone().unwrap_or_default(),
            expiration_seconds: projection
                .expiration_seconds
                .unwrap_or(DEFAULT_EXPIRATION_SECONDS),
        };
        let now = Instant::now();
        if let Ok(tokens) = self.tokens.lock() {
            if let Some(cached) = tokens.get(&key).filter(|c| c.refresh_at > now) {
                return cached.token.clone();
            }
        }
        let (token, refresh_at) = match request_token(client, pod, projection).await {
            Some(token) => {
                let lifetime = u64::try_from(key.expiration_seconds).unwrap_or(0);
                (token, now + Duration::from_secs(lifetime * 8 / 10))
            }
            None => (String::new(), now + RETRY_AFTER_FAILURE),
        };
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(
                key,
                CachedToken {
                    token: token.clone(),
                    refresh_at,
                },
            );
        }
        token
    }

    /// Forgets the tokens of a pod that is gone.
    pub fn forget_pod(&self, pod_uid: &str) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.retain(|key, _| key.pod_uid != pod_uid);
        }
    }
}

fn service_account(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.service_account_name.as_deref())
        .filter(|n| !n.is_empty())
        .unwrap_or("default")
}

/// Requests a token for the pod's service account, bound to the pod. `None` when the API server
/// does not serve TokenRequest or refuses it (a warning is logged).
async fn request_token(
    client: &kube::Client,
    pod: &Pod,
    projection: &ServiceAccountTokenProjection,
) -> Option<String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let service_account = service_account(pod);
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
    let answer = tokio::time::timeout(
        REQUEST_TIMEOUT,
        api.create_subresource::<TokenRequest, TokenRequest>(
            "token",
            service_account,
            &PostParams::default(),
            &request,
        ),
    )
    .await;
    match answer {
        Ok(Ok(answer)) => answer.status.map(|s| s.token),
        Err(_) => {
            tracing::warn!(
                namespace,
                service_account,
                "TokenRequest timed out; writing an empty service account token"
            );
            None
        }
        Ok(Err(e)) => {
            tracing::warn!(
                namespace,
                service_account,
                error = %e,
                "TokenRequest failed; writing an empty service account token"
            );
            None
        }
    }
}
