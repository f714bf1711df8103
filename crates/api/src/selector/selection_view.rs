//! The small part of an object that label and field selectors read: what a cache keeps next to
//! an object's serialized bytes so it can filter without holding the whole parsed object.

use serde_json::{Map, Value};

/// Every JSON pointer [`super::selectable_field_values`] reads, for any kind, plus the labels.
const SELECTED_POINTERS: &[&str] = &[
    "/metadata/name",
    "/metadata/namespace",
    "/metadata/labels",
    "/spec/nodeName",
    "/spec/restartPolicy",
    "/spec/schedulerName",
    "/spec/serviceAccountName",
    "/spec/hostNetwork",
    "/spec/unschedulable",
    "/spec/clusterIP",
    "/spec/type",
    "/spec/signerName",
    "/status/phase",
    "/status/podIPs/0/ip",
    "/status/nominatedNodeName",
    "/status/replicas",
    "/status/succeeded",
    "/involvedObject",
    "/regarding",
    "/source/component",
    "/deprecatedSource/component",
    "/reportingComponent",
    "/reportingController",
    "/reason",
    "/type",
];

/// A copy of `object` holding only the values selectors can read; selectors match it exactly as
/// they match the whole object.
pub fn selection_view(object: &Value) -> Value {
    let mut view = Value::Object(Map::new());
    for pointer in SELECTED_POINTERS {
        if let Some(value) = object.pointer(pointer) {
            insert_at(&mut view, pointer, value.clone());
        }
    }
    view
}

/// Set `pointer` in `view`, creating the objects and arrays on the way. Array indexes only occur
/// as `/0` (the first pod IP), so an array is created with that one element.
fn insert_at(view: &mut Value, pointer: &str, value: Value) {
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    let mut current = view;
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let next_is_index = segments.get(i + 1).is_some_and(|s| *s == "0");
        current = match current {
            Value::Object(map) => {
                let empty = if next_is_index {
                    Value::Array(Vec::new())
                } else {
                    Value::Object(Map::new())
                };
                map.entry(segment.to_string()).or_insert(empty)
            }
            Value::Array(items) => {
                if items.is_empty() {
                    items.push(Value::Object(Map::new()));
                }
                &mut items[0]
            }
            _ => return,
        };
        if last {
            *current = value;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::find;
    use crate::selector::selectable_field_values;
    use serde_json::json;

    /// An object carrying every field any kind can be selected by, and bulk no selector reads.
    fn everything() -> Value {
        json!({
            "metadata": {"name": "n", "namespace": "ns", "labels": {"app": "web"},
                         "annotations": {"big": "x"}, "managedFields": [{"manager": "m"}]},
            "spec": {"nodeName": "node-1", "restartPolicy": "Never", "schedulerName": "s",
                     "serviceAccountName": "sa", "hostNetwork": true, "unschedulable": true,
                     "clusterIP": "10.43.0.1", "type": "NodePort", "signerName": "x/y",
                     "containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.42.0.5"}, {"ip": "fd00::5"}],
                       "nominatedNodeName": "node-2", "replicas": 3, "succeeded": 2,
                       "conditions": [{"type": "Ready"}]},
            "involvedObject": {"kind": "Pod", "namespace": "ns", "name": "p", "uid": "u",
                               "apiVersion": "v1", "resourceVersion": "7", "fieldPath": "f"},
            "regarding": {"kind": "Pod", "namespace": "ns", "name": "p", "uid": "u",
                          "apiVersion": "v1", "resourceVersion": "7", "fieldPath": "f"},
            "source": {"component": "kubelet", "host": "h"},
            "deprecatedSource": {"component": "old"},
            "reportingComponent": "rc", "reportingController": "rctl",
            "reason": "Started", "type": "Normal", "message": "long text"
        })
    }

    #[test]
    fn every_kind_selects_the_same_values_on_the_view() {
        let full = everything();
        let view = selection_view(&full);
        let kinds = [
            ("", "v1", "pods"),
            ("", "v1", "events"),
            ("events.k8s.io", "v1", "events"),
            ("", "v1", "namespaces"),
            ("", "v1", "nodes"),
            ("", "v1", "secrets"),
            ("", "v1", "services"),
            ("", "v1", "replicationcontrollers"),
            ("apps", "v1", "replicasets"),
            ("batch", "v1", "jobs"),
            ("certificates.k8s.io", "v1", "certificatesigningrequests"),
            ("", "v1", "configmaps"),
        ];
        for (group, version, plural) in kinds {
            let info = find(group, version, plural).expect("known kind");
            assert_eq!(
                selectable_field_values(info, &view),
                selectable_field_values(info, &full),
                "{group}/{plural}"
            );
        }
        assert_eq!(view["metadata"]["labels"], json!({"app": "web"}));
    }

    #[test]
    fn the_view_leaves_out_what_selectors_never_read() {
        let view = selection_view(&everything());
        assert!(view["metadata"].get("managedFields").is_none());
        assert!(view["spec"].get("containers").is_none());
        assert!(view.get("message").is_none());
        assert_eq!(view["status"]["podIPs"], json!([{"ip": "10.42.0.5"}]));
    }

    #[test]
    fn missing_fields_stay_missing() {
        let view = selection_view(&json!({"metadata": {"name": "a"}, "data": {"k": "v"}}));
        assert_eq!(view, json!({"metadata": {"name": "a"}}));
    }
}
