//! SchedulingGates: pods with `spec.schedulingGates` wait outside the active queue.

use crate::framework::{Code, Plugin, PreEnqueuePlugin, Status};
use crate::snapshot::PodInfo;

pub const NAME: &str = "SchedulingGates";

pub struct SchedulingGates;

impl Plugin for SchedulingGates {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl PreEnqueuePlugin for SchedulingGates {
    fn pre_enqueue(&self, pod: &PodInfo) -> Status {
        let gates = pod.scheduling_gates();
        if gates.is_empty() {
            Status::success()
        } else {
            Status::new(
                Code::UnschedulableAndUnresolvable,
                format!("waiting for scheduling gates: [{}]", gates.join(" ")),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::pod;
    use k8s_openapi::api::core::v1::PodSchedulingGate;

    #[test]
    fn gated_pods_wait() {
        let mut p = pod("p");
        p.spec.get_or_insert_default().scheduling_gates = Some(vec![
            PodSchedulingGate { name: "a".into() },
            PodSchedulingGate { name: "b".into() },
        ]);
        let status = SchedulingGates.pre_enqueue(&PodInfo::new(p, 0));
        assert_eq!(status.reasons(), ["waiting for scheduling gates: [a b]"]);
        assert!(SchedulingGates
            .pre_enqueue(&PodInfo::new(pod("q"), 0))
            .is_success());
    }
}
