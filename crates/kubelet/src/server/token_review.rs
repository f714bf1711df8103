//! Bearer tokens at the kubelet, as upstream's webhook token authentication: a caller without a
//! client certificate may present a token (a service account's, say), which the API server
//! reviews with a TokenReview. Answers are cached by the token's SHA-256 for 2 minutes (upstream's
//! default); failed reviews are not cached.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use kube::api::{Api, PostParams};
use sha2::{Digest, Sha256};

use super::answer_cache::AnswerCache;
use super::client_identity::ClientIdentity;
use crate::KubeletError;

const CACHE_TTL: Duration = Duration::from_secs(2 * 60);

/// Who answers whether a token is valid, and whose it is (the API server; a fake in tests).
#[async_trait]
pub trait TokenReviewer: Send + Sync {
    /// `None`: the token authenticates nobody.
    async fn review(&self, token: &str) -> Result<Option<ClientIdentity>, KubeletError>;
}

/// Reviews tokens with the API server's TokenReview API, using the kubelet's own credentials.
pub struct ApiTokenReview {
    client: kube::Client,
}

impl ApiTokenReview {
    pub fn new(client: kube::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl TokenReviewer for ApiTokenReview {
    async fn review(&self, token: &str) -> Result<Option<ClientIdentity>, KubeletError> {
        let review = TokenReview {
            spec: TokenReviewSpec {
                token: Some(token.to_string()),
                audiences: None,
            },
            ..TokenReview::default()
        };
        let reviews: Api<TokenReview> = Api::all(self.client.clone());
        let answered = reviews.create(&PostParams::default(), &review).await?;
        let Some(status) = answered.status.filter(|s| s.authenticated == Some(true)) else {
            return Ok(None);
        };
        let user = status.user.unwrap_or_default();
        Ok(user
            .username
            .filter(|name| !name.is_empty())
            .map(|name| ClientIdentity {
                name,
                groups: user.groups.unwrap_or_default(),
            }))
    }
}

/// A token's SHA-256: what the cache keeps instead of the token.
type TokenDigest = [u8; 32];

/// Authenticates bearer tokens through a reviewer, remembering its answers.
pub struct TokenAuthenticator {
    reviewer: Arc<dyn TokenReviewer>,
    answers: AnswerCache<TokenDigest, Option<ClientIdentity>>,
}

impl TokenAuthenticator {
    pub fn new(reviewer: Arc<dyn TokenReviewer>) -> Self {
        Self {
            reviewer,
            answers: AnswerCache::new(|_| CACHE_TTL),
        }
    }

    /// The caller a token belongs to; `None` when it is not valid or cannot be reviewed now.
    pub async fn authenticate(&self, token: &str) -> Option<ClientIdentity> {
        let key: TokenDigest = Sha256::digest(token.as_bytes()).into();
        if let Some(identity) = self.answers.get(&key) {
            return identity;
        }
        let identity = match self.reviewer.review(token).await {
            Ok(identity) => identity,
            Err(error) => {
                tracing::warn!(%error, "kubelet token review failed");
                return None;
            }
        };
        self.answers.insert(key, identity.clone());
        identity
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct CountingReviewer(Mutex<usize>);

    #[async_trait]
    impl TokenReviewer for CountingReviewer {
        async fn review(&self, token: &str) -> Result<Option<ClientIdentity>, KubeletError> {
            *self.0.lock().unwrap() += 1;
            Ok((token == "good").then(|| ClientIdentity {
                name: "system:serviceaccount:monitoring:scraper".into(),
                groups: vec!["system:serviceaccounts".into()],
            }))
        }
    }

    #[tokio::test]
    async fn tokens_are_reviewed_once_then_remembered() {
        let reviewer = Arc::new(CountingReviewer::default());
        let authenticator = TokenAuthenticator::new(reviewer.clone());
        for _ in 0..3 {
            let who = authenticator.authenticate("good").await.unwrap();
            assert_eq!(who.name, "system:serviceaccount:monitoring:scraper");
            assert_eq!(authenticator.authenticate("bad").await, None);
        }
        assert_eq!(*reviewer.0.lock().unwrap(), 2);
    }

    #[test]
    fn only_bearer_headers_carry_a_token() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(http::header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(http::header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
        headers.insert(http::header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
    }
}
