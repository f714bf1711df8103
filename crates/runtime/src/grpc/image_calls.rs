//! ImageService calls.

use k8s_cri::v1 as cri;

use crate::{Runtime, RuntimeError};

pub async fn list_images(
    _runtime: &Runtime,
    _request: cri::ListImagesRequest,
) -> Result<cri::ListImagesResponse, RuntimeError> {
    Err(RuntimeError::Failed("list_images is not implemented yet".into()))
}

pub async fn image_status(
    _runtime: &Runtime,
    _request: cri::ImageStatusRequest,
) -> Result<cri::ImageStatusResponse, RuntimeError> {
    Err(RuntimeError::Failed("image_status is not implemented yet".into()))
}

pub async fn pull_image(
    _runtime: &Runtime,
    _request: cri::PullImageRequest,
) -> Result<cri::PullImageResponse, RuntimeError> {
    Err(RuntimeError::Failed("pull_image is not implemented yet".into()))
}

pub async fn remove_image(
    _runtime: &Runtime,
    _request: cri::RemoveImageRequest,
) -> Result<cri::RemoveImageResponse, RuntimeError> {
    Err(RuntimeError::Failed("remove_image is not implemented yet".into()))
}

pub async fn image_fs_info(
    _runtime: &Runtime,
    _request: cri::ImageFsInfoRequest,
) -> Result<cri::ImageFsInfoResponse, RuntimeError> {
    Err(RuntimeError::Failed("image_fs_info is not implemented yet".into()))
}
