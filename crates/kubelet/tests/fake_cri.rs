//! An in-memory CRI runtime served by tonic on a unix socket: containers whose args say `exit N`
//! exit at once with N, others run until stopped. NetworkReady turns true once a pod CIDR is set.

use std::collections::HashMap;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use k8s_cri::v1 as cri;
use k8s_cri::v1::image_service_server::{ImageService, ImageServiceServer};
use k8s_cri::v1::runtime_service_server::{RuntimeService, RuntimeServiceServer};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

#[derive(Clone, Debug)]
pub struct FakeSandbox {
    pub config: cri::PodSandboxConfig,
    pub ready: bool,
    pub created_at: i64,
    pub ip: String,
}

#[derive(Clone, Debug)]
pub struct FakeContainer {
    pub sandbox_id: String,
    pub config: cri::ContainerConfig,
    pub state: cri::ContainerState,
    pub exit_code: i32,
    pub created_at: i64,
    pub started_at: i64,
    pub finished_at: i64,
}

#[derive(Default, Debug)]
pub struct FakeState {
    pub pod_cidr: String,
    pub sandboxes: HashMap<String, FakeSandbox>,
    pub containers: HashMap<String, FakeContainer>,
    next_id: u64,
}

#[derive(Clone, Default)]
pub struct FakeRuntime {
    pub state: Arc<Mutex<FakeState>>,
}

fn now() -> i64 {
    jiff::Timestamp::now().as_nanosecond() as i64
}

fn matches(labels: &HashMap<String, String>, selector: &HashMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

impl FakeRuntime {
    pub async fn serve(&self, socket: &Path, cancel: CancellationToken) {
        let listener = tokio::net::UnixListener::bind(socket).unwrap();
        let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
        let runtime = self.clone();
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(RuntimeServiceServer::new(runtime.clone()))
                .add_service(ImageServiceServer::new(runtime))
                .serve_with_incoming_shutdown(incoming, cancel.cancelled_owned())
                .await
                .unwrap();
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap()
    }
}

type Res<T> = Result<Response<T>, Status>;

fn unimplemented<T>() -> Res<T> {
    Err(Status::unimplemented("fake"))
}

#[tonic::async_trait]
impl RuntimeService for FakeRuntime {
    async fn version(&self, _: Request<cri::VersionRequest>) -> Res<cri::VersionResponse> {
        Ok(Response::new(cri::VersionResponse {
            version: "0.1.0".into(),
            runtime_name: "fake".into(),
            runtime_version: "1.0.0".into(),
            runtime_api_version: "v1".into(),
        }))
    }
    async fn run_pod_sandbox(
        &self,
        r: Request<cri::RunPodSandboxRequest>,
    ) -> Res<cri::RunPodSandboxResponse> {
        let config = r.into_inner().config.unwrap_or_default();
        let mut state = self.lock();
        state.next_id += 1;
        let id = format!("sb{}", state.next_id);
        let ip = format!("10.42.0.{}", state.next_id % 250 + 2);
        state.sandboxes.insert(
            id.clone(),
            FakeSandbox {
                config,
                ready: true,
                created_at: now(),
                ip,
            },
        );
        Ok(Response::new(cri::RunPodSandboxResponse {
            pod_sandbox_id: id,
        }))
    }
    async fn stop_pod_sandbox(
        &self,
        r: Request<cri::StopPodSandboxRequest>,
    ) -> Res<cri::StopPodSandboxResponse> {
        let id = r.into_inner().pod_sandbox_id;
        let mut state = self.lock();
        if let Some(s) = state.sandboxes.get_mut(&id) {
            s.ready = false;
        }
        for c in state.containers.values_mut().filter(|c| c.sandbox_id == id) {
            if c.state == cri::ContainerState::ContainerRunning {
                c.state = cri::ContainerState::ContainerExited;
                c.exit_code = 137;
                c.finished_at = now();
            }
        }
        Ok(Response::new(cri::StopPodSandboxResponse {}))
    }
    async fn remove_pod_sandbox(
        &self,
        r: Request<cri::RemovePodSandboxRequest>,
    ) -> Res<cri::RemovePodSandboxResponse> {
        let id = r.into_inner().pod_sandbox_id;
        let mut state = self.lock();
        state.sandboxes.remove(&id);
        state.containers.retain(|_, c| c.sandbox_id != id);
        Ok(Response::new(cri::RemovePodSandboxResponse {}))
    }
    async fn pod_sandbox_status(
        &self,
        r: Request<cri::PodSandboxStatusRequest>,
    ) -> Res<cri::PodSandboxStatusResponse> {
        let id = r.into_inner().pod_sandbox_id;
        let state = self.lock();
        let s = state
            .sandboxes
            .get(&id)
            .ok_or_else(|| Status::not_found(id.clone()))?;
        Ok(Response::new(cri::PodSandboxStatusResponse {
            status: Some(cri::PodSandboxStatus {
                id: id.clone(),
                metadata: s.config.metadata.clone(),
                state: if s.ready { 0 } else { 1 },
                created_at: s.created_at,
                network: Some(cri::PodSandboxNetworkStatus {
                    ip: s.ip.clone(),
                    additional_ips: vec![],
                }),
                labels: s.config.labels.clone(),
                annotations: s.config.annotations.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }
    async fn list_pod_sandbox(
        &self,
        r: Request<cri::ListPodSandboxRequest>,
    ) -> Res<cri::ListPodSandboxResponse> {
        let filter = r.into_inner().filter.unwrap_or_default();
        let state = self.lock();
        let items = state
            .sandboxes
            .iter()
            .filter(|(_, s)| matches(&s.config.labels, &filter.label_selector))
            .map(|(id, s)| cri::PodSandbox {
                id: id.clone(),
                metadata: s.config.metadata.clone(),
                state: if s.ready { 0 } else { 1 },
                created_at: s.created_at,
                labels: s.config.labels.clone(),
                annotations: s.config.annotations.clone(),
                runtime_handler: String::new(),
            })
            .collect();
        Ok(Response::new(cri::ListPodSandboxResponse { items }))
    }
    async fn create_container(
        &self,
        r: Request<cri::CreateContainerRequest>,
    ) -> Res<cri::CreateContainerResponse> {
        let r = r.into_inner();
        let mut state = self.lock();
        if !state
            .sandboxes
            .get(&r.pod_sandbox_id)
            .is_some_and(|s| s.ready)
        {
            return Err(Status::failed_precondition("sandbox not ready"));
        }
        state.next_id += 1;
        let id = format!("c{}", state.next_id);
        state.containers.insert(
            id.clone(),
            FakeContainer {
                sandbox_id: r.pod_sandbox_id,
                config: r.config.unwrap_or_default(),
                state: cri::ContainerState::ContainerCreated,
                exit_code: 0,
                created_at: now(),
                started_at: 0,
                finished_at: 0,
            },
        );
        Ok(Response::new(cri::CreateContainerResponse {
            container_id: id,
        }))
    }
    async fn start_container(
        &self,
        r: Request<cri::StartContainerRequest>,
    ) -> Res<cri::StartContainerResponse> {
        let id = r.into_inner().container_id;
        let mut state = self.lock();
        let c = state
            .containers
            .get_mut(&id)
            .ok_or_else(|| Status::not_found(id.clone()))?;
        c.started_at = now();
        let words: Vec<String> = c
            .config
            .command
            .iter()
            .chain(c.config.args.iter())
            .cloned()
            .collect();
        let script = words.join(" ");
        match script
            .split("exit ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
        {
            Some(code) => {
                c.state = cri::ContainerState::ContainerExited;
                c.exit_code = code;
                c.finished_at = now() + 1;
            }
            None => c.state = cri::ContainerState::ContainerRunning,
        }
        Ok(Response::new(cri::StartContainerResponse {}))
    }
    async fn stop_container(
        &self,
        r: Request<cri::StopContainerRequest>,
    ) -> Res<cri::StopContainerResponse> {
        let id = r.into_inner().container_id;
        let mut state = self.lock();
        if let Some(c) = state.containers.get_mut(&id) {
            if c.state == cri::ContainerState::ContainerRunning {
                c.state = cri::ContainerState::ContainerExited;
                c.exit_code = 137;
                c.finished_at = now();
            }
        }
        Ok(Response::new(cri::StopContainerResponse {}))
    }
    async fn remove_container(
        &self,
        r: Request<cri::RemoveContainerRequest>,
    ) -> Res<cri::RemoveContainerResponse> {
        self.lock().containers.remove(&r.into_inner().container_id);
        Ok(Response::new(cri::RemoveContainerResponse {}))
    }
    async fn list_containers(
        &self,
        r: Request<cri::ListContainersRequest>,
    ) -> Res<cri::ListContainersResponse> {
        let filter = r.into_inner().filter.unwrap_or_default();
        let state = self.lock();
        let containers = state
            .containers
            .iter()
            .filter(|(_, c)| matches(&c.config.labels, &filter.label_selector))
            .map(|(id, c)| cri::Container {
                id: id.clone(),
                pod_sandbox_id: c.sandbox_id.clone(),
                metadata: c.config.metadata.clone(),
                image: c.config.image.clone(),
                image_ref: "sha256:feed".into(),
                state: c.state as i32,
                created_at: c.created_at,
                labels: c.config.labels.clone(),
                annotations: c.config.annotations.clone(),
                image_id: "sha256:feed".into(),
            })
            .collect();
        Ok(Response::new(cri::ListContainersResponse { containers }))
    }
    async fn container_status(
        &self,
        r: Request<cri::ContainerStatusRequest>,
    ) -> Res<cri::ContainerStatusResponse> {
        let id = r.into_inner().container_id;
        let state = self.lock();
        let c = state
            .containers
            .get(&id)
            .ok_or_else(|| Status::not_found(id.clone()))?;
        Ok(Response::new(cri::ContainerStatusResponse {
            status: Some(cri::ContainerStatus {
                id: id.clone(),
                metadata: c.config.metadata.clone(),
                state: c.state as i32,
                created_at: c.created_at,
                started_at: c.started_at,
                finished_at: c.finished_at,
                exit_code: c.exit_code,
                image: c.config.image.clone(),
                image_ref: "docker.io/library/busybox@sha256:feed".into(),
                labels: c.config.labels.clone(),
                annotations: c.config.annotations.clone(),
                mounts: c.config.mounts.clone(),
                log_path: c.config.log_path.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }
    async fn update_container_resources(
        &self,
        _: Request<cri::UpdateContainerResourcesRequest>,
    ) -> Res<cri::UpdateContainerResourcesResponse> {
        unimplemented()
    }
    async fn reopen_container_log(
        &self,
        _: Request<cri::ReopenContainerLogRequest>,
    ) -> Res<cri::ReopenContainerLogResponse> {
        unimplemented()
    }
    async fn exec_sync(&self, _: Request<cri::ExecSyncRequest>) -> Res<cri::ExecSyncResponse> {
        Ok(Response::new(cri::ExecSyncResponse::default()))
    }
    async fn exec(&self, _: Request<cri::ExecRequest>) -> Res<cri::ExecResponse> {
        unimplemented()
    }
    async fn attach(&self, _: Request<cri::AttachRequest>) -> Res<cri::AttachResponse> {
        unimplemented()
    }
    async fn port_forward(
        &self,
        _: Request<cri::PortForwardRequest>,
    ) -> Res<cri::PortForwardResponse> {
        unimplemented()
    }
    async fn container_stats(
        &self,
        _: Request<cri::ContainerStatsRequest>,
    ) -> Res<cri::ContainerStatsResponse> {
        unimplemented()
    }
    async fn list_container_stats(
        &self,
        _: Request<cri::ListContainerStatsRequest>,
    ) -> Res<cri::ListContainerStatsResponse> {
        Ok(Response::new(cri::ListContainerStatsResponse::default()))
    }
    async fn pod_sandbox_stats(
        &self,
        _: Request<cri::PodSandboxStatsRequest>,
    ) -> Res<cri::PodSandboxStatsResponse> {
        unimplemented()
    }
    async fn list_pod_sandbox_stats(
        &self,
        _: Request<cri::ListPodSandboxStatsRequest>,
    ) -> Res<cri::ListPodSandboxStatsResponse> {
        Ok(Response::new(cri::ListPodSandboxStatsResponse::default()))
    }
    async fn update_runtime_config(
        &self,
        r: Request<cri::UpdateRuntimeConfigRequest>,
    ) -> Res<cri::UpdateRuntimeConfigResponse> {
        let cidr = r
            .into_inner()
            .runtime_config
            .and_then(|c| c.network_config)
            .map(|n| n.pod_cidr)
            .unwrap_or_default();
        self.lock().pod_cidr = cidr;
        Ok(Response::new(cri::UpdateRuntimeConfigResponse {}))
    }
    async fn status(&self, _: Request<cri::StatusRequest>) -> Res<cri::StatusResponse> {
        let network = !self.lock().pod_cidr.is_empty();
        let condition = |kind: &str, status: bool| cri::RuntimeCondition {
            r#type: kind.into(),
            status,
            reason: if status {
                String::new()
            } else {
                "NetworkPluginNotReady".into()
            },
            message: if status {
                String::new()
            } else {
                "Network plugin returns error: cni plugin not initialized".into()
            },
        };
        Ok(Response::new(cri::StatusResponse {
            status: Some(cri::RuntimeStatus {
                conditions: vec![
                    condition("RuntimeReady", true),
                    condition("NetworkReady", network),
                ],
            }),
            ..Default::default()
        }))
    }
    async fn checkpoint_container(
        &self,
        _: Request<cri::CheckpointContainerRequest>,
    ) -> Res<cri::CheckpointContainerResponse> {
        unimplemented()
    }
    type GetContainerEventsStream = Pin<
        Box<
            dyn futures::Stream<Item = Result<cri::ContainerEventResponse, Status>>
                + Send
                + 'static,
        >,
    >;
    async fn get_container_events(
        &self,
        _: Request<cri::GetEventsRequest>,
    ) -> Res<Self::GetContainerEventsStream> {
        unimplemented()
    }
    async fn list_metric_descriptors(
        &self,
        _: Request<cri::ListMetricDescriptorsRequest>,
    ) -> Res<cri::ListMetricDescriptorsResponse> {
        unimplemented()
    }
    async fn list_pod_sandbox_metrics(
        &self,
        _: Request<cri::ListPodSandboxMetricsRequest>,
    ) -> Res<cri::ListPodSandboxMetricsResponse> {
        unimplemented()
    }
    async fn runtime_config(
        &self,
        _: Request<cri::RuntimeConfigRequest>,
    ) -> Res<cri::RuntimeConfigResponse> {
        unimplemented()
    }
}

#[tonic::async_trait]
impl ImageService for FakeRuntime {
    async fn list_images(
        &self,
        _: Request<cri::ListImagesRequest>,
    ) -> Res<cri::ListImagesResponse> {
        Ok(Response::new(cri::ListImagesResponse::default()))
    }
    async fn image_status(
        &self,
        r: Request<cri::ImageStatusRequest>,
    ) -> Res<cri::ImageStatusResponse> {
        let image = r.into_inner().image.unwrap_or_default().image;
        Ok(Response::new(cri::ImageStatusResponse {
            image: Some(cri::Image {
                id: "sha256:feed".into(),
                repo_tags: vec![image],
                repo_digests: vec!["docker.io/library/busybox@sha256:feed".into()],
                size: 1,
                uid: Some(cri::Int64Value { value: 0 }),
                ..Default::default()
            }),
            info: HashMap::new(),
        }))
    }
    async fn pull_image(&self, _: Request<cri::PullImageRequest>) -> Res<cri::PullImageResponse> {
        Ok(Response::new(cri::PullImageResponse {
            image_ref: "sha256:feed".into(),
        }))
    }
    async fn remove_image(
        &self,
        _: Request<cri::RemoveImageRequest>,
    ) -> Res<cri::RemoveImageResponse> {
        Ok(Response::new(cri::RemoveImageResponse {}))
    }
    async fn image_fs_info(
        &self,
        _: Request<cri::ImageFsInfoRequest>,
    ) -> Res<cri::ImageFsInfoResponse> {
        Ok(Response::new(cri::ImageFsInfoResponse::default()))
    }
}
