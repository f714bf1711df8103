//! The CRI `ImageService`.

use std::sync::Arc;

use k8s_cri::v1 as cri;
use k8s_cri::v1::image_service_server::ImageService;
use tonic::{Request, Response, Status};

use super::image_calls;
use crate::Runtime;

pub struct ImageServiceImpl {
    pub runtime: Arc<Runtime>,
}

#[tonic::async_trait]
impl ImageService for ImageServiceImpl {
    async fn list_images(
        &self,
        request: Request<cri::ListImagesRequest>,
    ) -> Result<Response<cri::ListImagesResponse>, Status> {
        image_calls::list_images(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn image_status(
        &self,
        request: Request<cri::ImageStatusRequest>,
    ) -> Result<Response<cri::ImageStatusResponse>, Status> {
        image_calls::image_status(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn pull_image(
        &self,
        request: Request<cri::PullImageRequest>,
    ) -> Result<Response<cri::PullImageResponse>, Status> {
        image_calls::pull_image(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn remove_image(
        &self,
        request: Request<cri::RemoveImageRequest>,
    ) -> Result<Response<cri::RemoveImageResponse>, Status> {
        image_calls::remove_image(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn image_fs_info(
        &self,
        request: Request<cri::ImageFsInfoRequest>,
    ) -> Result<Response<cri::ImageFsInfoResponse>, Status> {
        image_calls::image_fs_info(&self.runtime, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }
}
