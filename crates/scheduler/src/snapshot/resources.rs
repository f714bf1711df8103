//! Resource amounts as the scheduler counts them, and a pod's effective requests
//! (upstream's `resourcehelper.PodRequests`: containers, init containers, sidecars, overhead).

use std::collections::BTreeMap;

use api::quantity::Quantity;
use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as WireQuantity;

/// CPU (millicores) the scoring plugins assume for a container without a CPU request.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory (bytes) the scoring plugins assume for a container without a memory request.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Amounts of every resource the scheduler tracks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    pub pods: i64,
    /// Extended and hugepages resources, by name.
    pub scalar: BTreeMap<String, i64>,
}

impl Resources {
    /// Sums a resource list (`requests`, `allocatable`, `overhead`).
    pub fn from_list(list: Option<&BTreeMap<String, WireQuantity>>) -> Resources {
        let mut out = Resources::default();
        out.add_list(list);
        out
    }

    pub fn add_list(&mut self, list: Option<&BTreeMap<String, WireQuantity>>) {
        for (name, quantity) in list.into_iter().flatten() {
            let milli = quantity_milli(quantity);
            match name.as_str() {
                "cpu" => self.milli_cpu += milli,
                "memory" => self.memory += whole(milli),
                "ephemeral-storage" => self.ephemeral_storage += whole(milli),
                "pods" => self.pods += whole(milli),
                other if is_scalar_resource(other) => {
                    *self.scalar.entry(other.to_string()).or_default() += whole(milli)
                }
                _ => {}
            }
        }
    }

    pub fn add(&mut self, other: &Resources) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
        self.ephemeral_storage += other.ephemeral_storage;
        self.pods += other.pods;
        for (name, value) in &other.scalar {
            *self.scalar.entry(name.clone()).or_default() += value;
        }
    }

    pub fn subtract(&mut self, other: &Resources) {
        self.milli_cpu -= other.milli_cpu;
        self.memory -= other.memory;
        self.ephemeral_storage -= other.ephemeral_storage;
        self.pods -= other.pods;
        for (name, value) in &other.scalar {
            *self.scalar.entry(name.clone()).or_default() -= value;
        }
    }

    /// Raises each amount to at least `other`'s.
    pub fn set_max(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        for (name, value) in &other.scalar {
            let entry = self.scalar.entry(name.clone()).or_default();
            *entry = (*entry).max(*value);
        }
    }

    pub fn scalar(&self, name: &str) -> i64 {
        self.scalar.get(name).copied().unwrap_or(0)
    }
}

/// Extended resources (`example.com/gpu`), hugepages and attachable volumes count as scalars.
pub fn is_scalar_resource(name: &str) -> bool {
    name.starts_with("hugepages-")
        || name.starts_with("attachable-volumes-")
        || (name.contains('/')
            && !name.starts_with("kubernetes.io/")
            && !name.contains("requests."))
}

fn quantity_milli(quantity: &WireQuantity) -> i64 {
    Quantity::parse(&quantity.0)
        .map(|q| {
            q.milli_value()
                .clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
        })
        .unwrap_or(0)
}

/// Milli-units to whole units, rounding up as upstream's `Value()`.
fn whole(milli: i64) -> i64 {
    if milli >= 0 {
        milli / 1000 + i64::from(milli % 1000 != 0)
    } else {
        milli / 1000
    }
}

/// A pod's requests: what NodeResourcesFit filters on and nodes account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodRequests {
    pub requests: Resources,
    /// CPU and memory with upstream's defaults for containers that request none (scoring).
    pub non_zero_milli_cpu: i64,
    pub non_zero_memory: i64,
}

fn container_requests(container: &Container) -> Resources {
    Resources::from_list(
        container
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref()),
    )
}

fn container_requests_non_zero(container: &Container) -> Resources {
    let list = container
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref());
    let mut out = Resources::from_list(list);
    if !list.is_some_and(|l| l.contains_key("cpu")) {
        out.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
    }
    if !list.is_some_and(|l| l.contains_key("memory")) {
        out.memory = DEFAULT_MEMORY_REQUEST;
    }
    out
}

fn is_sidecar(container: &Container) -> bool {
    container.restart_policy.as_deref() == Some("Always")
}

/// Upstream's aggregation: regular containers add up; each init container needs its own
/// requests plus every sidecar started before it; sidecars also run beside the regular
/// containers; the pod needs the larger of the two phases, plus the overhead.
fn aggregate(spec: &PodSpec, per_container: fn(&Container) -> Resources) -> Resources {
    let mut total = Resources::default();
    for container in &spec.containers {
        total.add(&per_container(container));
    }
    let mut sidecars = Resources::default();
    let mut init_peak = Resources::default();
    for container in spec.init_containers.iter().flatten() {
        let own = per_container(container);
        let phase = if is_sidecar(container) {
            total.add(&own);
            sidecars.add(&own);
            sidecars.clone()
        } else {
            let mut phase = own;
            phase.add(&sidecars);
            phase
        };
        init_peak.set_max(&phase);
    }
    total.set_max(&init_peak);
    if let Some(level) = spec.resources.as_ref().and_then(|r| r.requests.as_ref()) {
        let pod_level = Resources::from_list(Some(level));
        if level.contains_key("cpu") {
            total.milli_cpu = pod_level.milli_cpu;
        }
        if level.contains_key("memory") {
            total.memory = pod_level.memory;
        }
    }
    total.add_list(spec.overhead.as_ref());
    total
}

impl PodRequests {
    pub fn of(spec: &PodSpec) -> PodRequests {
        let requests = aggregate(spec, container_requests);
        let non_zero = aggregate(spec, container_requests_non_zero);
        PodRequests {
            requests,
            non_zero_milli_cpu: non_zero.milli_cpu,
            non_zero_memory: non_zero.memory,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ResourceRequirements;

    fn container(cpu: &str, memory: &str) -> Container {
        let mut requests = BTreeMap::new();
        if !cpu.is_empty() {
            requests.insert("cpu".to_string(), WireQuantity(cpu.to_string()));
        }
        if !memory.is_empty() {
            requests.insert("memory".to_string(), WireQuantity(memory.to_string()));
        }
        Container {
            name: "c".into(),
            resources: Some(ResourceRequirements {
                requests: Some(requests),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn containers_add_up_and_init_containers_take_the_max() {
        let spec = PodSpec {
            containers: vec![container("100m", "1Gi"), container("200m", "")],
            init_containers: Some(vec![container("500m", "10Mi")]),
            ..Default::default()
        };
        let r = PodRequests::of(&spec);
        assert_eq!(r.requests.milli_cpu, 500);
        assert_eq!(r.requests.memory, 1 << 30);
        assert_eq!(r.non_zero_milli_cpu, 500);
        assert_eq!(r.non_zero_memory, (1 << 30) + DEFAULT_MEMORY_REQUEST);
    }

    #[test]
    fn sidecars_run_beside_containers_and_later_init_containers() {
        let mut sidecar = container("300m", "");
        sidecar.restart_policy = Some("Always".into());
        let spec = PodSpec {
            containers: vec![container("100m", "")],
            init_containers: Some(vec![sidecar, container("350m", "")]),
            overhead: Some([("cpu".to_string(), WireQuantity("10m".into()))].into()),
            ..Default::default()
        };
        // Regular phase: 100 + 300 = 400; init phase: 350 + 300 = 650; plus overhead 10.
        assert_eq!(PodRequests::of(&spec).requests.milli_cpu, 660);
    }

    #[test]
    fn empty_pod_gets_non_zero_defaults_for_scoring_only() {
        let spec = PodSpec {
            containers: vec![Container::default()],
            ..Default::default()
        };
        let r = PodRequests::of(&spec);
        assert_eq!(r.requests, Resources::default());
        assert_eq!(r.non_zero_milli_cpu, DEFAULT_MILLI_CPU_REQUEST);
        assert_eq!(r.non_zero_memory, DEFAULT_MEMORY_REQUEST);
    }

    #[test]
    fn scalar_resources_are_recognised() {
        assert!(is_scalar_resource("example.com/gpu"));
        assert!(is_scalar_resource("hugepages-2Mi"));
        assert!(!is_scalar_resource("cpu"));
    }
}
