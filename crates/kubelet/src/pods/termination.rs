//! Stopping a pod: preStop hooks, StopContainer with the grace period, the sandbox, the volumes.

use std::path::Path;

use k8s_openapi::api::core::v1::Pod;

use super::context::PodContext;
use super::cri_calls::{pod_runtime_state, remove_sandbox, stop_container, stop_sandbox};
use super::pod_cgroup::{remove_pod_cgroup, CGROUP_FS};
use super::qos::{cgroup_parent, qos_class};
use super::runtime_state::ContainerRecord;
use crate::KubeletError;

/// The grace period left for the pod's containers.
pub fn grace_period_seconds(pod: &Pod) -> i64 {
    pod.metadata
        .deletion_grace_period_seconds
        .or_else(|| {
            pod.spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds)
        })
        .unwrap_or(30)
        .max(0)
}

/// The grace period upstream's eviction manager gives a pod evicted for a hard threshold.
const HARD_EVICTION_GRACE_SECONDS: i64 = 1;

/// The grace period for stopping a pod that has finished (phase Succeeded or Failed): an evicted
/// pod's containers get [`HARD_EVICTION_GRACE_SECONDS`] (every threshold here is hard), others
/// their usual grace period.
pub fn finished_pod_grace_period_seconds(pod: &Pod) -> i64 {
    let evicted = pod
        .status
        .as_ref()
        .and_then(|s| s.reason.as_deref())
        .is_some_and(|reason| reason == "Evicted");
    if evicted {
        HARD_EVICTION_GRACE_SECONDS.min(grace_period_seconds(pod))
    } else {
        grace_period_seconds(pod)
    }
}

/// preStop (if any) then StopContainer; `message` overrides the Killing event's.
pub async fn kill_container(
    ctx: &PodContext,
    pod: &Pod,
    record: &ContainerRecord,
    message: Option<String>,
    grace: i64,
    pod_ip: Option<&str>,
) {
    let spec = pod.spec.clone().unwrap_or_default();
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .any(|c| c.name == record.name);
    let container = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == record.name);
    let message = message.unwrap_or_else(|| format!("Stopping container {}", record.name));
    ctx.events
        .record(pod, Some((&record.name, init)), false, "Killing", message);
    let started = std::time::Instant::now();
    if let Some(handler) = container
        .and_then(|c| c.lifecycle.as_ref())
        .and_then(|l| l.pre_stop.as_ref())
    {
        let hook = crate::lifecycle::HookTarget {
            pod: Some(pod),
            container,
            container_id: &record.id,
            pod_ip,
            timeout: Some(std::time::Duration::from_secs(grace as u64)),
        };
        if let Err(message) = crate::lifecycle::run_hook(&ctx.cri, handler, &hook).await {
            ctx.events.record(
                pod,
                Some((&record.name, init)),
                true,
                "FailedPreStopHook",
                message,
            );
        }
    }
    let left = grace - started.elapsed().as_secs() as i64;
    if let Err(e) = stop_container(&ctx.cri, &record.id, left.max(2)).await {
        tracing::warn!(error = %e, container = %record.id, "stopping a container");
    }
}

/// Init containers with `restartPolicy: Always`, in spec order.
fn sidecar_names(pod: &Pod) -> Vec<String> {
    pod.spec
        .iter()
        .flat_map(|s| s.init_containers.iter().flatten())
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .map(|c| c.name.clone())
        .collect()
}

/// Stops every container and sandbox of the pod with this uid and releases its volumes.
pub async fn terminate_pod(ctx: &PodContext, pod: &Pod) -> Result<(), KubeletError> {
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let state = pod_runtime_state(&ctx.cri, &uid).await?;
    let grace = grace_period_seconds(pod);
    let pod_ip = state.latest_sandbox().and_then(|s| s.ips.first().cloned());
    // Sidecars outlive the containers they serve: they stop last, in reverse order.
    let sidecars = sidecar_names(pod);
    let kills = state
        .running()
        .filter(|record| !sidecars.contains(&record.name))
        .map(|record| kill_container(ctx, pod, record, None, grace, pod_ip.as_deref()));
    futures::future::join_all(kills).await;
    for name in sidecars.iter().rev() {
        for record in state.running().filter(|record| &record.name == name) {
            kill_container(ctx, pod, record, None, grace, pod_ip.as_deref()).await;
        }
    }
    for sandbox in &state.sandboxes {
        stop_sandbox(&ctx.cri, &sandbox.id).await?;
        remove_sandbox(&ctx.cri, &sandbox.id).await?;
    }
    let parent = cgroup_parent(&ctx.options.cgroup_root, qos_class(pod), &uid);
    let left = remove_pod_cgroup(Path::new(CGROUP_FS), &parent).await;
    if !left.is_empty() {
        tracing::warn!(cgroups = ?left, "pod cgroups still busy after the pod stopped");
    }
    ctx.volumes.teardown(&uid).await?;
    let dir = super::container_start::pod_dir(ctx, &uid);
    let _ = tokio::fs::remove_file(dir.join("etc-hosts")).await;
    let _ = tokio::fs::remove_dir_all(dir.join("containers")).await;
    let _ = tokio::fs::remove_dir(&dir).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, PodStatus};

    fn finished(reason: Option<&str>, grace: Option<i64>) -> Pod {
        Pod {
            spec: Some(PodSpec {
                termination_grace_period_seconds: grace,
                ..PodSpec::default()
            }),
            status: Some(PodStatus {
                phase: Some("Failed".into()),
                reason: reason.map(str::to_string),
                ..PodStatus::default()
            }),
            ..Pod::default()
        }
    }

    #[test]
    fn evicted_pods_stop_at_once_and_other_finished_pods_get_their_grace() {
        assert_eq!(
            finished_pod_grace_period_seconds(&finished(Some("Evicted"), None)),
            1
        );
        assert_eq!(
            finished_pod_grace_period_seconds(&finished(Some("Evicted"), Some(0))),
            0
        );
        assert_eq!(finished_pod_grace_period_seconds(&finished(None, None)), 30);
        assert_eq!(
            finished_pod_grace_period_seconds(&finished(Some("DeadlineExceeded"), Some(5))),
            5
        );
    }
}
