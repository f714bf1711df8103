//! The CRI `RuntimeService`: each call hands its request to the module that owns it.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use k8s_cri::v1 as cri;
use k8s_cri::v1::runtime_service_server::RuntimeService;
use tonic::{Request, Response, Status};

use super::{container_calls, sandbox_calls, streaming_calls};
use crate::Runtime;

pub struct RuntimeServiceImpl {
    pub runtime: Arc<Runtime>,
}

type EventStream = Pin<Box<dyn Stream<Item = Result<cri::ContainerEventResponse, Status>> + Send>>;

#[tonic::async_trait]
impl RuntimeService for RuntimeServiceImpl {
    async fn version(
        &self,
        request: Request<cri::VersionRequest>,
    ) -> Result<Response<cri::VersionResponse>, Status> {
        sandbox_calls::version(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn run_pod_sandbox(
        &self,
        request: Request<cri::RunPodSandboxRequest>,
    ) -> Result<Response<cri::RunPodSandboxResponse>, Status> {
        sandbox_calls::run_pod_sandbox(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn stop_pod_sandbox(
        &self,
        request: Request<cri::StopPodSandboxRequest>,
    ) -> Result<Response<cri::StopPodSandboxResponse>, Status> {
        sandbox_calls::stop_pod_sandbox(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn remove_pod_sandbox(
        &self,
        request: Request<cri::RemovePodSandboxRequest>,
    ) -> Result<Response<cri::RemovePodSandboxResponse>, Status> {
        sandbox_calls::remove_pod_sandbox(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn pod_sandbox_status(
        &self,
        request: Request<cri::PodSandboxStatusRequest>,
    ) -> Result<Response<cri::PodSandboxStatusResponse>, Status> {
        sandbox_calls::pod_sandbox_status(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn list_pod_sandbox(
        &self,
        request: Request<cri::ListPodSandboxRequest>,
    ) -> Result<Response<cri::ListPodSandboxResponse>, Status> {
        sandbox_calls::list_pod_sandbox(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn pod_sandbox_stats(
        &self,
        request: Request<cri::PodSandboxStatsRequest>,
    ) -> Result<Response<cri::PodSandboxStatsResponse>, Status> {
        sandbox_calls::pod_sandbox_stats(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn list_pod_sandbox_stats(
        &self,
        request: Request<cri::ListPodSandboxStatsRequest>,
    ) -> Result<Response<cri::ListPodSandboxStatsResponse>, Status> {
        sandbox_calls::list_pod_sandbox_stats(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn update_runtime_config(
        &self,
        request: Request<cri::UpdateRuntimeConfigRequest>,
    ) -> Result<Response<cri::UpdateRuntimeConfigResponse>, Status> {
        sandbox_calls::update_runtime_config(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn status(
        &self,
        request: Request<cri::StatusRequest>,
    ) -> Result<Response<cri::StatusResponse>, Status> {
        sandbox_calls::status(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn runtime_config(
        &self,
        request: Request<cri::RuntimeConfigRequest>,
    ) -> Result<Response<cri::RuntimeConfigResponse>, Status> {
        sandbox_calls::runtime_config(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn list_metric_descriptors(
        &self,
        request: Request<cri::ListMetricDescriptorsRequest>,
    ) -> Result<Response<cri::ListMetricDescriptorsResponse>, Status> {
        sandbox_calls::list_metric_descriptors(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn list_pod_sandbox_metrics(
        &self,
        request: Request<cri::ListPodSandboxMetricsRequest>,
    ) -> Result<Response<cri::ListPodSandboxMetricsResponse>, Status> {
        sandbox_calls::list_pod_sandbox_metrics(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn create_container(
        &self,
        request: Request<cri::CreateContainerRequest>,
    ) -> Result<Response<cri::CreateContainerResponse>, Status> {
        container_calls::create_container(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn start_container(
        &self,
        request: Request<cri::StartContainerRequest>,
    ) -> Result<Response<cri::StartContainerResponse>, Status> {
        container_calls::start_container(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn stop_container(
        &self,
        request: Request<cri::StopContainerRequest>,
    ) -> Result<Response<cri::StopContainerResponse>, Status> {
        container_calls::stop_container(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn remove_container(
        &self,
        request: Request<cri::RemoveContainerRequest>,
    ) -> Result<Response<cri::RemoveContainerResponse>, Status> {
        container_calls::remove_container(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn list_containers(
        &self,
        request: Request<cri::ListContainersRequest>,
    ) -> Result<Response<cri::ListContainersResponse>, Status> {
        container_calls::list_containers(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn container_status(
        &self,
        request: Request<cri::ContainerStatusRequest>,
    ) -> Result<Response<cri::ContainerStatusResponse>, Status> {
        container_calls::container_status(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn update_container_resources(
        &self,
        request: Request<cri::UpdateContainerResourcesRequest>,
    ) -> Result<Response<cri::UpdateContainerResourcesResponse>, Status> {
        container_calls::update_container_resources(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn reopen_container_log(
        &self,
        request: Request<cri::ReopenContainerLogRequest>,
    ) -> Result<Response<cri::ReopenContainerLogResponse>, Status> {
        container_calls::reopen_container_log(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn exec_sync(
        &self,
        request: Request<cri::ExecSyncRequest>,
    ) -> Result<Response<cri::ExecSyncResponse>, Status> {
        container_calls::exec_sync(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn container_stats(
        &self,
        request: Request<cri::ContainerStatsRequest>,
    ) -> Result<Response<cri::ContainerStatsResponse>, Status> {
        container_calls::container_stats(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn list_container_stats(
        &self,
        request: Request<cri::ListContainerStatsRequest>,
    ) -> Result<Response<cri::ListContainerStatsResponse>, Status> {
        container_calls::list_container_stats(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn checkpoint_container(
        &self,
        request: Request<cri::CheckpointContainerRequest>,
    ) -> Result<Response<cri::CheckpointContainerResponse>, Status> {
        container_calls::checkpoint_container(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn exec(
        &self,
        request: Request<cri::ExecRequest>,
    ) -> Result<Response<cri::ExecResponse>, Status> {
        streaming_calls::exec(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn attach(
        &self,
        request: Request<cri::AttachRequest>,
    ) -> Result<Response<cri::AttachResponse>, Status> {
        streaming_calls::attach(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn port_forward(
        &self,
        request: Request<cri::PortForwardRequest>,
    ) -> Result<Response<cri::PortForwardResponse>, Status> {
        streaming_calls::port_forward(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    type GetContainerEventsStream = EventStream;

    async fn get_container_events(
        &self,
        _request: Request<cri::GetEventsRequest>,
    ) -> Result<Response<Self::GetContainerEventsStream>, Status> {
        Err(Status::unimplemented(
            "container events are not supported; the kubelet relists",
        ))
    }
}
