//! What image GC needs of the runtime, behind a trait so the loop runs against a fake in tests.

use std::collections::HashSet;

use k8s_cri::v1 as cri;

use crate::eviction::observation::filesystem_observation;
use crate::{CriClient, KubeletError};

#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeImage {
    pub id: String,
    pub tags: Vec<String>,
    pub size: u64,
    pub pinned: bool,
}

#[async_trait::async_trait]
pub trait ImageRuntime: Send + Sync {
    async fn images(&self) -> Result<Vec<RuntimeImage>, KubeletError>;
    /// Image ids and references of every container, running or exited.
    async fn images_of_containers(&self) -> Result<HashSet<String>, KubeletError>;
    /// (capacity, available) bytes of the image filesystem.
    async fn image_fs(&self) -> Result<(u64, u64), KubeletError>;
    async fn remove(&self, id: &str) -> Result<(), KubeletError>;
}

#[async_trait::async_trait]
impl ImageRuntime for CriClient {
    async fn images(&self) -> Result<Vec<RuntimeImage>, KubeletError> {
        let list = self
            .images
            .clone()
            .list_images(cri::ListImagesRequest { filter: None })
            .await?
            .into_inner()
            .images;
        Ok(list
            .into_iter()
            .map(|i| RuntimeImage {
                id: i.id,
                tags: i.repo_tags,
                size: i.size,
                pinned: i.pinned,
            })
            .collect())
    }

    async fn images_of_containers(&self) -> Result<HashSet<String>, KubeletError> {
        let containers = self
            .runtime
            .clone()
            .list_containers(cri::ListContainersRequest { filter: None })
            .await?
            .into_inner()
            .containers;
        let mut used = HashSet::new();
        for c in containers {
            used.insert(c.image_ref);
            if let Some(spec) = c.image {
                used.insert(spec.image);
            }
        }
        Ok(used)
    }

    async fn image_fs(&self) -> Result<(u64, u64), KubeletError> {
        let info = self
            .images
            .clone()
            .image_fs_info(cri::ImageFsInfoRequest {})
            .await?
            .into_inner();
        let mountpoint = info
            .image_filesystems
            .first()
            .and_then(|fs| fs.fs_id.as_ref())
            .map(|id| id.mountpoint.clone())
            .ok_or_else(|| {
                KubeletError::Failed("the runtime reports no image filesystem".into())
            })?;
        let observed = filesystem_observation(std::path::Path::new(&mountpoint))
            .ok_or_else(|| KubeletError::Failed(format!("statvfs {mountpoint} failed")))?;
        Ok((observed.capacity, observed.available))
    }

    async fn remove(&self, id: &str) -> Result<(), KubeletError> {
        self.images
            .clone()
            .remove_image(cri::RemoveImageRequest {
                image: Some(cri::ImageSpec {
                    image: id.into(),
                    ..Default::default()
                }),
            })
            .await?;
        Ok(())
    }
}
