//! The limits of a pod's own cgroup (upstream's ResourceConfigForPod; pure).

use k8s_openapi::api::core::v1::{Container, Pod};

use super::qos::{milli, QosClass};

const MIN_SHARES: u64 = 2;
const MAX_SHARES: u64 = 262_144;
const SHARES_PER_CPU: u64 = 1024;
const QUOTA_PERIOD: u64 = 100_000;
const MIN_QUOTA: i64 = 1_000;

/// What the pod cgroup is limited to; `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodCgroupLimits {
    pub cpu_shares: u64,
    pub cpu_quota: Option<i64>,
    pub cpu_period: u64,
    pub memory_limit: Option<i64>,
}

impl PodCgroupLimits {
    /// cgroup v2's `cpu.weight` for the v1 shares (the conversion runc and the kubelet use).
    pub fn cpu_weight(&self) -> u64 {
        let shares = self.cpu_shares.clamp(MIN_SHARES, MAX_SHARES);
        1 + ((shares - MIN_SHARES) * 9999) / (MAX_SHARES - MIN_SHARES)
    }
}

/// `(request, limit)` of one resource in thousandths, a limit alone counting as the request.
fn request_and_limit(container: &Container, name: &str) -> (i128, Option<i128>) {
    let resources = container.resources.as_ref();
    let limit = resources
        .and_then(|r| r.limits.as_ref())
        .and_then(|l| l.get(name))
        .and_then(milli);
    let request = resources
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get(name))
        .and_then(milli)
        .or(limit)
        .unwrap_or(0);
    (request, limit)
}

fn is_sidecar(container: &Container) -> bool {
    container.restart_policy.as_deref() == Some("Always")
}

/// Sum over the containers that run together (app containers and sidecars), at least the
/// largest init container (upstream's PodRequests/PodLimits); whether every one has a limit.
fn pod_total(pod: &Pod, name: &str) -> (i128, Option<i128>) {
    let spec = pod.spec.clone().unwrap_or_default();
    let init = spec.init_containers.unwrap_or_default();
    let mut requests = 0;
    let mut limits = Some(0);
    for container in spec
        .containers
        .iter()
        .chain(init.iter().filter(|c| is_sidecar(c)))
    {
        let (request, limit) = request_and_limit(container, name);
        requests += request;
        limits = limits.zip(limit).map(|(sum, l)| sum + l);
    }
    for container in init.iter().filter(|c| !is_sidecar(c)) {
        let (request, limit) = request_and_limit(container, name);
        requests = requests.max(request);
        limits = limits.map(|sum| sum.max(limit.unwrap_or(0)));
    }
    (requests, limits)
}

pub fn pod_cgroup_limits(pod: &Pod, qos: QosClass) -> PodCgroupLimits {
    if qos == QosClass::BestEffort {
        return PodCgroupLimits {
            cpu_shares: MIN_SHARES,
            cpu_quota: None,
            cpu_period: QUOTA_PERIOD,
            memory_limit: None,
        };
    }
    let (cpu_requests, cpu_limits) = pod_total(pod, "cpu");
    let (_, memory_limits) = pod_total(pod, "memory");
    let cpu_shares = u64::try_from(cpu_requests * SHARES_PER_CPU as i128 / 1000)
        .unwrap_or(0)
        .clamp(MIN_SHARES, MAX_SHARES);
    let cpu_quota = cpu_limits
        .filter(|l| *l > 0)
        .map(|l| (l as i64 * QUOTA_PERIOD as i64 / 1000).max(MIN_QUOTA));
    PodCgroupLimits {
        cpu_shares,
        cpu_quota,
        cpu_period: QUOTA_PERIOD,
        memory_limit: memory_limits.filter(|m| *m > 0).map(|m| (m / 1000) as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pods::qos::qos_class;
    use serde_json::json;

    fn pod(containers: serde_json::Value, init: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"spec": {"containers": containers, "initContainers": init}}))
            .unwrap()
    }

    #[test]
    fn guaranteed_pods_get_every_limit() {
        let p = pod(
            json!([{"name": "a", "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}},
                   {"name": "b", "resources": {"limits": {"cpu": "50m", "memory": "16Mi"}}}]),
            json!([{"name": "i", "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}]),
        );
        assert_eq!(qos_class(&p), QosClass::Guaranteed);
        let limits = pod_cgroup_limits(&p, QosClass::Guaranteed);
        assert_eq!(
            limits,
            PodCgroupLimits {
                cpu_shares: 153,
                cpu_quota: Some(15_000),
                cpu_period: 100_000,
                memory_limit: Some(80 << 20),
            }
        );
        assert_eq!(limits.cpu_weight(), 6);
    }

    #[test]
    fn burstable_pods_are_limited_only_where_every_container_is() {
        let p = pod(
            json!([{"name": "a", "resources": {"requests": {"cpu": "250m"}, "limits": {"memory": "32Mi"}}},
                   {"name": "b", "resources": {"limits": {"memory": "32Mi"}}}]),
            json!([{"name": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": "250m"}, "limits": {"memory": "1Mi"}}}]),
        );
        let limits = pod_cgroup_limits(&p, QosClass::Burstable);
        assert_eq!(limits.cpu_shares, 512);
        assert_eq!(limits.cpu_quota, None);
        assert_eq!(limits.memory_limit, Some(65 << 20));
    }

    #[test]
    fn best_effort_pods_get_minimal_shares() {
        let p = pod(json!([{"name": "a"}]), json!([]));
        let limits = pod_cgroup_limits(&p, QosClass::BestEffort);
        assert_eq!(
            (limits.cpu_shares, limits.cpu_quota, limits.memory_limit),
            (2, None, None)
        );
        assert_eq!(limits.cpu_weight(), 1);
    }
}
