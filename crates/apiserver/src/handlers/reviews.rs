//! The review APIs kubectl relies on: access reviews (`kubectl auth can-i`), rules reviews, token
//! reviews and `kubectl auth whoami`. Nothing is stored: the answer is the request with a status.

use serde_json::{json, Value};

use api::ResourceInfo;

use super::decode::{check_type, decode_object};
use crate::authn::UserInfo;
use crate::authz::{Attributes, Decision};
use crate::http::response::{value_response, HttpResponse};
use crate::server::{ApiServer, RequestContext};
use crate::status::ApiError;

fn string_at<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn attributes_of(spec: &Value) -> Attributes {
    if let Some(non_resource) = spec.get("nonResourceAttributes") {
        return Attributes {
            verb: string_at(non_resource, &["verb"]).to_string(),
            path: Some(string_at(non_resource, &["path"]).to_string()),
            ..Attributes::default()
        };
    }
    let r = spec
        .get("resourceAttributes")
        .cloned()
        .unwrap_or_else(|| json!({}));
    Attributes {
        verb: string_at(&r, &["verb"]).to_string(),
        group: string_at(&r, &["group"]).to_string(),
        version: string_at(&r, &["version"]).to_string(),
        resource: string_at(&r, &["resource"]).to_string(),
        subresource: string_at(&r, &["subresource"]).to_string(),
        namespace: string_at(&r, &["namespace"]).to_string(),
        name: string_at(&r, &["name"]).to_string(),
        path: None,
    }
}

fn user_of(spec: &Value) -> UserInfo {
    UserInfo {
        name: string_at(spec, &["user"]).to_string(),
        uid: string_at(spec, &["uid"]).to_string(),
        groups: spec
            .get("groups")
            .and_then(Value::as_array)
            .map(|g| {
                g.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn access_status(server: &ApiServer, user: &UserInfo, spec: &Value) -> Value {
    match server.authorizer.authorize(user, &attributes_of(spec)) {
        Decision::Allow => json!({"allowed": true}),
        Decision::Deny(reason) if reason.is_empty() => json!({"allowed": false}),
        Decision::Deny(reason) => json!({"allowed": false, "reason": reason}),
    }
}

fn user_json(user: &UserInfo) -> Value {
    let mut out = json!({"username": user.name, "groups": user.groups});
    if !user.uid.is_empty() {
        out["uid"] = json!(user.uid);
    }
    out
}

/// The rules a user may exercise in the review's namespace, as RBAC grants them.
fn rules_status(server: &ApiServer, user: &UserInfo, spec: &Value) -> Value {
    let namespace = string_at(spec, &["namespace"]);
    let Some(rules) = server.authorizer.rules_for(user, namespace) else {
        return json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false,
        });
    };
    let (non_resource, resource): (Vec<_>, Vec<_>) = rules
        .into_iter()
        .partition(|r| !r.non_resource_urls.is_empty());
    let resource_rules: Vec<Value> = resource
        .iter()
        .map(|r| {
            let mut rule =
                json!({"verbs": r.verbs, "apiGroups": r.api_groups, "resources": r.resources});
            if !r.resource_names.is_empty() {
                rule["resourceNames"] = json!(r.resource_names);
            }
            rule
        })
        .collect();
    let non_resource_rules: Vec<Value> = non_resource
        .iter()
        .map(|r| json!({"verbs": r.verbs, "nonResourceURLs": r.non_resource_urls}))
        .collect();
    json!({
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": false,
    })
}

pub fn create(
    server: &ApiServer,
    ctx: &RequestContext,
    info: &'static ResourceInfo,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let mut review = if body.is_empty() {
        json!({})
    } else {
        decode_object(ctx, body)?
    };
    check_type(info, &mut review)?;
    let spec = review.get("spec").cloned().unwrap_or_else(|| json!({}));
    let status = match info.kind {
        "SelfSubjectAccessReview" => access_status(server, &ctx.user, &spec),
        "SubjectAccessReview" | "LocalSubjectAccessReview" => {
            access_status(server, &user_of(&spec), &spec)
        }
        "SelfSubjectRulesReview" => rules_status(server, &ctx.user, &spec),
        "SelfSubjectReview" => json!({"userInfo": user_json(&ctx.user)}),
        "TokenReview" => {
            let token = string_at(&spec, &["token"]);
            match server.authenticate_token(token) {
                Some(user) => json!({"authenticated": true, "user": user_json(&user)}),
                None => json!({"authenticated": false, "error": "invalid bearer token"}),
            }
        }
        _ => return Err(ApiError::method_not_allowed()),
    };
    review["status"] = status;
    if review.get("metadata").is_none() {
        review["metadata"] = json!({});
    }
    if let Some(meta) = review.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("creationTimestamp".into(), Value::Null);
    }
    Ok(value_response(201, &review, ctx.accept.encoding))
}
