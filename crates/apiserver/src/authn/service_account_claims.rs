//! The claims of a bound service-account token, as upstream's pkg/serviceaccount: the registered
//! JWT claims plus a private `kubernetes.io` claim naming the account and what the token is bound to.

use serde::{Deserialize, Serialize};

/// Upstream's issuer and audience when none is configured (k3s's default).
pub const DEFAULT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
/// Group of every service account, and prefix of the per-namespace group.
pub const SERVICE_ACCOUNTS_GROUP: &str = "system:serviceaccounts";
pub const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";

/// A name and uid, as upstream's `ref`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
}

/// The private `kubernetes.io` claim.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubernetesClaim {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default)]
    pub serviceaccount: ObjectRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<ObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<ObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<ObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warnafter: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub jti: String,
    #[serde(rename = "kubernetes.io")]
    pub kubernetes: KubernetesClaim,
}

/// `system:serviceaccount:<namespace>:<name>`.
pub fn service_account_username(namespace: &str, name: &str) -> String {
    format!("{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{name}")
}

/// What a token is issued for.
#[derive(Debug, Clone, Default)]
pub struct TokenGrant {
    pub namespace: String,
    pub service_account: ObjectRef,
    pub pod: Option<ObjectRef>,
    pub secret: Option<ObjectRef>,
    pub node: Option<ObjectRef>,
    pub audiences: Vec<String>,
    /// Seconds the token is valid from `now`.
    pub expiration_seconds: i64,
    /// Seconds after which using the token is warned about (0: never).
    pub warn_after_seconds: i64,
}

impl Claims {
    /// Claims issued by `issuer` at `now` (Unix seconds).
    pub fn new(issuer: &str, grant: TokenGrant, now: i64) -> Self {
        Self {
            iss: issuer.to_string(),
            sub: service_account_username(&grant.namespace, &grant.service_account.name),
            aud: grant.audiences,
            exp: now.saturating_add(grant.expiration_seconds),
            iat: now,
            nbf: now,
            jti: uuid::Uuid::new_v4().to_string(),
            kubernetes: KubernetesClaim {
                namespace: grant.namespace,
                serviceaccount: grant.service_account,
                pod: grant.pod,
                secret: grant.secret,
                node: grant.node,
                warnafter: (grant.warn_after_seconds > 0)
                    .then(|| now.saturating_add(grant.warn_after_seconds)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_bound_claims_have_upstreams_shape() {
        let grant = TokenGrant {
            namespace: "default".into(),
            service_account: ObjectRef {
                name: "default".into(),
                uid: "sa-uid".into(),
            },
            pod: Some(ObjectRef {
                name: "web".into(),
                uid: "pod-uid".into(),
            }),
            node: Some(ObjectRef {
                name: "n1".into(),
                uid: "node-uid".into(),
            }),
            audiences: vec![DEFAULT_ISSUER.into()],
            expiration_seconds: 3600,
            warn_after_seconds: 600,
            ..TokenGrant::default()
        };
        let claims = Claims::new(DEFAULT_ISSUER, grant, 1_000);
        let mut value = serde_json::to_value(&claims).unwrap();
        assert!(!value["jti"].as_str().unwrap().is_empty());
        value["jti"] = json!("x");
        assert_eq!(
            value,
            json!({
                "iss": DEFAULT_ISSUER,
                "sub": "system:serviceaccount:default:default",
                "aud": [DEFAULT_ISSUER],
                "exp": 4600, "iat": 1000, "nbf": 1000, "jti": "x",
                "kubernetes.io": {
                    "namespace": "default",
                    "serviceaccount": {"name": "default", "uid": "sa-uid"},
                    "pod": {"name": "web", "uid": "pod-uid"},
                    "node": {"name": "n1", "uid": "node-uid"},
                    "warnafter": 1600,
                },
            })
        );
        let back: Claims = serde_json::from_value(serde_json::to_value(&claims).unwrap()).unwrap();
        assert_eq!(back, claims);
    }
}
