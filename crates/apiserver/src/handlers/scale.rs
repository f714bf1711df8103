//! The `scale` subresource: an autoscaling/v1 Scale view of spec.replicas.

use serde_json::{json, Value};

use super::decode::decode_object;
use super::resource::Target;
use super::write::guaranteed_update;
use crate::http::body::decode_json;
use crate::http::negotiate::{body_format, BodyFormat};
use crate::http::response::{value_response, HttpResponse};
use crate::registry::strategy::WriteTarget;
use crate::server::{ApiServer, RequestContext};
use crate::status::ApiError;

/// The selector as a label selector string (`app=web,tier in (a)`).
fn selector_string(object: &Value) -> String {
    let Some(selector) = object.get("spec").and_then(|s| s.get("selector")) else {
        return String::new();
    };
    let (labels, expressions) = match selector.get("matchLabels") {
        Some(labels) => (
            labels.as_object(),
            selector.get("matchExpressions").and_then(Value::as_array),
        ),
        // ReplicationControllers select with a plain map.
        None if selector.get("matchExpressions").is_none() => (selector.as_object(), None),
        None => (
            None,
            selector.get("matchExpressions").and_then(Value::as_array),
        ),
    };
    let mut parts: Vec<String> = labels
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    for expression in expressions.into_iter().flatten() {
        let key = expression.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match expression
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or("")
        {
            "In" => parts.push(format!("{key} in ({})", values.join(","))),
            "NotIn" => parts.push(format!("{key} notin ({})", values.join(","))),
            "Exists" => parts.push(key.to_string()),
            "DoesNotExist" => parts.push(format!("!{key}")),
            _ => {}
        }
    }
    parts.sort();
    parts.join(",")
}

fn scale_of(object: &Value) -> Value {
    let meta = object.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let pick = |field: &str| meta.get(field).cloned().unwrap_or(Value::Null);
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": pick("name"),
            "namespace": pick("namespace"),
            "uid": pick("uid"),
            "resourceVersion": pick("resourceVersion"),
            "creationTimestamp": pick("creationTimestamp"),
        },
        "spec": {"replicas": object.get("spec").and_then(|s| s.get("replicas")).cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": object.get("status").and_then(|s| s.get("replicas")).cloned().unwrap_or(json!(0)),
            "selector": selector_string(object),
        },
    })
}

fn replicas_of(scale: &Value, name: &str) -> Result<i64, ApiError> {
    let replicas = scale
        .get("spec")
        .and_then(|s| s.get("replicas"))
        .cloned()
        .unwrap_or(json!(0));
    match replicas.as_i64() {
        Some(r) if r >= 0 => Ok(r),
        _ => Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            name,
            &[api::FieldError::invalid(
                "spec.replicas",
                replicas,
                "must be greater than or equal to 0",
            )],
        )),
    }
}

pub async fn handle(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
    verb: &str,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let name = target.name.unwrap_or("").to_string();
    if verb == "get" {
        let stored = server
            .registry
            .store
            .get(target.info, target.namespace, &name)
            .await?;
        return Ok(value_response(
            200,
            &scale_of(&stored.object),
            ctx.accept.encoding,
        ));
    }
    let change: Value = match verb {
        "update" => decode_object(ctx, body)?,
        "patch" => decode_json(body)?,
        _ => return Err(ApiError::method_not_allowed()),
    };
    let format = body_format(ctx.content_type.as_deref())?;
    let mutation = |current: Option<&Value>| -> Result<Value, ApiError> {
        let current = current
            .ok_or_else(|| ApiError::not_found(target.info.group, target.info.plural, &name))?;
        let scale = scale_of(current);
        let desired = match (verb, format) {
            ("update", _) => change.clone(),
            (_, BodyFormat::JsonPatch) => patch::apply_json_patch(&scale, &change)
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
            _ => patch::merge_patch(&scale, &change)
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        };
        let replicas = replicas_of(&desired, &name)?;
        let mut updated = current.clone();
        updated["spec"]["replicas"] = json!(replicas);
        let precondition = desired
            .get("metadata")
            .and_then(|m| m.get("resourceVersion"))
            .and_then(Value::as_str)
            .filter(|rv| !rv.is_empty() && verb == "update");
        if let Some(meta) = updated.get_mut("metadata").and_then(Value::as_object_mut) {
            match precondition {
                Some(rv) => meta.insert("resourceVersion".into(), json!(rv)),
                None => meta.remove("resourceVersion"),
            };
        }
        Ok(updated)
    };
    let updated = guaranteed_update(
        server,
        ctx,
        target,
        WriteTarget::Main,
        &mutation,
        false,
        true,
    )
    .await?;
    Ok(value_response(
        200,
        &scale_of(&updated.object),
        ctx.accept.encoding,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_view_of_a_deployment() {
        let deployment = json!({
            "metadata": {"name": "web", "namespace": "default", "resourceVersion": "7"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}},
            "status": {"replicas": 2},
        });
        let scale = scale_of(&deployment);
        assert_eq!(scale["spec"]["replicas"], 3);
        assert_eq!(scale["status"]["replicas"], 2);
        assert_eq!(scale["status"]["selector"], "app=web,tier in (a,b)");
        assert_eq!(scale["metadata"]["resourceVersion"], "7");
    }
}
