//! RuntimeService calls about sandboxes and the runtime itself.

use std::time::Duration;

use k8s_cri::v1 as cri;

use crate::sandboxes::SandboxFilter;
use crate::{Runtime, RuntimeError};

const RUNTIME_NAME: &str = "r8s";
const CRI_API_VERSION: &str = "v1";
/// The version of the kubelet-runtime API the Version call reports.
const KUBELET_API_VERSION: &str = "0.1.0";

pub async fn version(
    _runtime: &Runtime,
    _request: cri::VersionRequest,
) -> Result<cri::VersionResponse, RuntimeError> {
    Ok(cri::VersionResponse {
        version: KUBELET_API_VERSION.into(),
        runtime_name: RUNTIME_NAME.into(),
        runtime_version: env!("CARGO_PKG_VERSION").into(),
        runtime_api_version: CRI_API_VERSION.into(),
    })
}

pub async fn run_pod_sandbox(
    runtime: &Runtime,
    request: cri::RunPodSandboxRequest,
) -> Result<cri::RunPodSandboxResponse, RuntimeError> {
    let config = request
        .config
        .ok_or_else(|| RuntimeError::InvalidArgument("sandbox config is required".into()))?;
    let pod_sandbox_id = runtime
        .sandboxes
        .run(config, request.runtime_handler)
        .await?;
    Ok(cri::RunPodSandboxResponse { pod_sandbox_id })
}

pub async fn stop_pod_sandbox(
    runtime: &Runtime,
    request: cri::StopPodSandboxRequest,
) -> Result<cri::StopPodSandboxResponse, RuntimeError> {
    let sandbox = runtime.sandboxes.get(&request.pod_sandbox_id).await?;
    runtime
        .containers
        .stop_in_sandbox(&sandbox.id, Duration::ZERO)
        .await?;
    runtime.sandboxes.stop(&sandbox.id).await?;
    Ok(cri::StopPodSandboxResponse {})
}

pub async fn remove_pod_sandbox(
    runtime: &Runtime,
    request: cri::RemovePodSandboxRequest,
) -> Result<cri::RemovePodSandboxResponse, RuntimeError> {
    let sandbox = match runtime.sandboxes.get(&request.pod_sandbox_id).await {
        Ok(sandbox) => sandbox,
        Err(RuntimeError::NotFound(_)) => return Ok(cri::RemovePodSandboxResponse {}),
        Err(error) => return Err(error),
    };
    runtime.containers.remove_in_sandbox(&sandbox.id).await?;
    runtime.sandboxes.remove(&sandbox.id).await?;
    Ok(cri::RemovePodSandboxResponse {})
}

pub async fn pod_sandbox_status(
    runtime: &Runtime,
    request: cri::PodSandboxStatusRequest,
) -> Result<cri::PodSandboxStatusResponse, RuntimeError> {
    let status = runtime.sandboxes.status(&request.pod_sandbox_id).await?;
    Ok(cri::PodSandboxStatusResponse {
        status: Some(status),
        info: Default::default(),
        containers_statuses: Vec::new(),
        timestamp: jiff::Timestamp::now()
            .as_nanosecond()
            .try_into()
            .unwrap_or(i64::MAX),
    })
}

pub async fn list_pod_sandbox(
    runtime: &Runtime,
    request: cri::ListPodSandboxRequest,
) -> Result<cri::ListPodSandboxResponse, RuntimeError> {
    let filter = request.filter.map(SandboxFilter::from).unwrap_or_default();
    Ok(cri::ListPodSandboxResponse {
        items: runtime.sandboxes.summaries(&filter).await,
    })
}

pub async fn pod_sandbox_stats(
    runtime: &Runtime,
    request: cri::PodSandboxStatsRequest,
) -> Result<cri::PodSandboxStatsResponse, RuntimeError> {
    let mut stats = runtime.sandboxes.stats(&request.pod_sandbox_id).await?;
    add_container_stats(runtime, &mut stats).await;
    Ok(cri::PodSandboxStatsResponse { stats: Some(stats) })
}

pub async fn list_pod_sandbox_stats(
    runtime: &Runtime,
    request: cri::ListPodSandboxStatsRequest,
) -> Result<cri::ListPodSandboxStatsResponse, RuntimeError> {
    let filter = request.filter.map(SandboxFilter::from).unwrap_or_default();
    let mut stats = runtime.sandboxes.all_stats(&filter).await;
    for sandbox in &mut stats {
        add_container_stats(runtime, sandbox).await;
    }
    Ok(cri::ListPodSandboxStatsResponse { stats })
}

/// The stats of the sandbox's running containers go into its `linux.containers`.
async fn add_container_stats(runtime: &Runtime, sandbox: &mut cri::PodSandboxStats) {
    let Some(id) = sandbox.attributes.as_ref().map(|a| a.id.clone()) else {
        return;
    };
    let filter = cri::ContainerStatsFilter {
        pod_sandbox_id: id,
        ..Default::default()
    };
    let containers = runtime.containers.list_stats(Some(&filter)).await;
    if let Some(linux) = sandbox.linux.as_mut() {
        linux.containers = containers;
    }
}

pub async fn update_runtime_config(
    runtime: &Runtime,
    request: cri::UpdateRuntimeConfigRequest,
) -> Result<cri::UpdateRuntimeConfigResponse, RuntimeError> {
    let pod_cidr = request
        .runtime_config
        .and_then(|config| config.network_config)
        .map(|network| network.pod_cidr)
        .unwrap_or_default();
    runtime
        .sandboxes
        .network
        .set_pod_cidr(&pod_cidr)
        .map_err(|e| RuntimeError::InvalidArgument(e.to_string()))?;
    Ok(cri::UpdateRuntimeConfigResponse {})
}

pub async fn status(
    runtime: &Runtime,
    _request: cri::StatusRequest,
) -> Result<cri::StatusResponse, RuntimeError> {
    let runtime_ready = cri::RuntimeCondition {
        r#type: "RuntimeReady".into(),
        status: true,
        reason: String::new(),
        message: String::new(),
    };
    let network_ready = if runtime.sandboxes.network.is_ready() {
        cri::RuntimeCondition {
            r#type: "NetworkReady".into(),
            status: true,
            reason: String::new(),
            message: String::new(),
        }
    } else {
        cri::RuntimeCondition {
            r#type: "NetworkReady".into(),
            status: false,
            reason: "NetworkPluginNotReady".into(),
            message: "Network plugin returns error: cni plugin not initialized".into(),
        }
    };
    Ok(cri::StatusResponse {
        status: Some(cri::RuntimeStatus {
            conditions: vec![runtime_ready, network_ready],
        }),
        ..Default::default()
    })
}

pub async fn runtime_config(
    _runtime: &Runtime,
    _request: cri::RuntimeConfigRequest,
) -> Result<cri::RuntimeConfigResponse, RuntimeError> {
    Ok(cri::RuntimeConfigResponse {
        linux: Some(cri::LinuxRuntimeConfiguration {
            cgroup_driver: cri::CgroupDriver::Cgroupfs as i32,
        }),
    })
}

pub async fn list_metric_descriptors(
    _runtime: &Runtime,
    _request: cri::ListMetricDescriptorsRequest,
) -> Result<cri::ListMetricDescriptorsResponse, RuntimeError> {
    Ok(cri::ListMetricDescriptorsResponse::default())
}

pub async fn list_pod_sandbox_metrics(
    _runtime: &Runtime,
    _request: cri::ListPodSandboxMetricsRequest,
) -> Result<cri::ListPodSandboxMetricsResponse, RuntimeError> {
    Ok(cri::ListPodSandboxMetricsResponse::default())
}
