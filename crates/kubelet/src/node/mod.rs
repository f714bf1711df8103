//! The Node object: registration, status heartbeats, the Lease, and the pod CIDR hand-off.

pub mod conditions;
mod lease;
pub mod machine;
mod node_images;
pub mod node_object;
mod pod_cidr;
mod registration;
mod status_loop;

pub use lease::run_lease;
pub use node_object::{RuntimeVersion, KUBELET_VERSION};
pub use pod_cidr::run_pod_cidr_watch;
pub use registration::register_node;
pub use status_loop::run_node_status;

use k8s_cri::v1 as cri;

use crate::{CriClient, KubeletError};

/// CRI Version, as the node reports it and as container IDs are prefixed.
pub async fn runtime_version(cri: &CriClient) -> Result<RuntimeVersion, KubeletError> {
    let version = cri
        .runtime
        .clone()
        .version(cri::VersionRequest {
            version: "v1".into(),
        })
        .await?
        .into_inner();
    Ok(RuntimeVersion {
        name: version.runtime_name,
        version: version.runtime_version,
    })
}
