//! Whether a daemon pod belongs on a node: nodeSelector, required node affinity, and taints
//! against the pod's tolerations (upstream's NodeShouldRunDaemonPod).

use k8s_openapi::api::core::v1::{
    Node, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, Taint, Toleration,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// A new daemon pod should be created here.
    pub should_run: bool,
    /// An existing daemon pod may stay (only untolerated NoExecute taints evict it).
    pub may_stay: bool,
}

pub fn placement(spec: &PodSpec, node: &Node) -> Placement {
    if !fits_selector_and_affinity(spec, node) {
        return Placement {
            should_run: false,
            may_stay: false,
        };
    }
    let tolerations = spec.tolerations.as_deref().unwrap_or_default();
    let taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default();
    let untolerated = |effect: &str| {
        taints
            .iter()
            .filter(|t| t.effect == effect)
            .any(|t| !tolerated(tolerations, t))
    };
    let may_stay = !untolerated("NoExecute");
    Placement {
        should_run: may_stay && !untolerated("NoSchedule"),
        may_stay,
    }
}

pub fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| {
        let effect_matches = t
            .effect
            .as_deref()
            .is_none_or(|e| e.is_empty() || e == taint.effect);
        let key_matches = t
            .key
            .as_deref()
            .is_none_or(|k| k.is_empty() || k == taint.key);
        let value_matches = t.operator.as_deref() == Some("Exists")
            || t.value.as_deref().unwrap_or_default() == taint.value.as_deref().unwrap_or_default();
        effect_matches && key_matches && value_matches
    })
}

fn fits_selector_and_affinity(spec: &PodSpec, node: &Node) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let selector_matches = spec
        .node_selector
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    let affinity_matches = required.is_none_or(|r| {
        r.node_selector_terms
            .iter()
            .any(|term| term_matches(term, node))
    });
    selector_matches && affinity_matches
}

fn term_matches(term: &NodeSelectorTerm, node: &Node) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.metadata.name.clone().unwrap_or_default();
    let expressions = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if expressions.is_empty() && fields.is_empty() {
        return false;
    }
    expressions
        .iter()
        .all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)))
        && fields
            .iter()
            .all(|r| r.key == "metadata.name" && requirement_matches(r, Some(&name)))
}

fn requirement_matches(requirement: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = requirement.values.as_deref().unwrap_or_default();
    let as_number = |text: &str| text.parse::<i64>().ok();
    match requirement.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|w| w == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|w| w == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" => {
            matches!((value.and_then(as_number), values.first().and_then(|w| as_number(w))), (Some(v), Some(w)) if v > w)
        }
        "Lt" => {
            matches!((value.and_then(as_number), values.first().and_then(|w| as_number(w))), (Some(v), Some(w)) if v < w)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(labels: serde_json::Value, taints: serde_json::Value) -> Node {
        serde_json::from_value(
            json!({"metadata": {"name": "n1", "labels": labels}, "spec": {"taints": taints}}),
        )
        .unwrap()
    }

    fn spec(extra: serde_json::Value) -> PodSpec {
        let mut value = json!({"containers": [{"name": "c", "image": "i"}]});
        for (key, v) in extra.as_object().unwrap() {
            value[key] = v.clone();
        }
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn node_selector_and_affinity_pick_nodes() {
        let ssd = node(json!({"disk": "ssd", "zone": "a"}), json!([]));
        assert!(placement(&spec(json!({"nodeSelector": {"disk": "ssd"}})), &ssd).should_run);
        assert!(!placement(&spec(json!({"nodeSelector": {"disk": "hdd"}})), &ssd).should_run);
        let affinity = json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
                                  {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}});
        assert!(placement(&spec(affinity), &ssd).should_run);
    }

    #[test]
    fn taints_need_tolerations_and_only_no_execute_evicts() {
        let tainted = node(
            json!({}),
            json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
        );
        let plain = spec(json!({}));
        assert_eq!(
            placement(&plain, &tainted),
            Placement {
                should_run: false,
                may_stay: true
            }
        );
        let tolerant = spec(
            json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu"}]}),
        );
        assert!(placement(&tolerant, &tainted).should_run);
        let evicting = node(json!({}), json!([{"key": "k", "effect": "NoExecute"}]));
        assert_eq!(
            placement(&plain, &evicting),
            Placement {
                should_run: false,
                may_stay: false
            }
        );
        let everything = spec(json!({"tolerations": [{"operator": "Exists"}]}));
        assert!(placement(&everything, &evicting).should_run);
    }
}
