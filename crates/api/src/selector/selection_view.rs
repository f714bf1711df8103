//! The small part of an object that label and field selectors read: what a cache keeps next to
//! an object's serialized bytes so it can filter without holding the whole parsed object.

use serde_json::Value;

use super::Selectable;

/// Every JSON pointer [`super::selectable_field_values`] reads, for any kind, except the labels.
const SELECTED_POINTERS: &[&str] = &[
    "/metadata/name",
    "/metadata/namespace",
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

const NAME: u8 = 0;
const NAMESPACE: u8 = 1;

/// What selectors can read of one object: its string labels, sorted, and the value at each
/// selected pointer it has. Selectors match it exactly as they match the whole object.
///
/// Flat on purpose: as a `Value` tree the same data took about 3 KB per pod (every JSON object
/// is a B-tree whose first node is allocated whole); this is a few hundred bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelectionView {
    labels: Box<[(Box<str>, Box<str>)]>,
    /// `(index into SELECTED_POINTERS, value)`, in index order.
    values: Box<[(u8, Value)]>,
}

impl SelectionView {
    pub fn of(object: &Value) -> Self {
        let mut labels: Vec<(Box<str>, Box<str>)> = plain_pointer(object, "/metadata/labels")
            .and_then(Value::as_object)
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str().into(), v.as_str()?.into())))
                    .collect()
            })
            .unwrap_or_default();
        labels.sort();
        let values = SELECTED_POINTERS
            .iter()
            .enumerate()
            .filter_map(|(i, pointer)| Some((i as u8, plain_pointer(object, pointer)?.clone())))
            .collect();
        Self {
            labels: labels.into_boxed_slice(),
            values,
        }
    }

    /// Every JSON pointer [`SelectionView::of`] reads: an object pruned to these paths (see
    /// [`super::parse_pruned`]) gives the same view as the whole object.
    pub fn read_pointers() -> impl Iterator<Item = &'static str> {
        SELECTED_POINTERS
            .iter()
            .copied()
            .chain(std::iter::once("/metadata/labels"))
    }

    pub fn name(&self) -> Option<&str> {
        self.value_at(NAME)?.as_str()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.value_at(NAMESPACE)?.as_str()
    }

    fn value_at(&self, index: u8) -> Option<&Value> {
        self.values
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, value)| value)
    }
}

impl Selectable for SelectionView {
    /// The value at `pointer` when it is one of the selected pointers or lies inside one.
    fn pointer(&self, pointer: &str) -> Option<&Value> {
        self.values.iter().find_map(|(i, value)| {
            let selected = SELECTED_POINTERS[usize::from(*i)];
            let rest = pointer.strip_prefix(selected)?;
            if rest.is_empty() {
                Some(value)
            } else if rest.starts_with('/') {
                value.pointer(rest)
            } else {
                None
            }
        })
    }

    fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &*self.labels[i].1)
    }
}

/// `Value::pointer` for pointers without `~` escapes, as every selected pointer is: it walks
/// the tokens as borrowed slices, where serde_json's copies each token into new strings twice
/// to unescape it. The watch cache builds a view for every write, at 25 pointers each.
fn plain_pointer<'v>(object: &'v Value, pointer: &str) -> Option<&'v Value> {
    let mut tokens = pointer.split('/');
    if tokens.next() != Some("") {
        return None;
    }
    tokens.try_fold(object, |value, token| match value {
        Value::Object(map) => map.get(token),
        Value::Array(items) => items.get(token.parse::<usize>().ok()?),
        _ => None,
    })
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
        let view = SelectionView::of(&full);
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
        assert_eq!(view.label("app"), Some("web"));
        assert_eq!(view.label("tier"), None);
        assert_eq!((view.name(), view.namespace()), (Some("n"), Some("ns")));
    }

    #[test]
    fn an_object_pruned_to_the_read_pointers_gives_the_same_view() {
        let full = everything();
        let bytes = serde_json::to_vec(&full).expect("json");
        let tree = crate::selector::PathTree::from_pointers(SelectionView::read_pointers());
        let pruned = crate::selector::parse_pruned(&bytes, &tree).expect("parses");
        assert_eq!(SelectionView::of(&pruned), SelectionView::of(&full));
        assert!(pruned.pointer("/spec/containers").is_none());
    }

    #[test]
    fn the_view_leaves_out_what_selectors_never_read() {
        let view = SelectionView::of(&everything());
        assert!(view.pointer("/metadata/managedFields").is_none());
        assert!(view.pointer("/spec/containers").is_none());
        assert!(view.pointer("/message").is_none());
        assert!(view.pointer("/status/podIPs/1/ip").is_none());
        assert_eq!(
            view.pointer("/status/podIPs/0/ip"),
            Some(&json!("10.42.0.5"))
        );
        assert_eq!(view.pointer("/involvedObject/uid"), Some(&json!("u")));
        assert!(view.pointer("/involvedObjectX").is_none());
    }

    #[test]
    fn label_selectors_match_the_view_as_the_object() {
        let full = everything();
        let view = SelectionView::of(&full);
        for selector in ["app=web", "app!=web", "!app", "app in (web,db)", "tier", ""] {
            let selector = crate::selector::LabelSelector::parse(selector).expect("valid");
            assert_eq!(
                selector.matches_labels_of(&view),
                selector.matches_labels_of(&full),
                "{selector:?}"
            );
        }
    }

    #[test]
    fn plain_pointers_read_as_serde_json_pointers_do() {
        let full = everything();
        for pointer in SelectionView::read_pointers().chain([
            "",
            "/status/podIPs/1/ip",
            "/status/podIPs/x",
            "/status/podIPs/9",
            "/spec/nodeName/more",
            "no-slash",
        ]) {
            assert_eq!(
                plain_pointer(&full, pointer),
                full.pointer(pointer),
                "{pointer}"
            );
        }
    }

    #[test]
    fn missing_fields_stay_missing() {
        let view = SelectionView::of(&json!({"metadata": {"name": "a"}, "data": {"k": "v"}}));
        assert_eq!(view.name(), Some("a"));
        assert_eq!(view.namespace(), None);
        assert!(view.pointer("/data").is_none());
        assert_eq!(view.label("k"), None);
    }
}
