//! Bound service-account tokens: issuing them (for TokenRequest) and authenticating them, as
//! upstream's JWT token generator and validator. A token is accepted while its signature, times and
//! audience are right and the account (and the pod or secret it is bound to) still exists with the
//! uid in the token; those are read from the watch cache.

use serde_json::Value;

use super::jwt::{looks_like_jwt, Es256Key, JwtError};
use super::service_account_claims::{
    service_account_username, Claims, TokenGrant, SERVICE_ACCOUNTS_GROUP,
};
use super::UserInfo;
use crate::registry::keys::object_key;
use crate::registry::object_meta::meta_str;
use crate::watch_cache::WatchCache;

/// How long after a bound pod or secret started terminating its tokens stay valid (upstream's).
const DELETION_GRACE_SECONDS: i64 = 60;

/// Why a token was refused (logged, never shown to the caller).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenRejected {
    #[error("{0}")]
    Jwt(#[from] JwtError),
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token was issued by {0:?}")]
    Issuer(String),
    #[error("token audiences do not include the API server's")]
    Audience,
    #[error("{0}")]
    Binding(String),
}

/// The signing key and who the tokens are issued by and for.
pub struct ServiceAccountTokens {
    key: Es256Key,
    issuer: String,
    /// The API server's audiences: a token must name one of them.
    audiences: Vec<String>,
}

fn uid_of(object: &Value) -> &str {
    meta_str(object, "uid").unwrap_or("")
}

/// Whether the object started terminating more than the grace period before `now`.
fn deleted_long_ago(object: &Value, now: i64) -> bool {
    meta_str(object, "deletionTimestamp")
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .is_some_and(|t| t.as_second() < now - DELETION_GRACE_SECONDS)
}

fn cached(cache: &WatchCache, resource: &str, namespace: &str, name: &str) -> Option<Value> {
    let cache = cache.resource(resource)?;
    cache
        .get(&object_key(resource, Some(namespace), name))
        .map(|o| o.value())
}

/// The bound object `kind` still exists in `namespace` with the token's uid.
fn check_bound(
    cache: &WatchCache,
    resource: &str,
    kind: &str,
    namespace: &str,
    reference: &super::service_account_claims::ObjectRef,
    now: i64,
) -> Result<(), TokenRejected> {
    let object = cached(cache, resource, namespace, &reference.name)
        .ok_or_else(|| TokenRejected::Binding(format!("{kind} {:?} not found", reference.name)))?;
    if uid_of(&object) != reference.uid {
        return Err(TokenRejected::Binding(format!(
            "{kind} UID ({}) does not match claim ({})",
            uid_of(&object),
            reference.uid
        )));
    }
    if deleted_long_ago(&object, now) {
        return Err(TokenRejected::Binding(format!(
            "{kind} {:?} is being deleted",
            reference.name
        )));
    }
    Ok(())
}

impl ServiceAccountTokens {
    pub fn new(key: Es256Key, issuer: String, audiences: Vec<String>) -> Self {
        Self {
            key,
            issuer,
            audiences,
        }
    }

    /// The API server's audiences, the default of a TokenRequest.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// A signed token for `grant`, and its claims.
    pub fn issue(&self, grant: TokenGrant, now: i64) -> Result<(String, Claims), JwtError> {
        let claims = Claims::new(&self.issuer, grant, now);
        Ok((self.key.sign(&claims)?, claims))
    }

    /// Signature, issuer, times and audience: everything that needs no lookup.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenRejected> {
        let claims: Claims = self.key.verify(token)?;
        if claims.iss != self.issuer {
            return Err(TokenRejected::Issuer(claims.iss));
        }
        if now >= claims.exp {
            return Err(TokenRejected::Expired);
        }
        if now < claims.nbf {
            return Err(TokenRejected::NotYetValid);
        }
        if !claims.aud.iter().any(|a| self.audiences.contains(a)) {
            return Err(TokenRejected::Audience);
        }
        Ok(claims)
    }

    /// The user a token authenticates, after checking its account and bound objects still exist.
    pub fn authenticate_at(
        &self,
        token: &str,
        cache: &WatchCache,
        now: i64,
    ) -> Result<UserInfo, TokenRejected> {
        let claims = self.verify(token, now)?;
        let k = &claims.kubernetes;
        let account = cached(
            cache,
            "serviceaccounts",
            &k.namespace,
            &k.serviceaccount.name,
        )
        .ok_or_else(|| {
            TokenRejected::Binding(format!(
                "service account {}/{} not found",
                k.namespace, k.serviceaccount.name
            ))
        })?;
        if uid_of(&account) != k.serviceaccount.uid {
            return Err(TokenRejected::Binding(format!(
                "service account UID ({}) does not match claim ({})",
                uid_of(&account),
                k.serviceaccount.uid
            )));
        }
        if let Some(pod) = &k.pod {
            check_bound(cache, "pods", "pod", &k.namespace, pod, now)?;
        }
        if let Some(secret) = &k.secret {
            check_bound(cache, "secrets", "secret", &k.namespace, secret, now)?;
        }
        Ok(UserInfo {
            name: service_account_username(&k.namespace, &k.serviceaccount.name),
            uid: k.serviceaccount.uid.clone(),
            groups: vec![
                SERVICE_ACCOUNTS_GROUP.to_string(),
                format!("{SERVICE_ACCOUNTS_GROUP}:{}", k.namespace),
            ],
        }
        .with_authenticated_group())
    }

    /// The user of a bearer token, if it is one of ours and still valid.
    pub fn authenticate(&self, token: &str, cache: &WatchCache) -> Option<UserInfo> {
        if !looks_like_jwt(token) {
            return None;
        }
        let now = jiff::Timestamp::now().as_second();
        match self.authenticate_at(token, cache, now) {
            Ok(user) => Some(user),
            Err(reason) => {
                tracing::debug!(%reason, "service account token rejected");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::jwt::generate_pkcs8;
    use super::super::service_account_claims::{ObjectRef, DEFAULT_ISSUER};
    use super::*;

    fn tokens() -> ServiceAccountTokens {
        ServiceAccountTokens::new(
            Es256Key::from_pkcs8(&generate_pkcs8().unwrap()).unwrap(),
            DEFAULT_ISSUER.into(),
            vec![DEFAULT_ISSUER.into()],
        )
    }

    fn grant(audience: &str) -> TokenGrant {
        TokenGrant {
            namespace: "default".into(),
            service_account: ObjectRef {
                name: "default".into(),
                uid: "u1".into(),
            },
            audiences: vec![audience.into()],
            expiration_seconds: 600,
            ..TokenGrant::default()
        }
    }

    #[test]
    fn times_audience_and_signature() {
        let tokens = tokens();
        let (token, claims) = tokens.issue(grant(DEFAULT_ISSUER), 1_000).unwrap();
        assert_eq!(claims.exp, 1_600);
        assert_eq!(tokens.verify(&token, 1_000).unwrap(), claims);
        assert_eq!(tokens.verify(&token, 1_599).unwrap(), claims);
        assert_eq!(tokens.verify(&token, 1_600), Err(TokenRejected::Expired));
        assert_eq!(tokens.verify(&token, 999), Err(TokenRejected::NotYetValid));
        let (vault, _) = tokens.issue(grant("vault"), 1_000).unwrap();
        assert_eq!(tokens.verify(&vault, 1_000), Err(TokenRejected::Audience));
        assert!(matches!(
            self::tokens().verify(&token, 1_000),
            Err(TokenRejected::Jwt(JwtError::Signature))
        ));
    }

    #[test]
    fn deletion_grace() {
        let now = jiff::Timestamp::now().as_second();
        let at = |secs: i64| {
            let t = jiff::Timestamp::from_second(secs).unwrap().to_string();
            serde_json::json!({"metadata": {"deletionTimestamp": t}})
        };
        assert!(!deleted_long_ago(&serde_json::json!({"metadata": {}}), now));
        assert!(!deleted_long_ago(&at(now - 30), now));
        assert!(deleted_long_ago(&at(now - 61), now));
    }
}
