//! The fields each kind can be selected by, and their values read from an object, as upstream's
//! per-kind `ToSelectableFields` functions and field-label conversions define them.

use serde_json::Value;

use super::{FieldSelector, Selectable, SelectorError};
use crate::catalog::ResourceInfo;

/// How a kind's field labels are checked: upstream registers a conversion for some kinds (whose
/// error text is "field label not supported"), the rest fall back to a metadata-only default.
enum FieldLabels {
    /// Only these labels; unknown ones give "field label not supported: <label>".
    Listed(&'static [&'static str]),
    /// metadata.name and metadata.namespace only, with the default converter's message.
    MetadataOnly,
}

fn field_labels(info: &ResourceInfo) -> FieldLabels {
    let listed: &'static [&'static str] = match (info.group, info.plural) {
        ("", "pods") => &[
            "metadata.name",
            "metadata.namespace",
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ],
        ("", "events") => &[
            "metadata.name",
            "metadata.namespace",
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("events.k8s.io", "events") => &[
            "metadata.name",
            "metadata.namespace",
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "regarding.apiVersion",
            "regarding.resourceVersion",
            "regarding.fieldPath",
            "reason",
            "reportingController",
            "source",
            "type",
        ],
        ("", "namespaces") => &["metadata.name", "status.phase"],
        ("", "nodes") => &["metadata.name", "spec.unschedulable"],
        ("", "secrets") => &["metadata.name", "metadata.namespace", "type"],
        ("", "services") => &[
            "metadata.name",
            "metadata.namespace",
            "spec.clusterIP",
            "spec.type",
        ],
        ("", "replicationcontrollers") | ("apps", "replicasets") => {
            &["metadata.name", "metadata.namespace", "status.replicas"]
        }
        ("batch", "jobs") => &["metadata.name", "metadata.namespace", "status.successful"],
        ("certificates.k8s.io", "certificatesigningrequests") => {
            &["metadata.name", "spec.signerName"]
        }
        _ => return FieldLabels::MetadataOnly,
    };
    FieldLabels::Listed(listed)
}

/// Checks that every field of `selector` is selectable on `info`'s kind. The error text is
/// upstream's, to be returned as a 400 Bad Request.
pub fn check_field_selector(
    info: &ResourceInfo,
    selector: &FieldSelector,
) -> Result<(), SelectorError> {
    let labels = field_labels(info);
    for requirement in selector.requirements() {
        let field = requirement.field.as_str();
        match labels {
            FieldLabels::Listed(listed) if !listed.contains(&field) => {
                return Err(SelectorError(format!(
                    "field label not supported: {field}"
                )))
            }
            FieldLabels::MetadataOnly
                if field != "metadata.name" && field != "metadata.namespace" =>
            {
                return Err(SelectorError(format!(
                    "\"{field}\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

fn text<S: Selectable + ?Sized>(object: &S, pointer: &str) -> String {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn flag<S: Selectable + ?Sized>(object: &S, pointer: &str) -> String {
    object
        .pointer(pointer)
        .and_then(Value::as_bool)
        .unwrap_or(false)
        .to_string()
}

fn count<S: Selectable + ?Sized>(object: &S, pointer: &str) -> String {
    object
        .pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(0)
        .to_string()
}

/// The selectable fields of `object` (of `info`'s kind) with their values. Fields not listed
/// read as "" when matched.
pub fn selectable_field_values<S: Selectable + ?Sized>(
    info: &ResourceInfo,
    object: &S,
) -> Vec<(&'static str, String)> {
    let mut fields = vec![("metadata.name", text(object, "/metadata/name"))];
    if info.namespaced {
        fields.push(("metadata.namespace", text(object, "/metadata/namespace")));
    }
    let t = |pointer: &str| text(object, pointer);
    let specific: Vec<(&'static str, String)> = match (info.group, info.plural) {
        ("", "pods") => vec![
            ("spec.nodeName", t("/spec/nodeName")),
            ("spec.restartPolicy", t("/spec/restartPolicy")),
            ("spec.schedulerName", t("/spec/schedulerName")),
            ("spec.serviceAccountName", t("/spec/serviceAccountName")),
            ("spec.hostNetwork", flag(object, "/spec/hostNetwork")),
            ("status.phase", t("/status/phase")),
            ("status.podIP", t("/status/podIPs/0/ip")),
            ("status.nominatedNodeName", t("/status/nominatedNodeName")),
        ],
        ("", "events") => {
            let mut source = t("/source/component");
            if source.is_empty() {
                source = t("/reportingComponent");
            }
            vec![
                ("involvedObject.kind", t("/involvedObject/kind")),
                ("involvedObject.namespace", t("/involvedObject/namespace")),
                ("involvedObject.name", t("/involvedObject/name")),
                ("involvedObject.uid", t("/involvedObject/uid")),
                ("involvedObject.apiVersion", t("/involvedObject/apiVersion")),
                (
                    "involvedObject.resourceVersion",
                    t("/involvedObject/resourceVersion"),
                ),
                ("involvedObject.fieldPath", t("/involvedObject/fieldPath")),
                ("reason", t("/reason")),
                ("reportingComponent", t("/reportingComponent")),
                ("source", source),
                ("type", t("/type")),
            ]
        }
        ("events.k8s.io", "events") => {
            let mut source = t("/deprecatedSource/component");
            if source.is_empty() {
                source = t("/reportingController");
            }
            vec![
                ("regarding.kind", t("/regarding/kind")),
                ("regarding.namespace", t("/regarding/namespace")),
                ("regarding.name", t("/regarding/name")),
                ("regarding.uid", t("/regarding/uid")),
                ("regarding.apiVersion", t("/regarding/apiVersion")),
                ("regarding.resourceVersion", t("/regarding/resourceVersion")),
                ("regarding.fieldPath", t("/regarding/fieldPath")),
                ("reason", t("/reason")),
                ("reportingController", t("/reportingController")),
                ("source", source),
                ("type", t("/type")),
            ]
        }
        ("", "namespaces") => vec![("status.phase", t("/status/phase"))],
        ("", "nodes") => vec![("spec.unschedulable", flag(object, "/spec/unschedulable"))],
        ("", "secrets") => vec![("type", t("/type"))],
        ("", "services") => vec![
            ("spec.clusterIP", t("/spec/clusterIP")),
            ("spec.type", t("/spec/type")),
        ],
        ("", "replicationcontrollers") | ("apps", "replicasets") => {
            vec![("status.replicas", count(object, "/status/replicas"))]
        }
        ("batch", "jobs") => vec![("status.successful", count(object, "/status/succeeded"))],
        ("certificates.k8s.io", "certificatesigningrequests") => {
            vec![("spec.signerName", t("/spec/signerName"))]
        }
        _ => Vec::new(),
    };
    fields.extend(specific);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::find;
    use serde_json::json;

    fn selector(s: &str) -> FieldSelector {
        FieldSelector::parse(s).unwrap_or_default()
    }

    #[test]
    fn pod_fields() {
        let pods = find("", "v1", "pods").expect("pods");
        let pod = json!({
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"nodeName": "n1", "hostNetwork": true},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.1"}]}
        });
        let fields = selectable_field_values(pods, &pod);
        assert!(selector("spec.nodeName=n1,status.phase=Running").matches(&fields));
        assert!(selector("spec.hostNetwork=true,status.podIP=10.0.0.1").matches(&fields));
        assert!(selector("metadata.namespace=default,spec.schedulerName=").matches(&fields));
        assert!(!selector("spec.nodeName!=n1").matches(&fields));
    }

    #[test]
    fn unsupported_fields_are_rejected_with_upstream_texts() {
        let pods = find("", "v1", "pods").expect("pods");
        assert_eq!(
            check_field_selector(pods, &selector("spec.image=x")).map_err(|e| e.to_string()),
            Err("field label not supported: spec.image".to_string())
        );
        assert!(check_field_selector(pods, &selector("status.phase=Pending")).is_ok());
        let cms = find("", "v1", "configmaps").expect("configmaps");
        assert_eq!(
            check_field_selector(cms, &selector("data.x=y")).map_err(|e| e.to_string()),
            Err("\"data.x\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"".to_string())
        );
        assert!(check_field_selector(cms, &selector("metadata.name=a")).is_ok());
    }

    #[test]
    fn event_source_falls_back_to_reporting_controller() {
        let events = find("", "v1", "events").expect("events");
        let event = json!({
            "metadata": {"name": "e", "namespace": "ns"},
            "involvedObject": {"kind": "Pod", "name": "p"},
            "reportingComponent": "kubelet",
            "type": "Warning"
        });
        let fields = selectable_field_values(events, &event);
        assert!(selector("source=kubelet,involvedObject.kind=Pod,type=Warning").matches(&fields));
    }

    #[test]
    fn counts_and_flags() {
        let nodes = find("", "v1", "nodes").expect("nodes");
        let fields = selectable_field_values(nodes, &json!({"metadata": {"name": "n"}}));
        assert!(selector("spec.unschedulable=false").matches(&fields));
        let jobs = find("batch", "v1", "jobs").expect("jobs");
        let fields = selectable_field_values(jobs, &json!({"status": {"succeeded": 2}}));
        assert!(selector("status.successful=2").matches(&fields));
    }
}
