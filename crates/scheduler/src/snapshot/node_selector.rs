//! Compiled node selectors: `spec.nodeSelector` and node affinity terms, matched against nodes.

use std::collections::BTreeMap;

use api::selector::{LabelOperator, LabelRequirement};
use k8s_openapi::api::core::v1::{NodeSelectorRequirement, NodeSelectorTerm, PodSpec};

/// One node selector term: every label and field requirement must hold. A term that failed to
/// compile, or has no requirement at all, matches no node (upstream).
#[derive(Debug, Clone, Default)]
pub struct CompiledTerm {
    labels: Vec<LabelRequirement>,
    fields: Vec<LabelRequirement>,
    valid: bool,
}

impl CompiledTerm {
    pub fn compile(term: &NodeSelectorTerm) -> CompiledTerm {
        let labels = compile_requirements(term.match_expressions.as_deref().unwrap_or_default());
        let fields = compile_requirements(term.match_fields.as_deref().unwrap_or_default());
        match (labels, fields) {
            (Some(labels), Some(fields)) => CompiledTerm {
                valid: !(labels.is_empty() && fields.is_empty()),
                labels,
                fields,
            },
            _ => CompiledTerm::default(),
        }
    }

    pub fn matches(&self, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
        self.valid
            && self
                .labels
                .iter()
                .all(|r| r.matches(|k| labels.get(k).map(String::as_str)))
            && self
                .fields
                .iter()
                .all(|r| r.matches(|k| (k == "metadata.name").then_some(node_name)))
    }
}

fn compile_requirements(requirements: &[NodeSelectorRequirement]) -> Option<Vec<LabelRequirement>> {
    requirements
        .iter()
        .map(|r| {
            let operator = match r.operator.as_str() {
                "In" => LabelOperator::In,
                "NotIn" => LabelOperator::NotIn,
                "Exists" => LabelOperator::Exists,
                "DoesNotExist" => LabelOperator::DoesNotExist,
                "Gt" => LabelOperator::GreaterThan,
                "Lt" => LabelOperator::LessThan,
                _ => return None,
            };
            LabelRequirement::new(&r.key, operator, r.values.clone().unwrap_or_default()).ok()
        })
        .collect()
}

/// What a pod requires of its node's labels: `nodeSelector` and the required affinity terms.
#[derive(Debug, Clone, Default)]
pub struct RequiredNodeSelector {
    node_selector: BTreeMap<String, String>,
    /// `None`: no required node affinity; otherwise any term must match.
    terms: Option<Vec<CompiledTerm>>,
}

impl RequiredNodeSelector {
    pub fn of(spec: &PodSpec) -> RequiredNodeSelector {
        let terms = spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|n| {
                n.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .map(|s| {
                s.node_selector_terms
                    .iter()
                    .map(CompiledTerm::compile)
                    .collect()
            });
        RequiredNodeSelector {
            node_selector: spec.node_selector.clone().unwrap_or_default(),
            terms,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.node_selector.is_empty() && self.terms.is_none()
    }

    pub fn matches(&self, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
        self.node_selector
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self
                .terms
                .as_ref()
                .is_none_or(|terms| terms.iter().any(|t| t.matches(node_name, labels)))
    }
}

/// The preferred node affinity terms with their weights.
pub fn preferred_terms(spec: &PodSpec) -> Vec<(i64, CompiledTerm)> {
    spec.affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .map(|terms| {
            terms
                .iter()
                .filter(|t| t.weight != 0)
                .map(|t| (i64::from(t.weight), CompiledTerm::compile(&t.preference)))
                .collect()
        })
        .unwrap_or_default()
}
