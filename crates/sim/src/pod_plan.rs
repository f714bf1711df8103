//! What to do next for a pod bound to a simulated node, decided from the pod as observed.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use crate::pod_status::{is_running, restart_policy, start_time};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodAction {
    /// Nothing until the pod changes.
    Wait,
    /// Post the running status.
    Start,
    /// A run-to-completion pod still has this long to run.
    CompleteAfter(Duration),
    /// Post the Succeeded status.
    Complete,
    /// Deleted while not terminal: post the stopped status, then finish the deletion.
    Terminate,
    /// Deleted and terminal: finish the deletion.
    Remove,
}

pub fn plan(pod: &Pod, now: Timestamp, run_time: Duration) -> PodAction {
    let phase = pod
        .status
        .as_ref()
        .and_then(|status| status.phase.as_deref());
    let terminal = matches!(phase, Some("Succeeded" | "Failed"));
    if pod.metadata.deletion_timestamp.is_some() {
        return if terminal {
            PodAction::Remove
        } else {
            PodAction::Terminate
        };
    }
    if terminal {
        return PodAction::Wait;
    }
    if !is_running(pod) {
        return PodAction::Start;
    }
    if restart_policy(pod) == "Always" {
        return PodAction::Wait;
    }
    let started = start_time(pod).unwrap_or(now);
    let elapsed = now.duration_since(started);
    let remaining = jiff::SignedDuration::try_from(run_time)
        .unwrap_or(jiff::SignedDuration::MAX)
        .saturating_sub(elapsed);
    match Duration::try_from(remaining) {
        Ok(remaining) if !remaining.is_zero() => PodAction::CompleteAfter(remaining),
        _ => PodAction::Complete,
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::*;
    use crate::pod_status::{running_status, stopped_status, Ending, Placement};

    fn pod(restart_policy: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "default", "uid": "u"},
            "spec": {
                "nodeName": "n-0",
                "restartPolicy": restart_policy,
                "containers": [{"name": "c", "image": "i"}]
            }
        }))
        .unwrap()
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    fn started(mut pod: Pod, when: Timestamp) -> Pod {
        let placement = Placement {
            host_ip: "10.240.0.1".parse().unwrap(),
            pod_ip: "10.244.0.2".parse().unwrap(),
        };
        pod.status = Some(running_status(&pod, placement, when));
        pod
    }

    const RUN: Duration = Duration::from_secs(2);

    #[test]
    fn a_new_pod_is_started() {
        assert_eq!(plan(&pod("Always"), at(0), RUN), PodAction::Start);
    }

    #[test]
    fn a_running_service_waits() {
        assert_eq!(
            plan(&started(pod("Always"), at(0)), at(100), RUN),
            PodAction::Wait
        );
    }

    #[test]
    fn a_job_pod_completes_after_the_run_time() {
        for policy in ["Never", "OnFailure"] {
            let pod = started(pod(policy), at(0));
            assert_eq!(
                plan(&pod, at(0), RUN),
                PodAction::CompleteAfter(RUN),
                "{policy}"
            );
            assert_eq!(
                plan(&pod, at(1), RUN),
                PodAction::CompleteAfter(Duration::from_secs(1))
            );
            assert_eq!(plan(&pod, at(2), RUN), PodAction::Complete);
            assert_eq!(plan(&pod, at(9), RUN), PodAction::Complete);
        }
        let instant = started(pod("Never"), at(0));
        assert_eq!(plan(&instant, at(0), Duration::ZERO), PodAction::Complete);
    }

    #[test]
    fn terminal_pods_are_left_alone() {
        let mut done = started(pod("Never"), at(0));
        done.status = Some(stopped_status(&done, Ending::Completed, at(2)));
        assert_eq!(plan(&done, at(3), RUN), PodAction::Wait);
    }

    #[test]
    fn deleted_pods_are_terminated_then_removed() {
        let mut deleted = started(pod("Always"), at(0));
        deleted.metadata.deletion_timestamp = Some(Time(at(30)));
        assert_eq!(plan(&deleted, at(1), RUN), PodAction::Terminate);
        let mut pending = pod("Always");
        pending.metadata.deletion_timestamp = Some(Time(at(30)));
        assert_eq!(plan(&pending, at(1), RUN), PodAction::Terminate);
        deleted.status = Some(stopped_status(&deleted, Ending::Completed, at(1)));
        assert_eq!(plan(&deleted, at(1), RUN), PodAction::Remove);
    }
}
