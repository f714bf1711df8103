//! Pod QoS class, the pod's cgroup parent, and container resource limits for CRI (pure).

use std::collections::BTreeMap;

use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QosClass {
    Guaranteed,
    Burstable,
    BestEffort,
}

impl QosClass {
    pub fn as_str(self) -> &'static str {
        match self {
            QosClass::Guaranteed => "Guaranteed",
            QosClass::Burstable => "Burstable",
            QosClass::BestEffort => "BestEffort",
        }
    }
}

/// A quantity in thousandths (milli-cpu; milli-bytes for memory).
pub fn milli(quantity: &Quantity) -> Option<i128> {
    api::quantity::Quantity::parse(&quantity.0)
        .ok()
        .map(|q| q.milli_value())
}

fn all_containers(pod: &Pod) -> impl Iterator<Item = &Container> {
    let spec = pod.spec.as_ref();
    spec.into_iter().flat_map(|s| {
        s.init_containers
            .iter()
            .flatten()
            .chain(s.containers.iter())
    })
}

/// Upstream's GetPodQOS over requests and limits of cpu and memory.
pub fn qos_class(pod: &Pod) -> QosClass {
    let mut any_set = false;
    let mut guaranteed = true;
    for container in all_containers(pod) {
        let resources = container.resources.clone().unwrap_or_default();
        let limits = resources.limits.unwrap_or_default();
        let requests: BTreeMap<String, Quantity> = resources.requests.unwrap_or_default();
        for name in ["cpu", "memory"] {
            let limit = limits.get(name).and_then(milli).filter(|v| *v != 0);
            let request = requests.get(name).and_then(milli).filter(|v| *v != 0);
            if limit.is_some() || request.is_some() {
                any_set = true;
            }
            match (request, limit) {
                (_, None) => guaranteed = false,
                (Some(r), Some(l)) if r != l => guaranteed = false,
                _ => {}
            }
        }
    }
    if !any_set {
        QosClass::BestEffort
    } else if guaranteed {
        QosClass::Guaranteed
    } else {
        QosClass::Burstable
    }
}

/// The cgroupfs parent of the pod: `/<root>/pod<uid>` for Guaranteed, `/<root>/<qos>/pod<uid>` else.
pub fn cgroup_parent(cgroup_root: &str, qos: QosClass, uid: &str) -> String {
    let root = format!("/{}", cgroup_root.trim_matches('/'));
    match qos {
        QosClass::Guaranteed => format!("{root}/pod{uid}"),
        QosClass::Burstable => format!("{root}/burstable/pod{uid}"),
        QosClass::BestEffort => format!("{root}/besteffort/pod{uid}"),
    }
}

const MIN_SHARES: i64 = 2;
const MAX_SHARES: i64 = 262_144;
const QUOTA_PERIOD: i64 = 100_000;
const MIN_QUOTA: i64 = 1_000;

/// CPU shares, CFS quota/period, memory limit and OOM score adjustment of one container.
pub fn container_resources(
    container: &Container,
    qos: QosClass,
    memory_capacity: i64,
) -> cri::LinuxContainerResources {
    let resources = container.resources.clone().unwrap_or_default();
    let limits = resources.limits.unwrap_or_default();
    let mut requests = resources.requests.unwrap_or_default();
    // A limit without a request makes the request equal to the limit (API defaulting).
    for (name, limit) in &limits {
        requests
            .entry(name.clone())
            .or_insert_with(|| limit.clone());
    }
    let cpu_request = requests.get("cpu").and_then(milli).unwrap_or(0) as i64;
    let cpu_limit = limits.get("cpu").and_then(milli).map(|m| m as i64);
    let memory_limit = limits
        .get("memory")
        .and_then(milli)
        .map(|m| (m / 1000) as i64);
    let memory_request = requests
        .get("memory")
        .and_then(milli)
        .map(|m| (m / 1000) as i64)
        .unwrap_or(0);
    let cpu_shares = (cpu_request * 1024 / 1000).clamp(MIN_SHARES, MAX_SHARES);
    let (cpu_quota, cpu_period) = match cpu_limit {
        Some(limit) if limit > 0 => ((limit * QUOTA_PERIOD / 1000).max(MIN_QUOTA), QUOTA_PERIOD),
        _ => (0, 0),
    };
    cri::LinuxContainerResources {
        cpu_period,
        cpu_quota,
        cpu_shares,
        memory_limit_in_bytes: memory_limit.unwrap_or(0),
        oom_score_adj: oom_score_adj(qos, memory_request, memory_capacity),
        ..cri::LinuxContainerResources::default()
    }
}

/// Upstream's policy, except Guaranteed gets 0: a negative adjustment needs CAP_SYS_RESOURCE.
pub fn oom_score_adj(qos: QosClass, memory_request: i64, memory_capacity: i64) -> i64 {
    match qos {
        QosClass::Guaranteed => 0,
        QosClass::BestEffort => 1000,
        QosClass::Burstable => {
            if memory_capacity <= 0 {
                return 999;
            }
            let adj = 1000 - (1000 * memory_request) / memory_capacity;
            adj.clamp(2, 999)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(resources: serde_json::Value) -> Pod {
        serde_json::from_value(
            json!({"spec": {"containers": [{"name": "c", "resources": resources}]}}),
        )
        .unwrap()
    }

    #[test]
    fn classifies_pods() {
        assert_eq!(qos_class(&pod(json!({}))), QosClass::BestEffort);
        assert_eq!(
            qos_class(&pod(json!({"limits": {"cpu": "1", "memory": "1Gi"}}))),
            QosClass::Guaranteed
        );
        assert_eq!(
            qos_class(&pod(json!({"requests": {"cpu": "100m"}}))),
            QosClass::Burstable
        );
        assert_eq!(
            qos_class(&pod(
                json!({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}})
            )),
            QosClass::Burstable
        );
    }

    #[test]
    fn cgroup_parents_follow_cgroupfs_naming() {
        assert_eq!(
            cgroup_parent("kubepods", QosClass::Guaranteed, "u1"),
            "/kubepods/podu1"
        );
        assert_eq!(
            cgroup_parent("kubepods", QosClass::Burstable, "u1"),
            "/kubepods/burstable/podu1"
        );
        assert_eq!(
            cgroup_parent("/kubepods/", QosClass::BestEffort, "u1"),
            "/kubepods/besteffort/podu1"
        );
    }

    #[test]
    fn resources_from_requests_and_limits() {
        let container: Container = serde_json::from_value(json!({"name": "c", "resources": {
            "requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}}}))
        .unwrap();
        let r = container_resources(&container, QosClass::Burstable, 1 << 30);
        assert_eq!(r.cpu_shares, 256);
        assert_eq!((r.cpu_quota, r.cpu_period), (50_000, 100_000));
        assert_eq!(r.memory_limit_in_bytes, 128 << 20);
        assert_eq!(r.oom_score_adj, 938);
        let empty: Container = serde_json::from_value(json!({"name": "c"})).unwrap();
        let r = container_resources(&empty, QosClass::BestEffort, 1 << 30);
        assert_eq!((r.cpu_shares, r.cpu_quota, r.oom_score_adj), (2, 0, 1000));
    }
}
