//! InterPodAffinity: required affinity/anti-affinity of the incoming pod and required
//! anti-affinity of existing pods filter; preferred terms of both sides (and existing pods'
//! required affinity, weight 1) score.

use std::collections::HashMap;

use crate::framework::{
    CycleState, FilterPlugin, Plugin, PreFilterPlugin, PreScorePlugin, ScorePlugin, Status,
    MAX_NODE_SCORE,
};
use crate::snapshot::{AffinityTerm, NodeInfo, PodInfo, Snapshot};

pub const NAME: &str = "InterPodAffinity";
pub const AFFINITY_REASON: &str = "node(s) didn't match pod affinity rules";
pub const ANTI_AFFINITY_REASON: &str = "node(s) didn't match pod anti-affinity rules";
pub const EXISTING_ANTI_AFFINITY_REASON: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";
/// Weight of existing pods' required affinity terms in scoring (upstream's default).
const HARD_POD_AFFINITY_WEIGHT: i64 = 1;
const FILTER_KEY: &str = "InterPodAffinity/filter";
const SCORE_KEY: &str = "InterPodAffinity/score";

pub struct InterPodAffinity;

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
}

type TopologyCounts = HashMap<(String, String), i64>;

fn add(counts: &mut TopologyCounts, node: &NodeInfo, key: &str, delta: i64) {
    if let Some(value) = node.labels.get(key) {
        *counts.entry((key.to_string(), value.clone())).or_default() += delta;
    }
}

fn matches_all(terms: &[AffinityTerm], pod: &PodInfo) -> bool {
    !terms.is_empty() && terms.iter().all(|t| t.matches(pod))
}

#[derive(Default)]
struct FilterState {
    /// Domains where an existing pod's required anti-affinity matches the incoming pod.
    existing_anti: TopologyCounts,
    /// Domains with pods matching all of the incoming pod's required affinity terms.
    affinity: TopologyCounts,
    /// Domains with pods matching the incoming pod's required anti-affinity terms.
    anti: TopologyCounts,
}

impl FilterState {
    fn update(&mut self, pod: &PodInfo, existing: &PodInfo, node: &NodeInfo, delta: i64) {
        for term in &existing.affinity.required_anti_affinity {
            if term.matches(pod) {
                add(&mut self.existing_anti, node, &term.topology_key, delta);
            }
        }
        if matches_all(&pod.affinity.required_affinity, existing) {
            for term in &pod.affinity.required_affinity {
                add(&mut self.affinity, node, &term.topology_key, delta);
            }
        }
        for term in &pod.affinity.required_anti_affinity {
            if term.matches(existing) {
                add(&mut self.anti, node, &term.topology_key, delta);
            }
        }
    }
}

impl PreFilterPlugin for InterPodAffinity {
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, snapshot: &Snapshot) -> Status {
        let own_terms = !pod.affinity.required_affinity.is_empty()
            || !pod.affinity.required_anti_affinity.is_empty();
        if !own_terms && snapshot.pods_with_required_anti_affinity() == 0 {
            return Status::skip();
        }
        let mut s = FilterState::default();
        for node in snapshot.nodes() {
            if !own_terms && node.pods_with_required_anti_affinity == 0 {
                continue;
            }
            for existing in &node.pods {
                s.update(pod, existing, node, 1);
            }
        }
        if !own_terms && s.existing_anti.is_empty() {
            return Status::skip();
        }
        state.write(FILTER_KEY, s);
        Status::success()
    }

    fn add_pod(&self, state: &mut CycleState, pod: &PodInfo, added: &PodInfo, node: &NodeInfo) {
        if let Some(s) = state.read_mut::<FilterState>(FILTER_KEY) {
            s.update(pod, added, node, 1);
        }
    }

    fn remove_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        removed: &PodInfo,
        node: &NodeInfo,
    ) {
        if let Some(s) = state.read_mut::<FilterState>(FILTER_KEY) {
            s.update(pod, removed, node, -1);
        }
    }
}

fn positive(counts: &TopologyCounts, node: &NodeInfo, key: &str) -> bool {
    node.labels.get(key).is_some_and(|v| {
        counts
            .get(&(key.to_string(), v.clone()))
            .is_some_and(|n| *n > 0)
    })
}

impl FilterPlugin for InterPodAffinity {
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(s) = state.read::<FilterState>(FILTER_KEY) else {
            return Status::success();
        };
        let affinity = &pod.affinity.required_affinity;
        if !affinity.is_empty()
            && !affinity
                .iter()
                .all(|t| positive(&s.affinity, node, &t.topology_key))
        {
            // The first pod of a group may land anywhere its own terms select itself.
            let no_match_anywhere = s.affinity.values().all(|n| *n <= 0);
            let keys_present = affinity
                .iter()
                .all(|t| node.labels.contains_key(&t.topology_key));
            if !(no_match_anywhere && keys_present && matches_all(affinity, pod)) {
                return Status::unresolvable(AFFINITY_REASON);
            }
        }
        if pod
            .affinity
            .required_anti_affinity
            .iter()
            .any(|t| positive(&s.anti, node, &t.topology_key))
        {
            return Status::unschedulable(ANTI_AFFINITY_REASON);
        }
        let existing_conflict = s
            .existing_anti
            .iter()
            .any(|((key, value), n)| *n > 0 && node.labels.get(key) == Some(value));
        if existing_conflict {
            return Status::unschedulable(EXISTING_ANTI_AFFINITY_REASON);
        }
        Status::success()
    }
}

impl PreScorePlugin for InterPodAffinity {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[&NodeInfo],
        snapshot: &Snapshot,
    ) -> Status {
        let own_preferences = !pod.affinity.preferred_affinity.is_empty()
            || !pod.affinity.preferred_anti_affinity.is_empty();
        if !own_preferences && snapshot.pods_with_affinity() == 0 {
            return Status::skip();
        }
        let mut scores = TopologyCounts::new();
        for node in snapshot.nodes() {
            if !own_preferences && node.pods_with_affinity == 0 {
                continue;
            }
            for existing in &node.pods {
                for w in &pod.affinity.preferred_affinity {
                    if w.term.matches(existing) {
                        add(&mut scores, node, &w.term.topology_key, w.weight);
                    }
                }
                for w in &pod.affinity.preferred_anti_affinity {
                    if w.term.matches(existing) {
                        add(&mut scores, node, &w.term.topology_key, -w.weight);
                    }
                }
                for term in &existing.affinity.required_affinity {
                    if term.matches(pod) {
                        add(
                            &mut scores,
                            node,
                            &term.topology_key,
                            HARD_POD_AFFINITY_WEIGHT,
                        );
                    }
                }
                for w in &existing.affinity.preferred_affinity {
                    if w.term.matches(pod) {
                        add(&mut scores, node, &w.term.topology_key, w.weight);
                    }
                }
                for w in &existing.affinity.preferred_anti_affinity {
                    if w.term.matches(pod) {
                        add(&mut scores, node, &w.term.topology_key, -w.weight);
                    }
                }
            }
        }
        if scores.is_empty() {
            return Status::skip();
        }
        state.write(SCORE_KEY, scores);
        Status::success()
    }
}

impl ScorePlugin for InterPodAffinity {
    fn score(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let Some(scores) = state.read::<TopologyCounts>(SCORE_KEY) else {
            return Ok(0);
        };
        Ok(scores
            .iter()
            .filter(|((key, value), _)| node.labels.get(key) == Some(value))
            .map(|(_, n)| n)
            .sum())
    }

    /// `100 * (score - min) / (max - min)`, all 0 when equal.
    fn normalize_score(&self, _state: &CycleState, _pod: &PodInfo, scores: &mut [i64]) -> Status {
        let min = scores.iter().copied().min().unwrap_or(0);
        let max = scores.iter().copied().max().unwrap_or(0);
        for score in scores.iter_mut() {
            *score = if max > min {
                (MAX_NODE_SCORE as f64 * ((*score - min) as f64 / (max - min) as f64)) as i64
            } else {
                0
            };
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod, with_labels};
    use k8s_openapi::api::core::v1::{
        Affinity, Pod, PodAffinity, PodAffinityTerm, PodAntiAffinity, WeightedPodAffinityTerm,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as Wire;

    fn term(app: &str, key: &str) -> PodAffinityTerm {
        PodAffinityTerm {
            label_selector: Some(Wire {
                match_labels: Some([("app".to_string(), app.to_string())].into()),
                ..Default::default()
            }),
            topology_key: key.into(),
            ..Default::default()
        }
    }

    fn place(s: &mut Snapshot, node: &str, mut p: Pod) {
        p.spec.get_or_insert_default().node_name = Some(node.into());
        s.add_pod(PodInfo::new(p, 0));
    }

    fn cluster() -> Snapshot {
        let mut s = Snapshot::new();
        s.upsert_node(node("a").label("zone", "z1").node());
        s.upsert_node(node("b").label("zone", "z1").node());
        s.upsert_node(node("c").label("zone", "z2").node());
        place(&mut s, "a", with_labels(pod("db"), &[("app", "db")]));
        s
    }

    fn verdicts(s: &Snapshot, p: &PodInfo) -> Vec<Status> {
        let mut state = CycleState::new();
        let _ = InterPodAffinity.pre_filter(&mut state, p, s);
        ["a", "b", "c"]
            .iter()
            .filter_map(|n| s.node(n))
            .map(|n| InterPodAffinity.filter(&state, p, n))
            .collect()
    }

    #[test]
    fn required_affinity_and_anti_affinity() {
        let s = cluster();
        let mut near = with_labels(pod("web"), &[("app", "web")]);
        near.spec.get_or_insert_default().affinity = Some(Affinity {
            pod_affinity: Some(PodAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![term("db", "zone")]),
                ..Default::default()
            }),
            ..Default::default()
        });
        let v = verdicts(&s, &PodInfo::new(near, 0));
        assert_eq!(
            v,
            vec![
                Status::success(),
                Status::success(),
                Status::unresolvable(AFFINITY_REASON)
            ]
        );

        let mut far = with_labels(pod("web2"), &[("app", "web")]);
        far.spec.get_or_insert_default().affinity = Some(Affinity {
            pod_anti_affinity: Some(PodAntiAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![term(
                    "db",
                    "kubernetes.io/hostname",
                )]),
                ..Default::default()
            }),
            ..Default::default()
        });
        let v = verdicts(&s, &PodInfo::new(far, 0));
        assert_eq!(
            v,
            vec![
                Status::unschedulable(ANTI_AFFINITY_REASON),
                Status::success(),
                Status::success()
            ]
        );
    }

    #[test]
    fn existing_pods_anti_affinity_is_symmetric() {
        let mut s = cluster();
        let mut loner = with_labels(pod("loner"), &[("app", "loner")]);
        loner.spec.get_or_insert_default().affinity = Some(Affinity {
            pod_anti_affinity: Some(PodAntiAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![term(
                    "web", "zone",
                )]),
                ..Default::default()
            }),
            ..Default::default()
        });
        place(&mut s, "c", loner);
        let v = verdicts(
            &s,
            &PodInfo::new(with_labels(pod("web"), &[("app", "web")]), 0),
        );
        assert_eq!(
            v,
            vec![
                Status::success(),
                Status::success(),
                Status::unschedulable(EXISTING_ANTI_AFFINITY_REASON)
            ]
        );
    }

    #[test]
    fn first_pod_of_a_self_affine_group_fits_anywhere() {
        let s = cluster();
        let mut first = with_labels(pod("first"), &[("app", "cache")]);
        first.spec.get_or_insert_default().affinity = Some(Affinity {
            pod_affinity: Some(PodAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![term(
                    "cache", "zone",
                )]),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert!(verdicts(&s, &PodInfo::new(first, 0))
            .iter()
            .all(Status::is_success));
    }

    #[test]
    fn preferred_affinity_scores_by_topology() {
        let s = cluster();
        let mut p = with_labels(pod("web"), &[("app", "web")]);
        p.spec.get_or_insert_default().affinity = Some(Affinity {
            pod_affinity: Some(PodAffinity {
                preferred_during_scheduling_ignored_during_execution: Some(vec![
                    WeightedPodAffinityTerm {
                        weight: 5,
                        pod_affinity_term: term("db", "zone"),
                    },
                ]),
                ..Default::default()
            }),
            ..Default::default()
        });
        let p = PodInfo::new(p, 0);
        let nodes: Vec<&NodeInfo> = ["a", "b", "c"].iter().filter_map(|n| s.node(n)).collect();
        let mut state = CycleState::new();
        assert!(InterPodAffinity
            .pre_score(&mut state, &p, &nodes, &s)
            .is_success());
        let mut scores: Vec<i64> = nodes
            .iter()
            .map(|n| InterPodAffinity.score(&state, &p, n).unwrap_or(-1))
            .collect();
        assert_eq!(scores, vec![5, 5, 0]);
        InterPodAffinity.normalize_score(&state, &p, &mut scores);
        assert_eq!(scores, vec![100, 100, 0]);
    }
}
