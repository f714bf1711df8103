//! NodeUnschedulable: cordoned nodes accept only pods tolerating the unschedulable taint.

use k8s_openapi::api::core::v1::Taint;

use crate::framework::{CycleState, FilterPlugin, Plugin, Status};
use crate::plugins::taint_toleration::tolerated_by;
use crate::snapshot::{NodeInfo, PodInfo};

pub const NAME: &str = "NodeUnschedulable";
pub const REASON: &str = "node(s) were unschedulable";

pub struct NodeUnschedulable;

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl FilterPlugin for NodeUnschedulable {
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        if !node.unschedulable {
            return Status::success();
        }
        let taint = Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        };
        if tolerated_by(&pod.tolerations, &taint) {
            Status::success()
        } else {
            Status::unresolvable(REASON)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod};
    use k8s_openapi::api::core::v1::Toleration;

    #[test]
    fn cordoned_nodes_need_a_toleration() {
        let n = node("a").unschedulable().build();
        let plain = PodInfo::new(pod("p"), 0);
        assert_eq!(
            NodeUnschedulable.filter(&CycleState::new(), &plain, &n),
            Status::unresolvable(REASON)
        );
        let mut tolerant = pod("q");
        tolerant.spec.get_or_insert_default().tolerations = Some(vec![Toleration {
            key: Some("node.kubernetes.io/unschedulable".into()),
            operator: Some("Exists".into()),
            effect: Some("NoSchedule".into()),
            ..Default::default()
        }]);
        let tolerant = PodInfo::new(tolerant, 0);
        assert!(NodeUnschedulable
            .filter(&CycleState::new(), &tolerant, &n)
            .is_success());
        assert!(NodeUnschedulable
            .filter(&CycleState::new(), &plain, &node("b").build())
            .is_success());
    }
}
