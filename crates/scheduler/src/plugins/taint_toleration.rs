//! TaintToleration: NoSchedule/NoExecute taints must be tolerated; untolerated
//! PreferNoSchedule taints lower the score.

use k8s_openapi::api::core::v1::{Taint, Toleration};

use crate::framework::{
    CycleState, FilterPlugin, Plugin, PreScorePlugin, ScorePlugin, Status, MAX_NODE_SCORE,
};
use crate::plugins::normalize::default_normalize;
use crate::snapshot::{NodeInfo, PodInfo, Snapshot};

pub const NAME: &str = "TaintToleration";

/// Upstream's `Toleration.ToleratesTaint`.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = toleration.effect.as_deref().filter(|e| !e.is_empty()) {
        if effect != taint.effect {
            return false;
        }
    }
    if let Some(key) = toleration.key.as_deref().filter(|k| !k.is_empty()) {
        if key != taint.key {
            return false;
        }
    }
    match toleration.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" | "" => {
            toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

pub fn tolerated_by(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

pub struct TaintToleration;

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl FilterPlugin for TaintToleration {
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let untolerated = node.taints.iter().find(|taint| {
            matches!(taint.effect.as_str(), "NoSchedule" | "NoExecute")
                && !tolerated_by(&pod.tolerations, taint)
        });
        match untolerated {
            Some(taint) => Status::unresolvable(format!(
                "node(s) had untolerated taint {{{}: {}}}",
                taint.key,
                taint.value.as_deref().unwrap_or("")
            )),
            None => Status::success(),
        }
    }
}

/// The pod's tolerations that apply to PreferNoSchedule taints.
struct PreferTolerations(Vec<Toleration>);

impl PreScorePlugin for TaintToleration {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[&NodeInfo],
        _snapshot: &Snapshot,
    ) -> Status {
        let relevant = pod
            .tolerations
            .iter()
            .filter(|t| {
                matches!(
                    t.effect.as_deref(),
                    None | Some("") | Some("PreferNoSchedule")
                )
            })
            .cloned()
            .collect();
        state.write(NAME, PreferTolerations(relevant));
        Status::success()
    }
}

impl ScorePlugin for TaintToleration {
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let tolerations = state
            .read::<PreferTolerations>(NAME)
            .map(|t| t.0.as_slice())
            .unwrap_or(&pod.tolerations);
        Ok(node
            .taints
            .iter()
            .filter(|t| t.effect == "PreferNoSchedule" && !tolerated_by(tolerations, t))
            .count() as i64)
    }

    fn normalize_score(&self, _state: &CycleState, _pod: &PodInfo, scores: &mut [i64]) -> Status {
        default_normalize(MAX_NODE_SCORE, true, scores);
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod, taint};

    fn toleration(key: &str, operator: &str, value: &str, effect: &str) -> Toleration {
        Toleration {
            key: Some(key.into()),
            operator: Some(operator.into()),
            value: Some(value.into()),
            effect: Some(effect.into()),
            ..Default::default()
        }
    }

    #[test]
    fn toleration_matching() {
        let t = taint("dedicated", "gpu", "NoSchedule");
        assert!(tolerates(
            &toleration("dedicated", "Equal", "gpu", "NoSchedule"),
            &t
        ));
        assert!(tolerates(&toleration("dedicated", "Exists", "", ""), &t));
        assert!(tolerates(&toleration("", "Exists", "", ""), &t));
        assert!(!tolerates(
            &toleration("dedicated", "Equal", "cpu", "NoSchedule"),
            &t
        ));
        assert!(!tolerates(
            &toleration("dedicated", "Equal", "gpu", "NoExecute"),
            &t
        ));
    }

    #[test]
    fn filter_reports_the_taint() {
        let n = node("cp")
            .taint(taint(
                "node-role.kubernetes.io/control-plane",
                "",
                "NoSchedule",
            ))
            .build();
        let p = PodInfo::new(pod("p"), 0);
        assert_eq!(
            TaintToleration.filter(&CycleState::new(), &p, &n),
            Status::unresolvable(
                "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
            )
        );
        let prefer = node("x").taint(taint("k", "v", "PreferNoSchedule")).build();
        assert!(TaintToleration
            .filter(&CycleState::new(), &p, &prefer)
            .is_success());
    }

    #[test]
    fn score_prefers_fewer_intolerable_taints() {
        let p = PodInfo::new(pod("p"), 0);
        let clean = node("a").build();
        let one = node("b")
            .taint(taint("k1", "v", "PreferNoSchedule"))
            .build();
        let two = node("c")
            .taint(taint("k1", "v", "PreferNoSchedule"))
            .taint(taint("k2", "v", "PreferNoSchedule"))
            .build();
        let mut state = CycleState::new();
        let nodes = [&clean, &one, &two];
        TaintToleration.pre_score(&mut state, &p, &nodes, &Snapshot::new());
        let mut scores: Vec<i64> = nodes
            .iter()
            .map(|n| TaintToleration.score(&state, &p, n).unwrap_or(-1))
            .collect();
        TaintToleration.normalize_score(&state, &p, &mut scores);
        assert_eq!(scores, vec![100, 50, 0]);
    }
}
