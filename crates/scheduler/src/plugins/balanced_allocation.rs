//! NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory fractions stay close.

use crate::framework::{CycleState, Plugin, ScorePlugin, Status, MAX_NODE_SCORE};
use crate::snapshot::{NodeInfo, PodInfo};

pub const NAME: &str = "NodeResourcesBalancedAllocation";

pub struct BalancedAllocation;

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        NAME
    }
}

/// `(1 - standard deviation of the requested fractions) * 100`, fractions capped at 1.
pub fn balanced_score(pairs: &[(i64, i64)]) -> i64 {
    let fractions: Vec<f64> = pairs
        .iter()
        .filter(|(allocatable, _)| *allocatable > 0)
        .map(|(allocatable, requested)| (*requested as f64 / *allocatable as f64).min(1.0))
        .collect();
    let std = match fractions.len() {
        0 | 1 => 0.0,
        2 => ((fractions[0] - fractions[1]) / 2.0).abs(),
        n => {
            let mean = fractions.iter().sum::<f64>() / n as f64;
            let variance = fractions
                .iter()
                .map(|f| (f - mean) * (f - mean))
                .sum::<f64>()
                / n as f64;
            variance.sqrt()
        }
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

impl ScorePlugin for BalancedAllocation {
    /// Actual requests (no non-zero defaults), as upstream's `useRequested`.
    fn score(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let request = &pod.requests.requests;
        Ok(balanced_score(&[
            (
                node.allocatable.milli_cpu,
                node.requested.milli_cpu + request.milli_cpu,
            ),
            (
                node.allocatable.memory,
                node.requested.memory + request.memory,
            ),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod_requesting};

    #[test]
    fn upstream_figures() {
        // Upstream: "nothing scheduled, resources requested, differently sized nodes".
        let p = PodInfo::new(pod_requesting("p", "3", "5000"), 0);
        let n1 = node("n1")
            .allocatable("cpu", "4")
            .allocatable("memory", "10000")
            .build();
        let n2 = node("n2")
            .allocatable("cpu", "6")
            .allocatable("memory", "10000")
            .build();
        let state = CycleState::new();
        assert_eq!(BalancedAllocation.score(&state, &p, &n1), Ok(87));
        assert_eq!(BalancedAllocation.score(&state, &p, &n2), Ok(100));
    }

    #[test]
    fn three_resources_use_standard_deviation() {
        // Fractions 0.2, 0.4, 0.6: mean 0.4, std ≈ 0.1633 → 83.
        assert_eq!(balanced_score(&[(10, 2), (10, 4), (10, 6)]), 83);
    }
}
