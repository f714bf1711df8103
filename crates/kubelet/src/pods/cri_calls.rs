//! Convenience calls over the CRI client: one pod's state, image pulls, stopping and removing.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use k8s_cri::v1 as cri;

use super::container_config::ImageUser;
use super::runtime_state::{
    ContainerRecord, PodRuntimeState, RunState, SandboxRecord, HASH_ANNOTATION,
    RESTART_COUNT_ANNOTATION, TERMINATION_MESSAGE_PATH_ANNOTATION,
};
use super::sandbox_config::{CONTAINER_NAME_LABEL, POD_UID_LABEL};
use crate::{CriClient, KubeletError};

fn uid_filter(uid: &str) -> HashMap<String, String> {
    HashMap::from([(POD_UID_LABEL.to_string(), uid.to_string())])
}

fn run_state(state: i32) -> RunState {
    match cri::ContainerState::try_from(state) {
        Ok(cri::ContainerState::ContainerCreated) => RunState::Created,
        Ok(cri::ContainerState::ContainerRunning) => RunState::Running,
        Ok(cri::ContainerState::ContainerExited) => RunState::Exited,
        _ => RunState::Unknown,
    }
}

/// Every sandbox and container the runtime holds for the pod with this uid.
pub async fn pod_runtime_state(
    cri: &CriClient,
    uid: &str,
) -> Result<PodRuntimeState, KubeletError> {
    let mut runtime = cri.runtime.clone();
    let sandboxes = runtime
        .list_pod_sandbox(cri::ListPodSandboxRequest {
            filter: Some(cri::PodSandboxFilter {
                label_selector: uid_filter(uid),
                ..Default::default()
            }),
        })
        .await?
        .into_inner()
        .items;
    let mut sandbox_records = Vec::new();
    for sandbox in sandboxes {
        let ready = sandbox.state == cri::PodSandboxState::SandboxReady as i32;
        let mut ips = Vec::new();
        if ready {
            if let Ok(status) = runtime
                .pod_sandbox_status(cri::PodSandboxStatusRequest {
                    pod_sandbox_id: sandbox.id.clone(),
                    verbose: false,
                })
                .await
            {
                if let Some(network) = status.into_inner().status.and_then(|s| s.network) {
                    ips.extend(Some(network.ip).filter(|ip| !ip.is_empty()));
                    ips.extend(network.additional_ips.into_iter().map(|ip| ip.ip));
                }
            }
        }
        sandbox_records.push(SandboxRecord {
            id: sandbox.id,
            attempt: sandbox.metadata.map(|m| m.attempt).unwrap_or(0),
            ready,
            created_at: sandbox.created_at,
            ips,
        });
    }
    let containers = runtime
        .list_containers(cri::ListContainersRequest {
            filter: Some(cri::ContainerFilter {
                label_selector: uid_filter(uid),
                ..Default::default()
            }),
        })
        .await?
        .into_inner()
        .containers;
    let mut records = Vec::new();
    for container in containers {
        let status = match runtime
            .container_status(cri::ContainerStatusRequest {
                container_id: container.id.clone(),
                verbose: false,
            })
            .await
        {
            Ok(response) => response.into_inner().status,
            Err(e) if e.code() == tonic::Code::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        let Some(status) = status else { continue };
        let message_path = status
            .annotations
            .get(TERMINATION_MESSAGE_PATH_ANNOTATION)
            .cloned();
        let termination_message_file = message_path.and_then(|path| {
            status
                .mounts
                .iter()
                .find(|m| m.container_path == path)
                .map(|m| PathBuf::from(&m.host_path))
        });
        records.push(ContainerRecord {
            id: status.id.clone(),
            sandbox_id: container.pod_sandbox_id.clone(),
            name: status
                .labels
                .get(CONTAINER_NAME_LABEL)
                .cloned()
                .or_else(|| status.metadata.as_ref().map(|m| m.name.clone()))
                .unwrap_or_default(),
            attempt: status.metadata.as_ref().map(|m| m.attempt).unwrap_or(0),
            restart_count: status
                .annotations
                .get(RESTART_COUNT_ANNOTATION)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            hash: status
                .annotations
                .get(HASH_ANNOTATION)
                .cloned()
                .unwrap_or_default(),
            state: run_state(status.state),
            exit_code: status.exit_code,
            created_at: status.created_at,
            started_at: status.started_at,
            finished_at: status.finished_at,
            reason: status.reason.clone(),
            message: status.message.clone(),
            image_ref: if status.image_ref.is_empty() {
                container.image_ref.clone()
            } else {
                status.image_ref.clone()
            },
            termination_message_file,
            log_path: status.log_path.clone(),
        });
    }
    Ok(PodRuntimeState::new(sandbox_records, records))
}

/// The pod uids of every sandbox the runtime holds, with the sandbox ids.
pub async fn sandboxes_by_pod_uid(
    cri: &CriClient,
) -> Result<HashMap<String, Vec<String>>, KubeletError> {
    let items = cri
        .runtime
        .clone()
        .list_pod_sandbox(cri::ListPodSandboxRequest { filter: None })
        .await?
        .into_inner()
        .items;
    let mut by_uid: HashMap<String, Vec<String>> = HashMap::new();
    for sandbox in items {
        if let Some(uid) = sandbox.labels.get(POD_UID_LABEL) {
            by_uid.entry(uid.clone()).or_default().push(sandbox.id);
        }
    }
    Ok(by_uid)
}

/// A local image: its reference and the user it runs as.
pub async fn image_status(
    cri: &CriClient,
    image: &str,
) -> Result<Option<(String, ImageUser)>, KubeletError> {
    let response = cri
        .images
        .clone()
        .image_status(cri::ImageStatusRequest {
            image: Some(cri::ImageSpec {
                image: image.to_string(),
                ..Default::default()
            }),
            verbose: false,
        })
        .await?
        .into_inner();
    Ok(response.image.map(|i| {
        let user = ImageUser {
            uid: i.uid.map(|u| u.value),
            username: i.username.clone(),
        };
        let reference = i.repo_digests.first().cloned().unwrap_or(i.id);
        (reference, user)
    }))
}

pub async fn pull_image(cri: &CriClient, image: &str) -> Result<(String, Duration), tonic::Status> {
    let started = Instant::now();
    let response = cri
        .images
        .clone()
        .pull_image(cri::PullImageRequest {
            image: Some(cri::ImageSpec {
                image: image.to_string(),
                user_specified_image: image.to_string(),
                ..Default::default()
            }),
            auth: None,
            sandbox_config: None,
        })
        .await?
        .into_inner();
    Ok((response.image_ref, started.elapsed()))
}

pub async fn stop_container(
    cri: &CriClient,
    id: &str,
    grace_seconds: i64,
) -> Result<(), KubeletError> {
    match cri
        .runtime
        .clone()
        .stop_container(cri::StopContainerRequest {
            container_id: id.to_string(),
            timeout: grace_seconds,
        })
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == tonic::Code::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub async fn remove_container(cri: &CriClient, id: &str) -> Result<(), KubeletError> {
    match cri
        .runtime
        .clone()
        .remove_container(cri::RemoveContainerRequest {
            container_id: id.to_string(),
        })
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == tonic::Code::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub async fn stop_sandbox(cri: &CriClient, id: &str) -> Result<(), KubeletError> {
    match cri
        .runtime
        .clone()
        .stop_pod_sandbox(cri::StopPodSandboxRequest {
            pod_sandbox_id: id.to_string(),
        })
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == tonic::Code::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub async fn remove_sandbox(cri: &CriClient, id: &str) -> Result<(), KubeletError> {
    match cri
        .runtime
        .clone()
        .remove_pod_sandbox(cri::RemovePodSandboxRequest {
            pod_sandbox_id: id.to_string(),
        })
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == tonic::Code::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}
