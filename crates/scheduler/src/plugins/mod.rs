//! The in-tree plugins, one file each, and the default profile with upstream's weights.

pub mod balanced_allocation;
pub mod default_binder;
pub mod default_preemption;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources_fit;
pub mod node_unschedulable;
mod normalize;
pub mod pod_topology_spread;
pub mod queue_sort;
pub mod scheduling_gates;
pub mod taint_toleration;
#[cfg(test)]
pub(crate) mod testing;

use std::sync::Arc;

use crate::framework::{BindPlugin, Framework};

/// Upstream's default plugin set and score weights; `binder` performs the binding.
pub fn default_framework(binder: Option<Arc<dyn BindPlugin>>) -> Framework {
    let fit = Arc::new(node_resources_fit::NodeResourcesFit);
    let taints = Arc::new(taint_toleration::TaintToleration);
    let node_affinity = Arc::new(node_affinity::NodeAffinity);
    let ports = Arc::new(node_ports::NodePorts);
    let spread = Arc::new(pod_topology_spread::PodTopologySpread);
    let inter_pod = Arc::new(inter_pod_affinity::InterPodAffinity);
    let images = Arc::new(image_locality::ImageLocality);
    Framework {
        pre_enqueue: vec![Arc::new(scheduling_gates::SchedulingGates)],
        queue_sort: Some(Arc::new(queue_sort::PrioritySort)),
        pre_filter: vec![
            node_affinity.clone(),
            ports.clone(),
            spread.clone(),
            inter_pod.clone(),
        ],
        filter: vec![
            Arc::new(node_unschedulable::NodeUnschedulable),
            Arc::new(node_name::NodeName),
            taints.clone(),
            node_affinity.clone(),
            ports,
            fit.clone(),
            spread.clone(),
            inter_pod.clone(),
        ],
        post_filter: vec![Arc::new(default_preemption::DefaultPreemption)],
        pre_score: vec![
            taints.clone(),
            node_affinity.clone(),
            spread.clone(),
            inter_pod.clone(),
            images.clone(),
        ],
        score: vec![
            (taints, 3),
            (node_affinity, 2),
            (fit, 1),
            (spread, 2),
            (inter_pod, 2),
            (Arc::new(balanced_allocation::BalancedAllocation), 1),
            (images, 1),
        ],
        reserve: Vec::new(),
        permit: Vec::new(),
        pre_bind: Vec::new(),
        bind: binder.into_iter().collect(),
    }
}
