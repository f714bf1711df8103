//! `POST serviceaccounts/<name>/token`: a TokenRequest answered with a bound token, as upstream's
//! TokenREST. Nothing is stored; the token is signed with the server's service-account key.

use serde_json::{json, Value};

use super::decode::decode_object;
use super::resource::Target;
use crate::authn::service_account_claims::{ObjectRef, TokenGrant};
use crate::http::response::{value_response, HttpResponse};
use crate::registry::keys::object_key;
use crate::registry::object_meta::meta_str;
use crate::server::{ApiServer, RequestContext};
use crate::status::ApiError;

const API_VERSION: &str = "authentication.k8s.io/v1";
const KIND: &str = "TokenRequest";
const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
const MIN_EXPIRATION_SECONDS: i64 = 600;
const MAX_EXPIRATION_SECONDS: i64 = 1 << 32;
/// The lifetime kubelets ask for in the default token volume: such pod-bound tokens are valid for a
/// year but warned about after the requested time (upstream's extended expiration).
const WARN_ONLY_EXPIRATION_SECONDS: i64 = 3607;
const EXTENDED_EXPIRATION_SECONDS: i64 = 365 * 24 * 60 * 60;

fn check_kind(request: &Value) -> Result<(), ApiError> {
    let kind = request.get("kind").and_then(Value::as_str).unwrap_or("");
    if !kind.is_empty() && kind != KIND {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({KIND})"
        )));
    }
    let version = request
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !version.is_empty() && version != API_VERSION {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({version}) does not match the expected API version ({API_VERSION})"
        )));
    }
    Ok(())
}

fn expiration_seconds(spec: &Value, name: &str) -> Result<i64, ApiError> {
    let seconds = spec
        .get("expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_EXPIRATION_SECONDS);
    let detail = if seconds < MIN_EXPIRATION_SECONDS {
        "may not specify a duration less than 10 minutes"
    } else if seconds > MAX_EXPIRATION_SECONDS {
        "may not specify a duration larger than 2^32 seconds"
    } else {
        return Ok(seconds);
    };
    let error = api::FieldError::invalid("spec.expirationSeconds", seconds, detail);
    Err(ApiError::invalid(
        "authentication.k8s.io",
        KIND,
        name,
        &[error],
    ))
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn reference_of(object: &Value) -> ObjectRef {
    ObjectRef {
        name: meta_str(object, "name").unwrap_or("").to_string(),
        uid: meta_str(object, "uid").unwrap_or("").to_string(),
    }
}

async fn read(
    server: &ApiServer,
    resource: &str,
    namespace: &str,
    name: &str,
) -> Result<Value, ApiError> {
    let info = api::catalog::find("", "v1", resource)
        .ok_or_else(|| ApiError::internal(format!("{resource} are not in the catalog")))?;
    Ok(server
        .registry
        .store
        .get(info, Some(namespace), name)
        .await?
        .object)
}

/// The node a pod runs on, from the watch cache (uid empty when it is gone).
fn node_of(server: &ApiServer, pod: &Value) -> Option<ObjectRef> {
    let name = pod
        .get("spec")
        .and_then(|s| s.get("nodeName"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())?;
    let uid = server
        .registry
        .cache
        .resource("minions")
        .and_then(|c| c.get(&object_key("minions", None, name)))
        .and_then(|n| meta_str(&n.value(), "uid").map(str::to_string))
        .unwrap_or_default();
    Some(ObjectRef {
        name: name.to_string(),
        uid,
    })
}

/// Fill the grant's bound object from `spec.boundObjectRef`, checking it exists with its uid.
async fn bind(
    server: &ApiServer,
    grant: &mut TokenGrant,
    account: &str,
    reference: &Value,
) -> Result<(), ApiError> {
    let field = |key: &str| reference.get(key).and_then(Value::as_str).unwrap_or("");
    let (kind, name, wanted_uid) = (field("kind"), field("name"), field("uid"));
    let group = field("apiVersion")
        .rsplit_once('/')
        .map(|(g, _)| g)
        .unwrap_or("");
    let namespace = grant.namespace.clone();
    let found = match (group, kind) {
        ("", "Pod") => {
            let pod = read(server, "pods", &namespace, name).await?;
            let pod_account = pod
                .get("spec")
                .and_then(|s| s.get("serviceAccountName"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if pod_account != account {
                return Err(ApiError::bad_request(format!(
                    "cannot bind token for serviceaccount {account:?} to pod running with different serviceaccount name."
                )));
            }
            grant.node = node_of(server, &pod);
            let found = reference_of(&pod);
            grant.pod = Some(found.clone());
            found
        }
        ("", "Secret") => {
            let found = reference_of(&read(server, "secrets", &namespace, name).await?);
            grant.secret = Some(found.clone());
            found
        }
        _ => {
            let version = field("apiVersion")
                .rsplit_once('/')
                .map(|(_, v)| v)
                .unwrap_or(field("apiVersion"));
            return Err(ApiError::bad_request(format!(
                "cannot bind token to object of type {group}/{version}, Kind={kind}"
            )));
        }
    };
    if !wanted_uid.is_empty() && wanted_uid != found.uid {
        return Err(ApiError::conflict(
            group,
            kind,
            name,
            &format!(
                "the UID in the bound object reference ({wanted_uid}) does not match the UID in record. The object might have been deleted and then recreated"
            ),
        ));
    }
    Ok(())
}

pub async fn create(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let tokens = server
        .service_account_tokens
        .as_ref()
        .ok_or_else(|| ApiError::service_unavailable("service account tokens are not enabled"))?;
    let mut request = decode_object(ctx, body)?;
    check_kind(&request)?;
    let namespace = target.namespace.unwrap_or("");
    let name = target.name.unwrap_or("");
    let account = read(server, "serviceaccounts", namespace, name).await?;
    let mut spec = request.get("spec").cloned().unwrap_or_else(|| json!({}));
    let expiration = expiration_seconds(&spec, name)?;
    let mut audiences = string_list(spec.get("audiences"));
    if audiences.is_empty() {
        audiences = tokens.audiences().to_vec();
    }
    let mut grant = TokenGrant {
        namespace: namespace.to_string(),
        service_account: reference_of(&account),
        audiences: audiences.clone(),
        expiration_seconds: expiration,
        ..TokenGrant::default()
    };
    if let Some(reference) = spec.get("boundObjectRef").filter(|r| !r.is_null()) {
        bind(server, &mut grant, name, reference).await?;
    }
    let kube_audiences = audiences.iter().all(|a| tokens.audiences().contains(a));
    if grant.pod.is_some() && expiration == WARN_ONLY_EXPIRATION_SECONDS && kube_audiences {
        grant.warn_after_seconds = expiration;
        grant.expiration_seconds = EXTENDED_EXPIRATION_SECONDS;
    }
    let now = jiff::Timestamp::now().as_second();
    let (token, _) = tokens
        .issue(grant, now)
        .map_err(|e| ApiError::internal(format!("failed to generate token: {e}")))?;
    let expires = jiff::Timestamp::from_second(now.saturating_add(expiration))
        .map(|t| t.to_string())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    spec["audiences"] = json!(audiences);
    spec["expirationSeconds"] = json!(expiration);
    if spec.get("boundObjectRef").is_none() {
        spec["boundObjectRef"] = Value::Null;
    }
    let mut metadata = request
        .get("metadata")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    metadata["creationTimestamp"] = Value::Null;
    request["apiVersion"] = json!(API_VERSION);
    request["kind"] = json!(KIND);
    request["metadata"] = metadata;
    request["spec"] = spec;
    request["status"] = json!({"token": token, "expirationTimestamp": expires});
    Ok(value_response(201, &request, ctx.accept.encoding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiration_defaults_and_limits() {
        assert_eq!(expiration_seconds(&json!({}), "sa").unwrap(), 3600);
        assert_eq!(
            expiration_seconds(&json!({"expirationSeconds": 600}), "sa").unwrap(),
            600
        );
        let short = expiration_seconds(&json!({"expirationSeconds": 599}), "sa").unwrap_err();
        assert_eq!(short.code, 422);
        assert!(
            short
                .message
                .contains("may not specify a duration less than 10 minutes"),
            "{}",
            short.message
        );
        let long =
            expiration_seconds(&json!({"expirationSeconds": (1i64 << 32) + 1}), "sa").unwrap_err();
        assert!(long.message.contains("larger than 2^32 seconds"));
    }

    #[test]
    fn only_token_requests() {
        assert!(check_kind(&json!({"kind": "TokenRequest"})).is_ok());
        assert!(check_kind(&json!({})).is_ok());
        assert!(check_kind(&json!({"kind": "Pod"})).is_err());
        assert!(check_kind(&json!({"apiVersion": "v1"})).is_err());
    }
}
