//! Running the pods bound to this node through CRI.

pub mod actions;
mod active_deadline;
pub mod backoff;
pub mod container_config;
mod container_hash;
mod container_start;
pub mod context;
pub mod cri_calls;
pub mod events;
pub mod hosts_file;
pub mod image_pull;
mod manager;
mod pod_cgroup;
pub mod pod_cgroup_limits;
mod pod_cgroup_setup;
mod probe_tracker;
pub mod qos;
mod relist;
pub mod runtime_state;
pub mod sandbox_config;
pub mod start_gate;
pub mod status;
mod termination;
mod termination_message;
pub mod worker;

pub use manager::{run_pods, run_pods_with_static};
