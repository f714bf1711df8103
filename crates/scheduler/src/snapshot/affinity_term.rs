//! Inter-pod affinity terms compiled once per pod.

use api::selector::LabelSelector;
use k8s_openapi::api::core::v1::{PodAffinityTerm, PodSpec, WeightedPodAffinityTerm};

use super::pod_info::PodInfo;

/// A compiled `PodAffinityTerm`: which pods (namespaces + labels) in which topology.
#[derive(Debug, Clone)]
pub struct AffinityTerm {
    pub namespaces: Vec<String>,
    /// An empty `namespaceSelector` (`{}`) selects every namespace. Non-empty namespace
    /// selectors need namespace labels, which the scheduler does not watch: they select none.
    pub all_namespaces: bool,
    pub selector: LabelSelector,
    pub topology_key: String,
}

impl AffinityTerm {
    fn compile(owner_namespace: &str, term: &PodAffinityTerm) -> AffinityTerm {
        let selector = serde_json::to_value(&term.label_selector)
            .ok()
            .and_then(|v| LabelSelector::from_label_selector_json(Some(&v)).ok())
            .unwrap_or_else(LabelSelector::nothing);
        let namespaces = term.namespaces.clone().unwrap_or_default();
        let all_namespaces = term.namespace_selector.as_ref().is_some_and(|s| {
            s.match_labels.as_ref().is_none_or(|m| m.is_empty())
                && s.match_expressions.as_ref().is_none_or(|e| e.is_empty())
        });
        let namespaces = if namespaces.is_empty() && term.namespace_selector.is_none() {
            vec![owner_namespace.to_string()]
        } else {
            namespaces
        };
        AffinityTerm {
            namespaces,
            all_namespaces,
            selector,
            topology_key: term.topology_key.clone(),
        }
    }

    pub fn matches(&self, pod: &PodInfo) -> bool {
        (self.all_namespaces || self.namespaces.contains(&pod.namespace))
            && self.selector.matches(&pod.labels)
    }
}

/// A preferred term with its weight.
#[derive(Debug, Clone)]
pub struct WeightedAffinityTerm {
    pub weight: i64,
    pub term: AffinityTerm,
}

/// The four lists of a pod's affinity.
#[derive(Debug, Clone, Default)]
pub struct PodAffinity {
    pub required_affinity: Vec<AffinityTerm>,
    pub required_anti_affinity: Vec<AffinityTerm>,
    pub preferred_affinity: Vec<WeightedAffinityTerm>,
    pub preferred_anti_affinity: Vec<WeightedAffinityTerm>,
}

impl PodAffinity {
    pub fn of(namespace: &str, spec: &PodSpec) -> PodAffinity {
        let affinity = spec.affinity.as_ref();
        let positive = affinity.and_then(|a| a.pod_affinity.as_ref());
        let negative = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
        let required = |terms: Option<&Vec<PodAffinityTerm>>| {
            terms
                .into_iter()
                .flatten()
                .map(|t| AffinityTerm::compile(namespace, t))
                .collect()
        };
        let preferred = |terms: Option<&Vec<WeightedPodAffinityTerm>>| {
            terms
                .into_iter()
                .flatten()
                .map(|t| WeightedAffinityTerm {
                    weight: i64::from(t.weight),
                    term: AffinityTerm::compile(namespace, &t.pod_affinity_term),
                })
                .collect()
        };
        PodAffinity {
            required_affinity: required(positive.and_then(|p| {
                p.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })),
            required_anti_affinity: required(negative.and_then(|p| {
                p.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })),
            preferred_affinity: preferred(positive.and_then(|p| {
                p.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            })),
            preferred_anti_affinity: preferred(negative.and_then(|p| {
                p.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            })),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.required_affinity.is_empty()
            && self.required_anti_affinity.is_empty()
            && self.preferred_affinity.is_empty()
            && self.preferred_anti_affinity.is_empty()
    }
}
