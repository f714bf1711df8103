//! Finding a pod's sandbox and containers in the runtime by their Kubernetes labels.

use std::collections::HashMap;

use k8s_cri::v1::{
    Container, ContainerFilter, ContainerState, ContainerStatusRequest, ListContainersRequest,
    ListPodSandboxRequest, PodSandbox, PodSandboxFilter, PodSandboxState,
};

use super::log_stream::ContainerLiveness;
use crate::{CriClient, KubeletError};

pub const POD_NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
pub const POD_NAME_LABEL: &str = "io.kubernetes.pod.name";
pub const CONTAINER_NAME_LABEL: &str = "io.kubernetes.container.name";

fn pod_labels(namespace: &str, pod: &str) -> HashMap<String, String> {
    HashMap::from([
        (POD_NAMESPACE_LABEL.to_string(), namespace.to_string()),
        (POD_NAME_LABEL.to_string(), pod.to_string()),
    ])
}

/// The pod's sandbox: a ready one if any, else the newest.
pub async fn find_pod_sandbox(
    cri: &CriClient,
    namespace: &str,
    pod: &str,
) -> Result<Option<PodSandbox>, KubeletError> {
    let filter = PodSandboxFilter {
        label_selector: pod_labels(namespace, pod),
        ..PodSandboxFilter::default()
    };
    let mut sandboxes = cri
        .runtime
        .clone()
        .list_pod_sandbox(ListPodSandboxRequest {
            filter: Some(filter),
        })
        .await?
        .into_inner()
        .items;
    let ready = PodSandboxState::SandboxReady as i32;
    sandboxes.sort_by_key(|s| (s.state == ready, s.created_at));
    Ok(sandboxes.pop())
}

/// The named container of the pod: a running one if any, else the newest attempt.
pub async fn find_container(
    cri: &CriClient,
    namespace: &str,
    pod: &str,
    container: &str,
) -> Result<Option<Container>, KubeletError> {
    let mut labels = pod_labels(namespace, pod);
    labels.insert(CONTAINER_NAME_LABEL.to_string(), container.to_string());
    let filter = ContainerFilter {
        label_selector: labels,
        ..ContainerFilter::default()
    };
    let mut containers = cri
        .runtime
        .clone()
        .list_containers(ListContainersRequest {
            filter: Some(filter),
        })
        .await?
        .into_inner()
        .containers;
    let running = ContainerState::ContainerRunning as i32;
    containers.sort_by_key(|c| (c.state == running, c.created_at));
    Ok(containers.pop())
}

/// Asks the runtime whether one container still runs.
pub struct CriLiveness {
    pub cri: CriClient,
    pub container_id: Option<String>,
}

#[async_trait::async_trait]
impl ContainerLiveness for CriLiveness {
    async fn is_running(&self) -> bool {
        let Some(id) = &self.container_id else {
            return false;
        };
        let status = self
            .cri
            .runtime
            .clone()
            .container_status(ContainerStatusRequest {
                container_id: id.clone(),
                verbose: false,
            })
            .await;
        match status {
            Ok(response) => response
                .into_inner()
                .status
                .is_some_and(|s| s.state == ContainerState::ContainerRunning as i32),
            Err(_) => false,
        }
    }
}
