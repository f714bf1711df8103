//! Upstream's NamespaceLifecycle admission: nothing is created in a namespace that does not exist
//! or is being terminated.

use serde::Deserialize;
use serde_json::Value;

use api::ResourceInfo;

use super::keys::object_key;
use super::Registry;
use crate::status::{ApiError, StatusCause};

fn namespaces() -> Result<&'static ResourceInfo, ApiError> {
    api::catalog::find("", "v1", "namespaces")
        .ok_or_else(|| ApiError::internal("namespaces are not in the catalog"))
}

/// A namespace read from storage: the same rule as a cached one's [`LifecycleView`].
fn is_terminating(namespace: &Value) -> bool {
    LifecycleView::deserialize(namespace).is_ok_and(|view| view.terminating())
}

/// What this admission reads of a cached namespace, parsed without the rest of it (every
/// namespaced create asks).
#[derive(serde::Deserialize)]
struct LifecycleView {
    #[serde(default)]
    metadata: LifecycleMetadata,
    #[serde(default)]
    status: LifecycleStatus,
}

#[derive(Default, serde::Deserialize)]
struct LifecycleMetadata {
    #[serde(rename = "deletionTimestamp", default)]
    deletion_timestamp: Option<serde::de::IgnoredAny>,
}

#[derive(Default, serde::Deserialize)]
struct LifecycleStatus {
    #[serde(default)]
    phase: Option<String>,
}

impl LifecycleView {
    fn terminating(&self) -> bool {
        self.metadata.deletion_timestamp.is_some()
            || self.status.phase.as_deref() == Some("Terminating")
    }
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
            .map(|o| {
                serde_json::from_slice::<LifecycleView>(&o.json).is_ok_and(|v| v.terminating())
            });
        let terminating = match cached {
            Some(terminating) => terminating,
            // The cache may not have seen a namespace created a moment ago: ask storage.
            None => is_terminating(&self.store.get(namespaces()?, None, namespace).await?.object),
        };
        if terminating && info.kind != "Event" {
            let mut error = ApiError::forbidden(format!(
                "{} \"{namespace}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                info.plural,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn both_views(namespace: Value) -> (bool, bool) {
        let bytes = serde_json::to_vec(&namespace).expect("json");
        let view: LifecycleView = serde_json::from_slice(&bytes).expect("view");
        (view.terminating(), is_terminating(&namespace))
    }

    #[test]
    fn the_cached_view_and_the_stored_object_agree() {
        let active = json!({"metadata": {"name": "a", "managedFields": [{"manager": "m"}]},
                            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        assert_eq!(both_views(active), (false, false));
        let deleted = json!({"metadata": {"name": "a", "deletionTimestamp": "2026-11-24T00:00:00Z"},
                             "status": {"phase": "Active"}});
        assert_eq!(both_views(deleted), (true, true));
        let terminating = json!({"metadata": {"name": "a"}, "status": {"phase": "Terminating"}});
        assert_eq!(both_views(terminating), (true, true));
        assert_eq!(both_views(json!({})), (false, false));
    }
}
