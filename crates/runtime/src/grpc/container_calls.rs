//! RuntimeService calls about containers.

use std::time::Duration;

use k8s_cri::v1 as cri;

use crate::{Runtime, RuntimeError};

pub async fn create_container(
    runtime: &Runtime,
    request: cri::CreateContainerRequest,
) -> Result<cri::CreateContainerResponse, RuntimeError> {
    let config = request
        .config
        .ok_or_else(|| RuntimeError::InvalidArgument("CreateContainer needs a config".into()))?;
    let sandbox = runtime.sandboxes.get(&request.pod_sandbox_id).await?;
    let image_name = config
        .image
        .as_ref()
        .map(|i| i.image.clone())
        .unwrap_or_default();
    if image_name.is_empty() {
        return Err(RuntimeError::InvalidArgument(
            "CreateContainer needs an image".into(),
        ));
    }
    let image = runtime.images.resolve(&image_name).await?;
    let container_id = runtime.containers.create(config, &sandbox, &image).await?;
    Ok(cri::CreateContainerResponse { container_id })
}

pub async fn start_container(
    runtime: &Runtime,
    request: cri::StartContainerRequest,
) -> Result<cri::StartContainerResponse, RuntimeError> {
    runtime.containers.start(&request.container_id).await?;
    Ok(cri::StartContainerResponse {})
}

pub async fn stop_container(
    runtime: &Runtime,
    request: cri::StopContainerRequest,
) -> Result<cri::StopContainerResponse, RuntimeError> {
    let timeout = Duration::from_secs(u64::try_from(request.timeout).unwrap_or(0));
    runtime
        .containers
        .stop(&request.container_id, timeout)
        .await?;
    Ok(cri::StopContainerResponse {})
}

pub async fn remove_container(
    runtime: &Runtime,
    request: cri::RemoveContainerRequest,
) -> Result<cri::RemoveContainerResponse, RuntimeError> {
    runtime.containers.remove(&request.container_id).await?;
    Ok(cri::RemoveContainerResponse {})
}

pub async fn list_containers(
    runtime: &Runtime,
    request: cri::ListContainersRequest,
) -> Result<cri::ListContainersResponse, RuntimeError> {
    let containers = runtime.containers.list(request.filter.as_ref()).await;
    Ok(cri::ListContainersResponse { containers })
}

pub async fn container_status(
    runtime: &Runtime,
    request: cri::ContainerStatusRequest,
) -> Result<cri::ContainerStatusResponse, RuntimeError> {
    let status = runtime.containers.status(&request.container_id).await?;
    Ok(cri::ContainerStatusResponse {
        status: Some(status),
        info: Default::default(),
    })
}

pub async fn update_container_resources(
    runtime: &Runtime,
    request: cri::UpdateContainerResourcesRequest,
) -> Result<cri::UpdateContainerResourcesResponse, RuntimeError> {
    if let Some(linux) = &request.linux {
        runtime
            .containers
            .update_resources(&request.container_id, linux)
            .await?;
    }
    Ok(cri::UpdateContainerResourcesResponse {})
}

pub async fn reopen_container_log(
    runtime: &Runtime,
    request: cri::ReopenContainerLogRequest,
) -> Result<cri::ReopenContainerLogResponse, RuntimeError> {
    runtime.containers.reopen_log(&request.container_id).await?;
    Ok(cri::ReopenContainerLogResponse {})
}

pub async fn exec_sync(
    runtime: &Runtime,
    request: cri::ExecSyncRequest,
) -> Result<cri::ExecSyncResponse, RuntimeError> {
    let timeout = Duration::from_secs(u64::try_from(request.timeout).unwrap_or(0));
    runtime
        .containers
        .exec_sync(&request.container_id, request.cmd, timeout)
        .await
}

pub async fn container_stats(
    runtime: &Runtime,
    request: cri::ContainerStatsRequest,
) -> Result<cri::ContainerStatsResponse, RuntimeError> {
    let stats = runtime.containers.stats(&request.container_id).await?;
    Ok(cri::ContainerStatsResponse { stats: Some(stats) })
}

pub async fn list_container_stats(
    runtime: &Runtime,
    request: cri::ListContainerStatsRequest,
) -> Result<cri::ListContainerStatsResponse, RuntimeError> {
    let stats = runtime.containers.list_stats(request.filter.as_ref()).await;
    Ok(cri::ListContainerStatsResponse { stats })
}

pub async fn checkpoint_container(
    _runtime: &Runtime,
    _request: cri::CheckpointContainerRequest,
) -> Result<cri::CheckpointContainerResponse, RuntimeError> {
    Err(RuntimeError::Failed(
        "checkpointing containers is not supported".into(),
    ))
}
