//! `POST pods/<name>/binding`: the scheduler's assignment of a pod to a node.
//!
//! As upstream's BindingREST, this is not an update of the pod through the usual pipeline: the
//! server reads the pod, sets `spec.nodeName` and the PodScheduled condition (and copies the
//! Binding's annotations), and writes it back by compare-and-swap. The pod is opened only as far
//! as that needs ([`StoredPod`]): the rest of its bytes are written back as they were read. No
//! defaulting, validation or field management runs, and nothing is copied to compare before and
//! after: a binding always changes the pod. The Binding's `metadata.uid` and `metadata.resourceVersion`, when set, are
//! preconditions on the pod.

use api::ResourceInfo;
use serde_json::{json, Map, Value};

use super::decode::{decode_object, is_dry_run};
use super::resource::Target;
use crate::http::response::{value_response, HttpResponse};
use crate::registry::object_meta::meta_str;
use crate::server::{ApiServer, RequestContext};
use crate::status::{success_status, ApiError};
use stored_pod::StoredPod;

mod stored_pod;

/// What a Binding asks for.
struct Binding {
    node: String,
    uid: Option<String>,
    resource_version: Option<String>,
    annotations: Map<String, Value>,
}

impl Binding {
    fn parse(binding: &Value, name: &str) -> Result<Self, ApiError> {
        let node = binding
            .get("target")
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                ApiError::invalid(
                    "",
                    "Binding",
                    name,
                    &[api::FieldError::required("target.name", "")],
                )
            })?
            .to_string();
        let non_empty = |field: &str| {
            meta_str(binding, field)
                .filter(|value| !value.is_empty())
                .map(str::to_string)
        };
        let annotations = binding
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        Ok(Self {
            node,
            uid: non_empty("uid"),
            resource_version: non_empty("resourceVersion"),
            annotations,
        })
    }

    /// Checks the preconditions and the pod's state, then assigns it.
    fn assign(
        &self,
        info: &ResourceInfo,
        pod: &mut StoredPod,
        revision: i64,
        name: &str,
    ) -> Result<(), ApiError> {
        super::preconditions::check_uid_and_revision(
            info,
            name,
            pod.meta_str("uid").as_deref().unwrap_or(""),
            revision,
            self.uid.as_deref(),
            self.resource_version.as_deref(),
        )?;
        let assigned = pod.node_name();
        if !assigned.is_empty() {
            return Err(ApiError::conflict(
                "",
                "pods",
                name,
                &format!("pod {name} is already assigned to node \"{assigned}\""),
            ));
        }
        if pod.has_meta("deletionTimestamp") {
            return Err(ApiError::conflict(
                "",
                "pods",
                name,
                "pod is being deleted, cannot be assigned to a host",
            ));
        }
        pod.merge_annotations(&self.annotations)
            .and_then(|()| pod.set_node_name(&self.node))
            .and_then(|()| pod.update_status(mark_scheduled))
            .map_err(stored_object)
    }
}

/// Replaces the PodScheduled condition with a true one.
fn mark_scheduled(status: &mut Map<String, Value>) {
    let conditions = status
        .entry("conditions")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !conditions.is_array() {
        *conditions = Value::Array(Vec::new());
    }
    if let Value::Array(items) = conditions {
        items.retain(|c| c.get("type").and_then(Value::as_str) != Some("PodScheduled"));
        items.push(json!({
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": null,
            "lastTransitionTime": crate::registry::object_meta::now_rfc3339(),
        }));
    }
}

/// A stored pod that does not read or write as JSON.
fn stored_object(error: serde_json::Error) -> ApiError {
    ApiError::internal(format!("stored object: {error}"))
}

pub async fn bind(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let name = target.name.unwrap_or("");
    let binding = Binding::parse(&decode_object(ctx, body)?, name)?;
    let dry_run = is_dry_run(ctx)?;
    let store = &server.registry.store;
    loop {
        let (bytes, revision) = store
            .get_stored(target.info, target.namespace, name)
            .await?;
        let mut pod = StoredPod::parse(&bytes).map_err(stored_object)?;
        binding.assign(target.info, &mut pod, revision, name)?;
        if dry_run {
            break;
        }
        let bytes = pod.into_bytes().map_err(stored_object)?;
        match store
            .replace_stored(target.info, target.namespace, name, bytes, revision)
            .await
        {
            Ok(_) => break,
            // Someone else wrote the pod in between: read it again (a precondition decides).
            Err(error) if error.code == 409 => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(value_response(
        201,
        &success_status(None),
        ctx.accept.encoding,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(extra: Value) -> Binding {
        let mut value = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
            "target": {"kind": "Node", "name": "n1"}});
        if let (Some(base), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
            for (key, field) in extra {
                base.insert(key.clone(), field.clone());
            }
        }
        Binding::parse(&value, "p").unwrap()
    }

    fn pods() -> &'static ResourceInfo {
        api::catalog::find("", "v1", "pods").expect("pods are in the catalog")
    }

    fn stored(pod: &Value) -> StoredPod {
        StoredPod::parse(&serde_json::to_vec(pod).unwrap()).unwrap()
    }

    /// Assigns `pod` by `binding`, returning the pod written or the refusal.
    fn assign(binding: &Binding, pod: &Value, revision: i64) -> Result<Value, ApiError> {
        let mut stored = stored(pod);
        binding.assign(pods(), &mut stored, revision, "p")?;
        Ok(serde_json::from_slice(&stored.into_bytes().unwrap()).unwrap())
    }

    fn pod() -> Value {
        json!({"metadata": {"name": "p", "uid": "u1", "annotations": {"a": "1"}},
            "spec": {"containers": []},
            "status": {"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"},
                {"type": "Other", "status": "True"}]}})
    }

    #[test]
    fn assigns_the_node_and_replaces_the_scheduled_condition() {
        let pod = assign(&binding(json!({})), &pod(), 7).unwrap();
        assert_eq!(pod["spec"]["nodeName"], "n1");
        let conditions = pod["status"]["conditions"].as_array().unwrap();
        assert_eq!(conditions.len(), 2);
        assert_eq!(conditions[0]["type"], "Other");
        assert_eq!(conditions[1]["type"], "PodScheduled");
        assert_eq!(conditions[1]["status"], "True");
        assert!(conditions[1]["lastTransitionTime"].is_string());
    }

    #[test]
    fn a_pod_without_status_gets_one() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {}});
        let pod = assign(&binding(json!({})), &pod, 7).unwrap();
        assert_eq!(pod["status"]["conditions"][0]["type"], "PodScheduled");
    }

    #[test]
    fn copies_annotations_and_checks_preconditions() {
        let pod = assign(
            &binding(
                json!({"metadata": {"name": "p", "uid": "u1", "resourceVersion": "7",
                "annotations": {"b": "2"}}}),
            ),
            &pod(),
            7,
        )
        .unwrap();
        assert_eq!(pod["metadata"]["annotations"], json!({"a": "1", "b": "2"}));

        let wrong_uid = assign(
            &binding(json!({"metadata": {"name": "p", "uid": "u2"}})),
            &self::pod(),
            7,
        )
        .unwrap_err();
        assert_eq!(wrong_uid.code, 409);
        assert!(
            wrong_uid.message.contains("UID in precondition: u2"),
            "{}",
            wrong_uid.message
        );
        let wrong_rv = assign(
            &binding(json!({"metadata": {"name": "p", "resourceVersion": "6"}})),
            &self::pod(),
            7,
        )
        .unwrap_err();
        assert_eq!(wrong_rv.code, 409);
    }

    #[test]
    fn refuses_assigned_and_terminating_pods_and_bindings_without_a_node() {
        let mut assigned = pod();
        assigned["spec"]["nodeName"] = json!("n0");
        let error = assign(&binding(json!({})), &assigned, 7).unwrap_err();
        assert_eq!(error.code, 409);
        assert!(error.message.contains("already assigned to node \"n0\""));

        let mut deleting = pod();
        deleting["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        let error = assign(&binding(json!({})), &deleting, 7).unwrap_err();
        assert!(error.message.contains("being deleted"));

        let no_node = Binding::parse(&json!({"target": {"name": ""}}), "p");
        assert_eq!(no_node.err().map(|e| e.code), Some(422));
    }
}
