//! `POST pods/<name>/eviction`: delete a pod unless a PodDisruptionBudget forbids it. Each eviction
//! takes one disruption from the budget's status with a compare-and-swap, as upstream does, so that
//! concurrent evictions (kubectl drain evicts in parallel) cannot overrun the budget.

use serde_json::{json, Value};

use super::delete::{delete_object, delete_options};
use super::resource::Target;
use crate::http::response::{value_response, HttpResponse};
use crate::registry::keys::collection_prefix;
use crate::registry::object_meta::now_rfc3339;
use crate::server::{ApiServer, RequestContext};
use crate::status::{success_status, ApiError, StatusCause};

/// Names of the budgets in the namespace whose selector matches the pod.
fn budgets_selecting(server: &ApiServer, namespace: &str, pod: &Value) -> Vec<String> {
    let Some(budgets) = server.registry.cache.resource("poddisruptionbudgets") else {
        return Vec::new();
    };
    let prefix = collection_prefix("poddisruptionbudgets", Some(namespace));
    budgets
        .list(&prefix, &|budget| {
            let budget = budget.value();
            let selector = budget.get("spec").and_then(|s| s.get("selector"));
            api::selector::LabelSelector::from_label_selector_json(selector)
                .is_ok_and(|s| !s.is_empty() && s.matches_object(pod))
        })
        .iter()
        .map(|b| b.selectable.name().unwrap_or("").to_string())
        .collect()
}

fn budget_exhausted(budget: &str) -> ApiError {
    let mut error = ApiError::too_many_requests();
    error.message = "Cannot evict pod as it would violate the pod's disruption budget.".into();
    error.details.causes = vec![StatusCause {
        reason: "DisruptionBudget".into(),
        message: format!(
            "The disruption budget {budget} needs more healthy pods to allow this eviction."
        ),
        field: String::new(),
    }];
    error.details.retry_after_seconds = None;
    error
}

/// Take one allowed disruption from the budget, or refuse with 429.
async fn consume_disruption(
    server: &ApiServer,
    namespace: &str,
    budget: &str,
    pod: &str,
) -> Result<(), ApiError> {
    let info = api::catalog::find("policy", "v1", "poddisruptionbudgets")
        .ok_or_else(|| ApiError::internal("poddisruptionbudgets are not in the catalog"))?;
    loop {
        let current = match server
            .registry
            .store
            .get(info, Some(namespace), budget)
            .await
        {
            Ok(current) => current,
            // The budget went away meanwhile: nothing limits the eviction any more.
            Err(error) if error.code == 404 => return Ok(()),
            Err(error) => return Err(error),
        };
        let status = current.object.get("status");
        let allowed = status
            .and_then(|s| s.get("disruptionsAllowed"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if allowed <= 0 {
            return Err(budget_exhausted(budget));
        }
        let mut updated = current.object.clone();
        updated["status"]["disruptionsAllowed"] = json!(allowed - 1);
        updated["status"]["disruptedPods"][pod] = json!(now_rfc3339());
        match server
            .registry
            .store
            .replace(info, Some(namespace), budget, updated, current.revision)
            .await
        {
            Ok(_) => return Ok(()),
            Err(error) if error.code == 409 => continue,
            Err(error) => return Err(error),
        }
    }
}

fn is_terminal(pod: &Value) -> bool {
    matches!(
        pod.get("status")
            .and_then(|s| s.get("phase"))
            .and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    )
}

pub async fn evict(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let name = target.name.unwrap_or("");
    let eviction = super::decode::decode_object(ctx, body)?;
    let namespace = target.namespace.unwrap_or("");
    let pod = server
        .registry
        .store
        .get(target.info, target.namespace, name)
        .await?;
    let already_deleting = pod
        .object
        .get("metadata")
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some();
    if !is_terminal(&pod.object) && !already_deleting {
        match budgets_selecting(server, namespace, &pod.object).as_slice() {
            [] => {}
            [budget] => consume_disruption(server, namespace, budget, name).await?,
            _ => {
                return Err(ApiError::internal(
                    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                ))
            }
        }
    }
    let options_body = eviction
        .get("deleteOptions")
        .map(|o| serde_json::to_vec(o).unwrap_or_default())
        .unwrap_or_default();
    let options = delete_options(ctx, &options_body)?;
    delete_object(server, target, name, &options).await?;
    Ok(value_response(
        201,
        &success_status(None),
        ctx.accept.encoding,
    ))
}
