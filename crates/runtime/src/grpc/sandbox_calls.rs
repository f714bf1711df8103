//! RuntimeService calls about sandboxes and the runtime itself.

use k8s_cri::v1 as cri;

use crate::{Runtime, RuntimeError};

pub async fn version(
    _runtime: &Runtime,
    _request: cri::VersionRequest,
) -> Result<cri::VersionResponse, RuntimeError> {
    Err(RuntimeError::Failed("version is not implemented yet".into()))
}

pub async fn run_pod_sandbox(
    _runtime: &Runtime,
    _request: cri::RunPodSandboxRequest,
) -> Result<cri::RunPodSandboxResponse, RuntimeError> {
    Err(RuntimeError::Failed("run_pod_sandbox is not implemented yet".into()))
}

pub async fn stop_pod_sandbox(
    _runtime: &Runtime,
    _request: cri::StopPodSandboxRequest,
) -> Result<cri::StopPodSandboxResponse, RuntimeError> {
    Err(RuntimeError::Failed("stop_pod_sandbox is not implemented yet".into()))
}

pub async fn remove_pod_sandbox(
    _runtime: &Runtime,
    _request: cri::RemovePodSandboxRequest,
) -> Result<cri::RemovePodSandboxResponse, RuntimeError> {
    Err(RuntimeError::Failed("remove_pod_sandbox is not implemented yet".into()))
}

pub async fn pod_sandbox_status(
    _runtime: &Runtime,
    _request: cri::PodSandboxStatusRequest,
) -> Result<cri::PodSandboxStatusResponse, RuntimeError> {
    Err(RuntimeError::Failed("pod_sandbox_status is not implemented yet".into()))
}

pub async fn list_pod_sandbox(
    _runtime: &Runtime,
    _request: cri::ListPodSandboxRequest,
) -> Result<cri::ListPodSandboxResponse, RuntimeError> {
    Err(RuntimeError::Failed("list_pod_sandbox is not implemented yet".into()))
}

pub async fn pod_sandbox_stats(
    _runtime: &Runtime,
    _request: cri::PodSandboxStatsRequest,
) -> Result<cri::PodSandboxStatsResponse, RuntimeError> {
    Err(RuntimeError::Failed("pod_sandbox_stats is not implemented yet".into()))
}

pub async fn list_pod_sandbox_stats(
    _runtime: &Runtime,
    _request: cri::ListPodSandboxStatsRequest,
) -> Result<cri::ListPodSandboxStatsResponse, RuntimeError> {
    Err(RuntimeError::Failed("list_pod_sandbox_stats is not implemented yet".into()))
}

pub async fn update_runtime_config(
    _runtime: &Runtime,
    _request: cri::UpdateRuntimeConfigRequest,
) -> Result<cri::UpdateRuntimeConfigResponse, RuntimeError> {
    Err(RuntimeError::Failed("update_runtime_config is not implemented yet".into()))
}

pub async fn status(
    _runtime: &Runtime,
    _request: cri::StatusRequest,
) -> Result<cri::StatusResponse, RuntimeError> {
    Err(RuntimeError::Failed("status is not implemented yet".into()))
}

pub async fn runtime_config(
    _runtime: &Runtime,
    _request: cri::RuntimeConfigRequest,
) -> Result<cri::RuntimeConfigResponse, RuntimeError> {
    Err(RuntimeError::Failed("runtime_config is not implemented yet".into()))
}

pub async fn list_metric_descriptors(
    _runtime: &Runtime,
    _request: cri::ListMetricDescriptorsRequest,
) -> Result<cri::ListMetricDescriptorsResponse, RuntimeError> {
    Err(RuntimeError::Failed("list_metric_descriptors is not implemented yet".into()))
}

pub async fn list_pod_sandbox_metrics(
    _runtime: &Runtime,
    _request: cri::ListPodSandboxMetricsRequest,
) -> Result<cri::ListPodSandboxMetricsResponse, RuntimeError> {
    Err(RuntimeError::Failed("list_pod_sandbox_metrics is not implemented yet".into()))
}
