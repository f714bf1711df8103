//! PodTopologySpread: hard constraints (DoNotSchedule) filter nodes whose domain would exceed
//! maxSkew; soft ones (ScheduleAnyway) score. Pods with a controller and no constraints get
//! upstream's system defaults (hostname maxSkew 3, zone maxSkew 5, ScheduleAnyway), selecting
//! pods by the pod's own labels (an approximation of the owner's selector).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use api::selector::{LabelOperator, LabelRequirement, LabelSelector};
use k8s_openapi::api::core::v1::TopologySpreadConstraint;

use crate::framework::{
    CycleState, FilterPlugin, Plugin, PreFilterPlugin, PreScorePlugin, ScorePlugin, Status,
    MAX_NODE_SCORE,
};
use crate::snapshot::{NodeInfo, PodInfo, Snapshot};

pub const NAME: &str = "PodTopologySpread";
pub const REASON: &str = "node(s) didn't match pod topology spread constraints";
pub const MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
const HOSTNAME: &str = "kubernetes.io/hostname";
const ZONE: &str = "topology.kubernetes.io/zone";
const FILTER_KEY: &str = "PodTopologySpread/filter";
const SCORE_KEY: &str = "PodTopologySpread/score";

pub struct PodTopologySpread;

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        NAME
    }
}

#[derive(Debug, Clone)]
pub struct Constraint {
    pub max_skew: i64,
    pub topology_key: String,
    pub hard: bool,
    pub min_domains: usize,
    pub selector: LabelSelector,
    /// The pod's namespace and the selector: what a node's matching-pod count is kept under.
    pub count_key: Arc<str>,
}

fn count_key(pod: &PodInfo, selector: &LabelSelector) -> Arc<str> {
    Arc::from(format!("{}\u{0}{selector:?}", pod.namespace))
}

fn compile(pod: &PodInfo, c: &TopologySpreadConstraint) -> Constraint {
    let mut json = serde_json::to_value(&c.label_selector).unwrap_or_default();
    let mut selector = LabelSelector::from_label_selector_json(Some(&json))
        .unwrap_or_else(|_| LabelSelector::nothing());
    let extra: Vec<(String, String)> = c
        .match_label_keys
        .iter()
        .flatten()
        .filter_map(|k| pod.labels.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    if !extra.is_empty() && c.label_selector.is_some() {
        if let Some(labels) = json
            .as_object_mut()
            .map(|o| {
                o.entry("matchLabels")
                    .or_insert_with(|| serde_json::json!({}))
            })
            .and_then(|m| m.as_object_mut())
        {
            for (k, v) in extra {
                labels.insert(k, serde_json::Value::String(v));
            }
        }
        selector = LabelSelector::from_label_selector_json(Some(&json)).unwrap_or(selector);
    }
    Constraint {
        max_skew: i64::from(c.max_skew),
        topology_key: c.topology_key.clone(),
        hard: c.when_unsatisfiable == "DoNotSchedule",
        min_domains: c.min_domains.unwrap_or(1).max(1) as usize,
        count_key: count_key(pod, &selector),
        selector,
    }
}

/// The pod's constraints, or the system defaults for a pod with a controller.
pub fn constraints(pod: &PodInfo) -> Vec<Constraint> {
    let declared = pod
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.topology_spread_constraints.as_ref())
        .filter(|c| !c.is_empty());
    if let Some(declared) = declared {
        return declared.iter().map(|c| compile(pod, c)).collect();
    }
    if !pod.has_controller() || pod.labels.is_empty() {
        return Vec::new();
    }
    let requirements: Option<Vec<LabelRequirement>> = pod
        .labels
        .iter()
        .map(|(k, v)| LabelRequirement::new(k, LabelOperator::Equals, vec![v.clone()]).ok())
        .collect();
    let Some(requirements) = requirements else {
        return Vec::new();
    };
    let text = requirements
        .iter()
        .map(|r| {
            format!(
                "{}={}",
                r.key(),
                r.values().first().map(String::as_str).unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    let Ok(selector) = LabelSelector::parse(&text) else {
        return Vec::new();
    };
    let selector_key = count_key(pod, &selector);
    [(HOSTNAME, 3), (ZONE, 5)]
        .into_iter()
        .map(|(key, skew)| Constraint {
            max_skew: skew,
            topology_key: key.to_string(),
            hard: false,
            min_domains: 1,
            selector: selector.clone(),
            count_key: selector_key.clone(),
        })
        .collect()
}

/// The node's live pods in the pod's namespace that `c` selects.
fn matching_pods(node: &NodeInfo, namespace: &str, c: &Constraint) -> i64 {
    node.match_counts.get_or_count(&c.count_key, || {
        node.pods
            .iter()
            .filter(|p| !p.terminating && p.namespace == namespace && c.selector.matches(&p.labels))
            .count() as i64
    })
}

fn has_keys(node: &NodeInfo, constraints: &[Constraint]) -> bool {
    constraints
        .iter()
        .all(|c| node.labels.contains_key(&c.topology_key))
}

/// Matching pod counts per domain, per hard constraint.
struct FilterState {
    constraints: Vec<Constraint>,
    counts: Vec<HashMap<String, i64>>,
}

impl FilterState {
    fn min_match(&self, i: usize) -> i64 {
        let counts = &self.counts[i];
        if counts.len() < self.constraints[i].min_domains {
            return 0;
        }
        counts.values().copied().min().unwrap_or(0)
    }

    fn update(&mut self, pod: &PodInfo, changed: &PodInfo, node: &NodeInfo, delta: i64) {
        if changed.namespace != pod.namespace
            || !pod.required_node.matches(&node.name, &node.labels)
            || !has_keys(node, &self.constraints)
        {
            return;
        }
        for (i, c) in self.constraints.iter().enumerate() {
            if c.selector.matches(&changed.labels) {
                if let Some(value) = node.labels.get(&c.topology_key) {
                    *self.counts[i].entry(value.clone()).or_default() += delta;
                }
            }
        }
    }
}

impl PreFilterPlugin for PodTopologySpread {
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, snapshot: &Snapshot) -> Status {
        let hard: Vec<Constraint> = constraints(pod).into_iter().filter(|c| c.hard).collect();
        if hard.is_empty() {
            return Status::skip();
        }
        let mut counts = vec![HashMap::new(); hard.len()];
        for node in snapshot.nodes() {
            if !pod.required_node.matches(&node.name, &node.labels) || !has_keys(node, &hard) {
                continue;
            }
            for (i, c) in hard.iter().enumerate() {
                let value = node
                    .labels
                    .get(&c.topology_key)
                    .cloned()
                    .unwrap_or_default();
                *counts[i].entry(value).or_default() += matching_pods(node, &pod.namespace, c);
            }
        }
        state.write(
            FILTER_KEY,
            FilterState {
                constraints: hard,
                counts,
            },
        );
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

impl FilterPlugin for PodTopologySpread {
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(s) = state.read::<FilterState>(FILTER_KEY) else {
            return Status::success();
        };
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = node.labels.get(&c.topology_key) else {
                return Status::unresolvable(MISSING_LABEL);
            };
            let self_match = i64::from(c.selector.matches(&pod.labels));
            let matched = s.counts[i].get(value).copied().unwrap_or(0);
            if matched + self_match - s.min_match(i) > c.max_skew {
                return Status::unschedulable(REASON);
            }
        }
        Status::success()
    }
}

struct ScoreState {
    constraints: Vec<Constraint>,
    weights: Vec<f64>,
    counts: Vec<HashMap<String, i64>>,
    ignored: HashSet<String>,
}

/// Whether the pod declares its own constraints; only then must a node carry every topology
/// key to be scored (upstream's `requireAllTopologies`: system defaults skip what is missing).
fn declares_constraints(pod: &PodInfo) -> bool {
    pod.pod
        .spec
        .as_ref()
        .and_then(|s| s.topology_spread_constraints.as_ref())
        .is_some_and(|c| !c.is_empty())
}

impl PreScorePlugin for PodTopologySpread {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        snapshot: &Snapshot,
    ) -> Status {
        let soft: Vec<Constraint> = constraints(pod).into_iter().filter(|c| !c.hard).collect();
        if soft.is_empty() {
            return Status::skip();
        }
        let require_all = declares_constraints(pod);
        let ignored: HashSet<String> = if require_all {
            nodes
                .iter()
                .filter(|n| !has_keys(n, &soft))
                .map(|n| n.name.clone())
                .collect()
        } else {
            HashSet::new()
        };
        let mut domains: Vec<HashSet<&String>> = vec![HashSet::new(); soft.len()];
        for node in nodes.iter().filter(|n| !ignored.contains(&n.name)) {
            for (i, c) in soft.iter().enumerate() {
                if let Some(v) = node.labels.get(&c.topology_key) {
                    domains[i].insert(v);
                }
            }
        }
        let weights = soft
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let size = if c.topology_key == HOSTNAME {
                    nodes.len() - ignored.len()
                } else {
                    domains[i].len()
                };
                ((size + 2) as f64).ln()
            })
            .collect();
        // Per-domain counts over the whole cluster, for the non-hostname constraints whose
        // domains hold a candidate node (hostname counts are per node, taken in `score`). With
        // none (nodes without zone labels, say) the pass over every node is skipped: at 5,000
        // nodes it was a fifth of the scheduler's time for nothing.
        let counted: Vec<usize> = soft
            .iter()
            .enumerate()
            .filter(|(i, c)| c.topology_key != HOSTNAME && !domains[*i].is_empty())
            .map(|(i, _)| i)
            .collect();
        let mut counts = vec![HashMap::new(); soft.len()];
        if !counted.is_empty() {
            for node in snapshot.nodes() {
                if require_all && !has_keys(node, &soft) {
                    continue;
                }
                let in_domain = |i: usize| {
                    node.labels
                        .get(&soft[i].topology_key)
                        .filter(|value| domains[i].contains(value))
                };
                if !counted.iter().any(|&i| in_domain(i).is_some())
                    || !pod.required_node.matches(&node.name, &node.labels)
                {
                    continue;
                }
                for &i in &counted {
                    if let Some(value) = in_domain(i) {
                        *counts[i].entry(value.clone()).or_default() +=
                            matching_pods(node, &pod.namespace, &soft[i]);
                    }
                }
            }
        }
        state.write(
            SCORE_KEY,
            ScoreState {
                constraints: soft,
                weights,
                counts,
                ignored,
            },
        );
        Status::success()
    }
}

/// Marks nodes without the topology labels; they end with score 0.
const IGNORED: i64 = -1;

impl ScorePlugin for PodTopologySpread {
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let Some(s) = state.read::<ScoreState>(SCORE_KEY) else {
            return Ok(0);
        };
        if s.ignored.contains(&node.name) {
            return Ok(IGNORED);
        }
        let mut score = 0.0;
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = node.labels.get(&c.topology_key) else {
                continue;
            };
            let count = if c.topology_key == HOSTNAME {
                matching_pods(node, &pod.namespace, c)
            } else {
                s.counts[i].get(value).copied().unwrap_or(0)
            };
            score += count as f64 * s.weights[i] + (c.max_skew - 1) as f64;
        }
        Ok(score.round() as i64)
    }

    /// Fewer matching pods is better: `100 * (max + min - score) / max`.
    fn normalize_score(&self, _state: &CycleState, _pod: &PodInfo, scores: &mut [i64]) -> Status {
        let valid = || scores.iter().copied().filter(|s| *s != IGNORED);
        let min = valid().min().unwrap_or(0);
        let max = valid().max().unwrap_or(0);
        for score in scores.iter_mut() {
            *score = if *score == IGNORED {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *score) / max
            };
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod, with_labels};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as Wire;

    fn spread(hard: bool, key: &str) -> PodInfo {
        let mut p = with_labels(pod("new"), &[("app", "web")]);
        p.spec.get_or_insert_default().topology_spread_constraints =
            Some(vec![TopologySpreadConstraint {
                max_skew: 1,
                topology_key: key.into(),
                when_unsatisfiable: if hard {
                    "DoNotSchedule"
                } else {
                    "ScheduleAnyway"
                }
                .into(),
                label_selector: Some(Wire {
                    match_labels: Some([("app".to_string(), "web".to_string())].into()),
                    ..Default::default()
                }),
                ..Default::default()
            }]);
        PodInfo::new(p, 0)
    }

    fn snapshot() -> Snapshot {
        let mut s = Snapshot::new();
        for (name, zone, pods) in [("a", "z1", 2), ("b", "z2", 1), ("c", "z2", 0)] {
            s.upsert_node(node(name).label("zone", zone).node());
            for i in 0..pods {
                let mut p = with_labels(pod(&format!("{name}{i}")), &[("app", "web")]);
                p.spec.get_or_insert_default().node_name = Some(name.into());
                s.add_pod(PodInfo::new(p, 0));
            }
        }
        s.upsert_node(node("nolabel").node());
        s
    }

    #[test]
    fn hard_constraint_filters_by_skew() {
        let s = snapshot();
        let p = spread(true, "zone");
        let mut state = CycleState::new();
        assert!(PodTopologySpread
            .pre_filter(&mut state, &p, &s)
            .is_success());
        // z1 has 2, z2 has 1: adding to z1 gives skew 2 > 1.
        let verdict = |n: &str| s.node(n).map(|n| PodTopologySpread.filter(&state, &p, n));
        assert_eq!(verdict("a"), Some(Status::unschedulable(REASON)));
        assert_eq!(verdict("b"), Some(Status::success()));
        assert_eq!(
            verdict("nolabel"),
            Some(Status::unresolvable(MISSING_LABEL))
        );
    }

    /// PreScore for `p` over `names`, then each node's raw score (before normalizing).
    fn raw_scores(s: &Snapshot, p: &PodInfo, names: &[&str]) -> (CycleState, Vec<i64>) {
        let nodes: Vec<&NodeInfo> = names.iter().filter_map(|n| s.node(n)).collect();
        let mut state = CycleState::new();
        assert!(PodTopologySpread
            .pre_score(&mut state, p, &nodes, s)
            .is_success());
        let scores = nodes
            .iter()
            .map(|n| PodTopologySpread.score(&state, p, n).unwrap_or(-5))
            .collect();
        (state, scores)
    }

    #[test]
    fn soft_constraint_prefers_emptier_domains() {
        let s = snapshot();
        let p = spread(false, "kubernetes.io/hostname");
        let (state, mut scores) = raw_scores(&s, &p, &["a", "b", "c"]);
        // weight ln(3+2) ≈ 1.609: a = round(3.22) = 3, b = round(1.61) = 2, c = 0.
        assert_eq!(scores, vec![3, 2, 0]);
        PodTopologySpread.normalize_score(&state, &p, &mut scores);
        assert_eq!(scores, vec![0, 33, 100]);
    }

    /// A pod of a controller without constraints of its own gets the system defaults
    /// (hostname and zone, ScheduleAnyway); nodes without a zone label still spread by
    /// hostname rather than all being left out of scoring.
    #[test]
    fn system_defaults_spread_by_hostname_on_nodes_without_zones() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
        let owned = |name: &str| {
            let mut p = with_labels(pod(name), &[("app", "web")]);
            p.metadata.owner_references = Some(vec![OwnerReference {
                controller: Some(true),
                kind: "ReplicaSet".into(),
                name: "web".into(),
                uid: "rs-uid".into(),
                api_version: "apps/v1".into(),
                ..Default::default()
            }]);
            p
        };
        let mut s = Snapshot::new();
        for (name, pods) in [("a", 2), ("b", 1), ("c", 0)] {
            s.upsert_node(node(name).label(HOSTNAME, name).node());
            for i in 0..pods {
                let mut p = owned(&format!("{name}{i}"));
                p.spec.get_or_insert_default().node_name = Some(name.into());
                s.add_pod(PodInfo::new(p, 0));
            }
        }
        let p = PodInfo::new(owned("new"), 0);
        let (state, mut scores) = raw_scores(&s, &p, &["a", "b", "c"]);
        PodTopologySpread.normalize_score(&state, &p, &mut scores);
        assert!(
            scores[2] > scores[1] && scores[1] > scores[0],
            "emptier nodes score higher: {scores:?}"
        );
    }

    /// Counts are remembered per node between cycles, and recounted once its pods change.
    #[test]
    fn remembered_counts_follow_pods_placed_and_removed() {
        let mut s = snapshot();
        let p = spread(false, "kubernetes.io/hostname");
        assert_eq!(raw_scores(&s, &p, &["a", "b", "c"]).1, vec![3, 2, 0]);
        let mut placed = with_labels(pod("c0"), &[("app", "web")]);
        placed.spec.get_or_insert_default().node_name = Some("c".into());
        s.add_pod(PodInfo::new(placed, 0));
        assert_eq!(raw_scores(&s, &p, &["a", "b", "c"]).1, vec![3, 2, 2]);
        let removed = s
            .node("a")
            .map(|n| n.pods[0].uid.clone())
            .unwrap_or_default();
        s.remove_pod(&removed);
        assert_eq!(raw_scores(&s, &p, &["a", "b", "c"]).1, vec![2, 2, 2]);
    }
}
