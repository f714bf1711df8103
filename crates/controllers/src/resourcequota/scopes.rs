//! A quota's scopes (`spec.scopes` and `spec.scopeSelector`) and whether a pod falls in them, as
//! upstream's `podMatchesScopeFunc`.

use k8s_openapi::api::core::v1::{Pod, PodAffinityTerm, ResourceQuota};

use super::amount::{parse_list, Amounts};

/// One scope requirement of a quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRequirement {
    pub scope: String,
    pub operator: String,
    pub values: Vec<String>,
}

/// `spec.scopes` (each as `Exists`) and `spec.scopeSelector.matchExpressions`.
pub fn scopes_of(quota: &ResourceQuota) -> Vec<ScopeRequirement> {
    let Some(spec) = quota.spec.as_ref() else {
        return Vec::new();
    };
    let listed = spec.scopes.iter().flatten().map(|scope| ScopeRequirement {
        scope: scope.clone(),
        operator: "Exists".into(),
        values: Vec::new(),
    });
    let selected = spec
        .scope_selector
        .iter()
        .flat_map(|s| s.match_expressions.iter().flatten())
        .map(|e| ScopeRequirement {
            scope: e.scope_name.clone(),
            operator: e.operator.clone(),
            values: e.values.clone().unwrap_or_default(),
        });
    listed.chain(selected).collect()
}

/// Whether the pod matches every requirement (no requirements match every pod).
pub fn pod_in_scopes(pod: &Pod, scopes: &[ScopeRequirement]) -> bool {
    scopes.iter().all(|scope| pod_matches(pod, scope))
}

fn pod_matches(pod: &Pod, requirement: &ScopeRequirement) -> bool {
    match requirement.scope.as_str() {
        "Terminating" => is_terminating(pod),
        "NotTerminating" => !is_terminating(pod),
        "BestEffort" => is_best_effort(pod),
        "NotBestEffort" => !is_best_effort(pod),
        "PriorityClass" => priority_class_matches(pod, requirement),
        "CrossNamespacePodAffinity" => uses_cross_namespace_affinity(pod),
        _ => false,
    }
}

fn is_terminating(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.active_deadline_seconds)
        .is_some_and(|seconds| seconds >= 0)
}

/// QoS class BestEffort: status.qosClass when set, else no cpu or memory request or limit.
fn is_best_effort(pod: &Pod) -> bool {
    if let Some(class) = pod
        .status
        .as_ref()
        .and_then(|s| s.qos_class.as_deref())
        .filter(|c| !c.is_empty())
    {
        return class == "BestEffort";
    }
    let Some(spec) = pod.spec.as_ref() else {
        return true;
    };
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    !containers
        .filter_map(|c| c.resources.as_ref())
        .flat_map(|r| {
            [
                parse_list(r.requests.as_ref()),
                parse_list(r.limits.as_ref()),
            ]
        })
        .any(|list: Amounts| {
            ["cpu", "memory"]
                .iter()
                .any(|name| list.get(*name).is_some_and(|a| a.milli() > 0))
        })
}

/// The pod's priorityClassName as the single label `PriorityClass` (always present); `Exists`
/// asks for a non-empty class.
fn priority_class_matches(pod: &Pod, requirement: &ScopeRequirement) -> bool {
    let class = pod
        .spec
        .as_ref()
        .and_then(|s| s.priority_class_name.as_deref())
        .unwrap_or_default();
    match requirement.operator.as_str() {
        "Exists" => !class.is_empty(),
        "In" => requirement.values.iter().any(|v| v == class),
        "NotIn" => !requirement.values.iter().any(|v| v == class),
        _ => false,
    }
}

fn uses_cross_namespace_affinity(pod: &Pod) -> bool {
    let Some(affinity) = pod.spec.as_ref().and_then(|s| s.affinity.as_ref()) else {
        return false;
    };
    let cross = |term: &PodAffinityTerm| {
        term.namespaces.as_ref().is_some_and(|n| !n.is_empty()) || term.namespace_selector.is_some()
    };
    let affinity_terms = affinity.pod_affinity.iter().flat_map(|a| {
        let required = a
            .required_during_scheduling_ignored_during_execution
            .iter()
            .flatten();
        let preferred = a
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .map(|w| &w.pod_affinity_term);
        required.chain(preferred)
    });
    let anti_terms = affinity.pod_anti_affinity.iter().flat_map(|a| {
        let required = a
            .required_during_scheduling_ignored_during_execution
            .iter()
            .flatten();
        let preferred = a
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .map(|w| &w.pod_affinity_term);
        required.chain(preferred)
    });
    affinity_terms.chain(anti_terms).any(cross)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({"metadata": {"name": "p"}, "spec": spec}))
            .unwrap()
    }

    fn quota(spec: serde_json::Value) -> ResourceQuota {
        serde_json::from_value(serde_json::json!({"metadata": {"name": "q"}, "spec": spec}))
            .unwrap()
    }

    fn best_effort() -> Pod {
        pod(serde_json::json!({"containers": [{"name": "c"}]}))
    }

    fn burstable() -> Pod {
        pod(serde_json::json!({
            "containers": [{"name": "c", "resources": {"requests": {"memory": "1Mi"}}}],
            "activeDeadlineSeconds": 30,
            "priorityClassName": "high"
        }))
    }

    #[test]
    fn scopes_and_selector_requirements_are_combined() {
        let q = quota(serde_json::json!({
            "scopes": ["BestEffort"],
            "scopeSelector": {"matchExpressions": [
                {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}
            ]}
        }));
        let scopes = scopes_of(&q);
        assert_eq!(scopes.len(), 2);
        assert_eq!(scopes[0].operator, "Exists");
        assert!(!pod_in_scopes(&best_effort(), &scopes));
        assert!(pod_in_scopes(&best_effort(), &[]));
    }

    #[test]
    fn matches_each_scope() {
        let requirement = |scope: &str, operator: &str, values: &[&str]| ScopeRequirement {
            scope: scope.into(),
            operator: operator.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        let cases = [
            (requirement("BestEffort", "Exists", &[]), true, false),
            (requirement("NotBestEffort", "Exists", &[]), false, true),
            (requirement("Terminating", "Exists", &[]), false, true),
            (requirement("NotTerminating", "Exists", &[]), true, false),
            (requirement("PriorityClass", "Exists", &[]), false, true),
            (requirement("PriorityClass", "In", &["high"]), false, true),
            (
                requirement("PriorityClass", "NotIn", &["high"]),
                true,
                false,
            ),
            (requirement("PriorityClass", "In", &[""]), true, false),
            (
                requirement("CrossNamespacePodAffinity", "Exists", &[]),
                false,
                false,
            ),
        ];
        for (scope, on_best_effort, on_burstable) in cases {
            assert_eq!(
                pod_in_scopes(&best_effort(), std::slice::from_ref(&scope)),
                on_best_effort,
                "{scope:?}"
            );
            assert_eq!(
                pod_in_scopes(&burstable(), std::slice::from_ref(&scope)),
                on_burstable,
                "{scope:?}"
            );
        }
    }

    #[test]
    fn cross_namespace_affinity_needs_namespaces_or_a_selector() {
        let p = pod(serde_json::json!({
            "containers": [{"name": "c"}],
            "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"topologyKey": "zone", "namespaceSelector": {}}
            ]}}
        }));
        assert!(uses_cross_namespace_affinity(&p));
        assert!(!uses_cross_namespace_affinity(&best_effort()));
    }
}
