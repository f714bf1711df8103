//! NodeAffinity: `nodeSelector` and required node affinity filter; preferred terms score.

use crate::framework::{
    CycleState, FilterPlugin, Plugin, PreFilterPlugin, PreScorePlugin, ScorePlugin, Status,
    MAX_NODE_SCORE,
};
use crate::plugins::normalize::default_normalize;
use crate::snapshot::{NodeInfo, PodInfo, Snapshot};

pub const NAME: &str = "NodeAffinity";
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

pub struct NodeAffinity;

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl PreFilterPlugin for NodeAffinity {
    fn pre_filter(&self, _state: &mut CycleState, pod: &PodInfo, _snapshot: &Snapshot) -> Status {
        if pod.required_node.is_empty() {
            Status::skip()
        } else {
            Status::success()
        }
    }
}

impl FilterPlugin for NodeAffinity {
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        if pod.required_node.matches(&node.name, &node.labels) {
            Status::success()
        } else {
            Status::unresolvable(REASON)
        }
    }
}

impl PreScorePlugin for NodeAffinity {
    fn pre_score(
        &self,
        _state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[&NodeInfo],
        _snapshot: &Snapshot,
    ) -> Status {
        if pod.preferred_node.is_empty() {
            Status::skip()
        } else {
            Status::success()
        }
    }
}

impl ScorePlugin for NodeAffinity {
    fn score(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        Ok(pod
            .preferred_node
            .iter()
            .filter(|(_, term)| term.matches(&node.name, &node.labels))
            .map(|(weight, _)| weight)
            .sum())
    }

    fn normalize_score(&self, _state: &CycleState, _pod: &PodInfo, scores: &mut [i64]) -> Status {
        default_normalize(MAX_NODE_SCORE, false, scores);
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod};
    use k8s_openapi::api::core::v1::{
        Affinity, NodeAffinity as Spec, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
        PreferredSchedulingTerm,
    };

    fn requirement(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    #[test]
    fn node_selector_and_required_terms() {
        let mut p = pod("p");
        let spec = p.spec.get_or_insert_default();
        spec.node_selector = Some([("disk".to_string(), "ssd".to_string())].into());
        spec.affinity = Some(Affinity {
            node_affinity: Some(Spec {
                required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                    node_selector_terms: vec![
                        NodeSelectorTerm {
                            match_expressions: Some(vec![requirement("zone", "In", &["a", "b"])]),
                            ..Default::default()
                        },
                        NodeSelectorTerm {
                            match_expressions: Some(vec![requirement("cores", "Gt", &["8"])]),
                            ..Default::default()
                        },
                    ],
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
        let p = PodInfo::new(p, 0);
        let state = CycleState::new();
        let ok = node("a").label("disk", "ssd").label("zone", "b").build();
        let ok_gt = node("b").label("disk", "ssd").label("cores", "16").build();
        let no_disk = node("c").label("zone", "a").build();
        let wrong_zone = node("d")
            .label("disk", "ssd")
            .label("zone", "c")
            .label("cores", "4")
            .build();
        assert!(NodeAffinity.filter(&state, &p, &ok).is_success());
        assert!(NodeAffinity.filter(&state, &p, &ok_gt).is_success());
        assert_eq!(
            NodeAffinity.filter(&state, &p, &no_disk),
            Status::unresolvable(REASON)
        );
        assert_eq!(
            NodeAffinity.filter(&state, &p, &wrong_zone),
            Status::unresolvable(REASON)
        );
    }

    #[test]
    fn preferred_terms_score_by_weight() {
        let mut p = pod("p");
        p.spec.get_or_insert_default().affinity = Some(Affinity {
            node_affinity: Some(Spec {
                preferred_during_scheduling_ignored_during_execution: Some(vec![
                    PreferredSchedulingTerm {
                        weight: 2,
                        preference: NodeSelectorTerm {
                            match_expressions: Some(vec![requirement("foo", "In", &["bar"])]),
                            ..Default::default()
                        },
                    },
                    PreferredSchedulingTerm {
                        weight: 4,
                        preference: NodeSelectorTerm {
                            match_expressions: Some(vec![requirement("key", "In", &["value"])]),
                            ..Default::default()
                        },
                    },
                ]),
                ..Default::default()
            }),
            ..Default::default()
        });
        let p = PodInfo::new(p, 0);
        let state = CycleState::new();
        let nodes = [
            node("n1").label("foo", "bar").build(),
            node("n2").label("foo", "bar").label("key", "value").build(),
            node("n3").build(),
        ];
        let mut scores: Vec<i64> = nodes
            .iter()
            .map(|n| NodeAffinity.score(&state, &p, n).unwrap_or(-1))
            .collect();
        assert_eq!(scores, vec![2, 6, 0]);
        NodeAffinity.normalize_score(&state, &p, &mut scores);
        assert_eq!(scores, vec![33, 100, 0]);
    }
}
