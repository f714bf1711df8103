//! NodeResourcesFit: the pod's requests must fit the node's allocatable minus what its pods
//! request; scored LeastAllocated (more free cpu and memory is better).

use crate::framework::{CycleState, FilterPlugin, Plugin, ScorePlugin, Status, MAX_NODE_SCORE};
use crate::snapshot::{NodeInfo, PodInfo};

pub const NAME: &str = "NodeResourcesFit";

pub struct NodeResourcesFit;

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        NAME
    }
}

/// Every reason the pod does not fit (upstream's `fitsRequest`).
pub fn insufficient_resources(pod: &PodInfo, node: &NodeInfo) -> Vec<String> {
    let mut reasons = Vec::new();
    let allowed_pods = node.allocatable.pods;
    if node.pods.len() as i64 + 1 > allowed_pods {
        reasons.push("Too many pods".to_string());
    }
    let request = &pod.requests.requests;
    if request.milli_cpu == 0
        && request.memory == 0
        && request.ephemeral_storage == 0
        && request.scalar.values().all(|v| *v == 0)
    {
        return reasons;
    }
    let (alloc, used) = (&node.allocatable, &node.requested);
    if request.milli_cpu > 0 && alloc.milli_cpu < request.milli_cpu + used.milli_cpu {
        reasons.push("Insufficient cpu".to_string());
    }
    if request.memory > 0 && alloc.memory < request.memory + used.memory {
        reasons.push("Insufficient memory".to_string());
    }
    if request.ephemeral_storage > 0
        && alloc.ephemeral_storage < request.ephemeral_storage + used.ephemeral_storage
    {
        reasons.push("Insufficient ephemeral-storage".to_string());
    }
    for (name, amount) in &request.scalar {
        if *amount > 0 && alloc.scalar(name) < amount + used.scalar(name) {
            reasons.push(format!("Insufficient {name}"));
        }
    }
    reasons
}

impl FilterPlugin for NodeResourcesFit {
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let reasons = insufficient_resources(pod, node);
        if reasons.is_empty() {
            Status::success()
        } else {
            Status::with_reasons(crate::framework::Code::Unschedulable, reasons)
        }
    }
}

/// Upstream's `leastRequestedScore`.
pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

impl ScorePlugin for NodeResourcesFit {
    /// cpu and memory, weight 1 each, with the non-zero request defaults.
    fn score(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let pairs = [
            (
                node.allocatable.milli_cpu,
                node.non_zero_milli_cpu + pod.requests.non_zero_milli_cpu,
            ),
            (
                node.allocatable.memory,
                node.non_zero_memory + pod.requests.non_zero_memory,
            ),
        ];
        let (mut total, mut weights) = (0, 0);
        for (allocatable, requested) in pairs {
            if allocatable == 0 {
                continue;
            }
            total += least_requested_score(requested, allocatable);
            weights += 1;
        }
        Ok(if weights == 0 { 0 } else { total / weights })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod_requesting};
    use crate::snapshot::PodInfo;

    fn sized(name: &str, cpu: &str, memory: &str) -> crate::plugins::testing::NodeBuilder {
        node(name)
            .allocatable("cpu", cpu)
            .allocatable("memory", memory)
    }

    #[test]
    fn least_allocated_upstream_figures() {
        // Upstream: "nothing scheduled, resources requested, differently sized nodes".
        let p = PodInfo::new(pod_requesting("p", "3", "5000"), 0);
        let n1 = sized("n1", "4", "10000").build();
        let n2 = sized("n2", "6", "10000").build();
        let state = CycleState::new();
        assert_eq!(NodeResourcesFit.score(&state, &p, &n1), Ok(37));
        assert_eq!(NodeResourcesFit.score(&state, &p, &n2), Ok(50));
    }

    #[test]
    fn least_allocated_counts_existing_pods_and_defaults() {
        // An empty pod counts as 100m / 200Mi for scoring.
        let p = PodInfo::new(pod_requesting("p", "", ""), 0);
        let n = sized("n", "1", "400Mi")
            .pod(pod_requesting("q", "400m", "100Mi"))
            .build();
        // cpu: (1000-500)*100/1000 = 50; memory: (400-300)*100/400 = 25.
        assert_eq!(NodeResourcesFit.score(&CycleState::new(), &p, &n), Ok(37));
    }

    #[test]
    fn filter_lists_every_shortage() {
        let p = PodInfo::new(pod_requesting("p", "3", "6Gi"), 0);
        let n = sized("n", "4", "8Gi")
            .pod(pod_requesting("q", "2", "4Gi"))
            .build();
        let status = NodeResourcesFit.filter(&CycleState::new(), &p, &n);
        assert_eq!(
            status.reasons(),
            ["Insufficient cpu", "Insufficient memory"]
        );
        assert_eq!(status.code(), crate::framework::Code::Unschedulable);
        let small = PodInfo::new(pod_requesting("s", "1", "1Gi"), 0);
        assert!(NodeResourcesFit
            .filter(&CycleState::new(), &small, &n)
            .is_success());
    }

    #[test]
    fn too_many_pods_and_extended_resources() {
        let mut p = pod_requesting("p", "", "");
        p.spec.get_or_insert_default().containers[0]
            .resources
            .get_or_insert_default()
            .requests
            .get_or_insert_default()
            .insert(
                "example.com/gpu".into(),
                k8s_openapi::apimachinery::pkg::api::resource::Quantity("1".into()),
            );
        let p = PodInfo::new(p, 0);
        let n = node("n")
            .allocatable("pods", "1")
            .pod(pod_requesting("q", "", ""))
            .build();
        let status = NodeResourcesFit.filter(&CycleState::new(), &p, &n);
        assert_eq!(
            status.reasons(),
            ["Too many pods", "Insufficient example.com/gpu"]
        );
        let gpu = node("g").allocatable("example.com/gpu", "2").build();
        assert!(NodeResourcesFit
            .filter(&CycleState::new(), &p, &gpu)
            .is_success());
    }
}
