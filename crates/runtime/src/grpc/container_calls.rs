//! RuntimeService calls about containers.

use k8s_cri::v1 as cri;

use crate::{Runtime, RuntimeError};

pub async fn create_container(
    _runtime: &Runtime,
    _request: cri::CreateContainerRequest,
) -> Result<cri::CreateContainerResponse, RuntimeError> {
    Err(RuntimeError::Failed("create_container is not implemented yet".into()))
}

pub async fn start_container(
    _runtime: &Runtime,
    _request: cri::StartContainerRequest,
) -> Result<cri::StartContainerResponse, RuntimeError> {
    Err(RuntimeError::Failed("start_container is not implemented yet".into()))
}

pub async fn stop_container(
    _runtime: &Runtime,
    _request: cri::StopContainerRequest,
) -> Result<cri::StopContainerResponse, RuntimeError> {
    Err(RuntimeError::Failed("stop_container is not implemented yet".into()))
}

pub async fn remove_container(
    _runtime: &Runtime,
    _request: cri::RemoveContainerRequest,
) -> Result<cri::RemoveContainerResponse, RuntimeError> {
    Err(RuntimeError::Failed("remove_container is not implemented yet".into()))
}

pub async fn list_containers(
    _runtime: &Runtime,
    _request: cri::ListContainersRequest,
) -> Result<cri::ListContainersResponse, RuntimeError> {
    Err(RuntimeError::Failed("list_containers is not implemented yet".into()))
}

pub async fn container_status(
    _runtime: &Runtime,
    _request: cri::ContainerStatusRequest,
) -> Result<cri::ContainerStatusResponse, RuntimeError> {
    Err(RuntimeError::Failed("container_status is not implemented yet".into()))
}

pub async fn update_container_resources(
    _runtime: &Runtime,
    _request: cri::UpdateContainerResourcesRequest,
) -> Result<cri::UpdateContainerResourcesResponse, RuntimeError> {
    Err(RuntimeError::Failed("update_container_resources is not implemented yet".into()))
}

pub async fn reopen_container_log(
    _runtime: &Runtime,
    _request: cri::ReopenContainerLogRequest,
) -> Result<cri::ReopenContainerLogResponse, RuntimeError> {
    Err(RuntimeError::Failed("reopen_container_log is not implemented yet".into()))
}

pub async fn exec_sync(
    _runtime: &Runtime,
    _request: cri::ExecSyncRequest,
) -> Result<cri::ExecSyncResponse, RuntimeError> {
    Err(RuntimeError::Failed("exec_sync is not implemented yet".into()))
}

pub async fn container_stats(
    _runtime: &Runtime,
    _request: cri::ContainerStatsRequest,
) -> Result<cri::ContainerStatsResponse, RuntimeError> {
    Err(RuntimeError::Failed("container_stats is not implemented yet".into()))
}

pub async fn list_container_stats(
    _runtime: &Runtime,
    _request: cri::ListContainerStatsRequest,
) -> Result<cri::ListContainerStatsResponse, RuntimeError> {
    Err(RuntimeError::Failed("list_container_stats is not implemented yet".into()))
}

pub async fn checkpoint_container(
    _runtime: &Runtime,
    _request: cri::CheckpointContainerRequest,
) -> Result<cri::CheckpointContainerResponse, RuntimeError> {
    Err(RuntimeError::Failed("checkpoint_container is not implemented yet".into()))
}
