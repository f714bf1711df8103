//! Upstream's NamespaceLifecycle admission: nothing is created in a namespace that does not exist
//! or is being terminated.

use serde_json::Value;

use api::ResourceInfo;

use super::keys::object_key;
use super::Registry;
use crate::status::{ApiError, StatusCause};

fn namespaces() -> Result<&'static ResourceInfo, ApiError> {
    api::catalog::find("", "v1", "namespaces")
        .ok_or_else(|| ApiError::internal("namespaces are not in the catalog"))
}

fn is_terminating(namespace: &Value) -> bool {
    namespace
        .get("metadata")
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some()
        || namespace
            .get("status")
            .and_then(|s| s.get("phase"))
            .and_then(Value::as_str)
            == Some("Terminating")
}

impl Registry {
    /// Refuse creating `info` objects in a missing or terminating namespace.
    pub async fn admit_create_in_namespace(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
    ) -> Result<(), ApiError> {
        let Some(namespace) = namespace.filter(|_| info.namespaced) else {
            return Ok(());
        };
        let cached = self
            .cache
            .resource("namespaces")
            .and_then(|c| c.get(&object_key("namespaces", None, namespace)))
            .map(|o| o.value());
        let object = match cached {
            Some(object) => object,
            // The cache may not have seen a namespace created a moment ago: ask storage.
            None => self.store.get(namespaces()?, None, namespace).await?.object,
        };
        if is_terminating(&object) && info.kind != "Event" {
            let mut error = ApiError::forbidden(format!(
                "{} \"{}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                info.plural,
                object.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("")
            ));
            error.message = format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            );
            error.details.causes = vec![StatusCause {
                reason: "NamespaceTerminating".into(),
                message: format!("namespace {namespace} is being terminated"),
                field: "metadata.namespace".into(),
            }];
            return Err(error);
        }
        Ok(())
    }
}
