//! Which pod goes first (upstream's rankMemoryPressure / rankDiskPressure): pods using more than
//! they requested, then lower priority, then larger use beyond the request.

use std::cmp::Ordering;

use k8s_openapi::api::core::v1::Pod;

use crate::pods::qos::milli;
use crate::static_pods::manifest::{CONFIG_MIRROR, CONFIG_SOURCE};

/// Priority from which pods are critical (system-cluster-critical is 2000000000).
const CRITICAL_PRIORITY: i32 = 2_000_000_000;

#[derive(Debug, Clone)]
pub struct PodUsage {
    pub pod: Pod,
    pub memory_bytes: u64,
    pub disk_bytes: u64,
}

/// Static, mirror and system-critical pods are never evicted.
pub fn is_critical(pod: &Pod) -> bool {
    let annotations = pod.metadata.annotations.as_ref();
    let static_or_mirror = annotations.is_some_and(|a| {
        a.contains_key(CONFIG_MIRROR) || a.get(CONFIG_SOURCE).is_some_and(|s| s != "api")
    });
    let priority = pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0);
    static_or_mirror || priority >= CRITICAL_PRIORITY
}

/// Sum of the containers' requests of `resource`, in bytes.
pub fn requested_bytes(pod: &Pod, resource: &str) -> u64 {
    pod.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .filter_map(|c| c.resources.as_ref()?.requests.as_ref()?.get(resource))
        .filter_map(milli)
        .map(|m| u64::try_from(m / 1000).unwrap_or(0))
        .sum()
}

fn priority(pod: &Pod) -> i32 {
    pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
}

fn by_usage(a: &PodUsage, b: &PodUsage, usage: fn(&PodUsage) -> u64, resource: &str) -> Ordering {
    let (ra, rb) = (
        requested_bytes(&a.pod, resource),
        requested_bytes(&b.pod, resource),
    );
    let (ea, eb) = (usage(a) > ra, usage(b) > rb);
    eb.cmp(&ea)
        .then_with(|| priority(&a.pod).cmp(&priority(&b.pod)))
        .then_with(|| {
            let over_a = i128::from(usage(a)) - i128::from(ra);
            let over_b = i128::from(usage(b)) - i128::from(rb);
            over_b.cmp(&over_a)
        })
}

/// Orders pods for eviction under memory pressure, first to go first.
pub fn rank_for_memory(pods: &mut [PodUsage]) {
    pods.sort_by(|a, b| by_usage(a, b, |p| p.memory_bytes, "memory"));
}

/// Orders pods for eviction under disk pressure, first to go first.
pub fn rank_for_disk(pods: &mut [PodUsage]) {
    pods.sort_by(|a, b| by_usage(a, b, |p| p.disk_bytes, "ephemeral-storage"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec, ResourceRequirements};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn pod(name: &str, request: Option<&str>, priority: i32) -> Pod {
        let resources = request.map(|r| ResourceRequirements {
            requests: Some([("memory".to_string(), Quantity(r.into()))].into()),
            ..Default::default()
        });
        let mut p = Pod::default();
        p.metadata.name = Some(name.into());
        p.spec = Some(PodSpec {
            containers: vec![Container {
                name: "c".into(),
                resources,
                ..Default::default()
            }],
            priority: Some(priority),
            ..Default::default()
        });
        p
    }

    fn usage(pod: Pod, memory: u64) -> PodUsage {
        PodUsage {
            pod,
            memory_bytes: memory,
            disk_bytes: 0,
        }
    }

    #[test]
    fn over_request_then_priority_then_usage() {
        let mut pods = vec![
            usage(pod("guaranteed-under", Some("100Mi"), 0), 10 << 20),
            usage(pod("besteffort-small", None, 0), 1 << 20),
            usage(pod("besteffort-high-priority", None, 100), 50 << 20),
            usage(pod("besteffort-big", None, 0), 30 << 20),
        ];
        rank_for_memory(&mut pods);
        let order: Vec<_> = pods
            .iter()
            .map(|p| p.pod.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(
            order,
            [
                "besteffort-big",
                "besteffort-small",
                "besteffort-high-priority",
                "guaranteed-under"
            ]
        );
    }

    #[test]
    fn static_and_critical_pods_are_spared() {
        let mut mirror = pod("m", None, 0);
        mirror.metadata.annotations = Some([(CONFIG_MIRROR.to_string(), "h".to_string())].into());
        assert!(is_critical(&mirror));
        assert!(is_critical(&pod("c", None, CRITICAL_PRIORITY)));
        assert!(!is_critical(&pod("p", None, 0)));
        assert_eq!(requested_bytes(&pod("r", Some("1Ki"), 0), "memory"), 1024);
    }
}
