//! Which Endpoints are mirrored, and the labels and annotations their slices carry.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Endpoints, Service};
use kube::ResourceExt;

use crate::endpointslice::{MANAGED_BY_LABEL, SERVICE_NAME_LABEL};

pub const MANAGED_BY: &str = "endpointslicemirroring-controller.k8s.io";
const SKIP_MIRROR_LABEL: &str = "endpointslice.kubernetes.io/skip-mirror";
const LEADER_ANNOTATION: &str = "control-plane.alpha.kubernetes.io/leader";
const NOT_COPIED_ANNOTATIONS: [&str; 2] = [
    "endpoints.kubernetes.io/last-change-trigger-time",
    "kubectl.kubernetes.io/last-applied-configuration",
];

/// Whether `endpoints` should be mirrored for `service`: the Service exists without a
/// selector, the Endpoints is not marked skip-mirror or used for leader election, and neither
/// is the API server's own `default/kubernetes`.
pub fn should_mirror(endpoints: &Endpoints, service: Option<&Service>) -> bool {
    let Some(service) = service else {
        return false;
    };
    let has_selector = service
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|s| !s.is_empty());
    let is_api_server =
        endpoints.namespace().as_deref() == Some("default") && endpoints.name_any() == "kubernetes";
    !has_selector
        && !is_api_server
        && endpoints.metadata.deletion_timestamp.is_none()
        && endpoints
            .labels()
            .get(SKIP_MIRROR_LABEL)
            .map(String::as_str)
            != Some("true")
        && !endpoints.annotations().contains_key(LEADER_ANNOTATION)
}

/// The Endpoints' labels, with the service name and managed-by labels set.
pub fn slice_labels(endpoints: &Endpoints) -> BTreeMap<String, String> {
    let mut labels = endpoints.labels().clone();
    labels.insert(SERVICE_NAME_LABEL.into(), endpoints.name_any());
    labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
    labels
}

/// The Endpoints' annotations, less the trigger time and kubectl's last applied configuration.
pub fn slice_annotations(endpoints: &Endpoints) -> BTreeMap<String, String> {
    endpoints
        .annotations()
        .iter()
        .filter(|(key, _)| !NOT_COPIED_ANNOTATIONS.contains(&key.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(meta: serde_json::Value) -> Endpoints {
        serde_json::from_value(serde_json::json!({"metadata": meta})).unwrap()
    }

    fn service(selector: Option<serde_json::Value>) -> Service {
        let mut spec = serde_json::json!({"ports": [{"port": 80}]});
        if let Some(selector) = selector {
            spec["selector"] = selector;
        }
        serde_json::from_value(serde_json::json!({"metadata": {"name": "ext"}, "spec": spec}))
            .unwrap()
    }

    #[test]
    fn mirrors_only_selectorless_services_endpoints() {
        let plain = endpoints(serde_json::json!({"name": "ext", "namespace": "default"}));
        assert!(should_mirror(&plain, Some(&service(None))));
        assert!(should_mirror(
            &plain,
            Some(&service(Some(serde_json::json!({}))))
        ));
        assert!(!should_mirror(&plain, None));
        assert!(!should_mirror(
            &plain,
            Some(&service(Some(serde_json::json!({"app": "x"}))))
        ));
        let skipped = endpoints(serde_json::json!({"name": "ext", "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}}));
        assert!(!should_mirror(&skipped, Some(&service(None))));
        let leader = endpoints(serde_json::json!({"name": "ext", "namespace": "default",
            "annotations": {"control-plane.alpha.kubernetes.io/leader": "{}"}}));
        assert!(!should_mirror(&leader, Some(&service(None))));
        let api = endpoints(serde_json::json!({"name": "kubernetes", "namespace": "default"}));
        assert!(!should_mirror(&api, Some(&service(None))));
    }

    #[test]
    fn labels_and_annotations_are_copied_and_overridden() {
        let e = endpoints(serde_json::json!({"name": "ext", "namespace": "default",
            "labels": {"team": "a", "endpointslice.kubernetes.io/managed-by": "me"},
            "annotations": {"note": "x",
                "endpoints.kubernetes.io/last-change-trigger-time": "t",
                "kubectl.kubernetes.io/last-applied-configuration": "{}"}}));
        let labels = slice_labels(&e);
        assert_eq!(labels["team"], "a");
        assert_eq!(labels[MANAGED_BY_LABEL], MANAGED_BY);
        assert_eq!(labels[SERVICE_NAME_LABEL], "ext");
        let annotations = slice_annotations(&e);
        assert_eq!(annotations.len(), 1);
        assert_eq!(annotations["note"], "x");
    }
}
