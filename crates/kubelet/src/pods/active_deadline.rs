//! `spec.activeDeadlineSeconds`: a pod active on the node longer than that fails, as upstream's
//! active deadline handler (counted from `status.startTime`, the kubelet's first sight of it).

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

/// The pod status reason and message (and the event's) upstream gives such a pod.
pub const DEADLINE_EXCEEDED_REASON: &str = "DeadlineExceeded";
pub const DEADLINE_EXCEEDED_MESSAGE: &str =
    "Pod was active on the node longer than the specified deadline";

/// How long the pod may still run at `now`: `None` without a deadline or a start time, zero once
/// the deadline has passed.
pub fn time_left(pod: &Pod, now: Timestamp) -> Option<Duration> {
    let allowed = pod.spec.as_ref()?.active_deadline_seconds?;
    let started = pod.status.as_ref()?.start_time.as_ref()?.0;
    let active = now.duration_since(started).as_secs().max(0);
    let left = allowed.saturating_sub(active).max(0);
    Some(Duration::from_secs(left.unsigned_abs()))
}

pub fn deadline_passed(pod: &Pod, now: Timestamp) -> bool {
    time_left(pod, now).is_some_and(|left| left.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn pod(deadline: Option<i64>, started: Option<i64>) -> Pod {
        Pod {
            spec: Some(PodSpec {
                active_deadline_seconds: deadline,
                ..Default::default()
            }),
            status: Some(PodStatus {
                start_time: started.map(|s| Time(Timestamp::from_second(s).unwrap())),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn the_deadline_counts_from_the_start_time() {
        let p = pod(Some(30), Some(1_000));
        assert_eq!(time_left(&p, at(1_010)), Some(Duration::from_secs(20)));
        assert!(!deadline_passed(&p, at(1_029)));
        assert!(deadline_passed(&p, at(1_030)));
        assert_eq!(time_left(&p, at(5_000)), Some(Duration::ZERO));
    }

    #[test]
    fn no_deadline_or_no_start_time_never_passes() {
        assert_eq!(time_left(&pod(None, Some(1_000)), at(9_999)), None);
        assert_eq!(time_left(&pod(Some(1), None), at(9_999)), None);
        assert!(!deadline_passed(&pod(Some(1), None), at(9_999)));
    }
}
