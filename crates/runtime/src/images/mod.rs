//! Images: a content-addressed store, pulls from registries, archive imports, unpacked layers.

use std::path::PathBuf;

use crate::{RuntimeError, RuntimeOptions, RuntimePaths};

/// Every image this node has, with its blobs and unpacked layers.
pub struct ImageStore {}

/// An image ready to be a container's root filesystem.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// `sha256:<config digest>`: the CRI image id.
    pub id: String,
    /// Normalized references (`docker.io/library/busybox:latest`) naming this image.
    pub references: Vec<String>,
    /// Unpacked layer directories, bottom layer first (overlay lowerdirs, reversed).
    pub layers: Vec<PathBuf>,
    /// The image's config (Env, Entrypoint, Cmd, WorkingDir, User, ...).
    pub config: oci_spec::image::ImageConfiguration,
}

impl ImageStore {
    pub async fn open(_paths: &RuntimePaths, _options: &RuntimeOptions) -> Result<Self, RuntimeError> {
        Ok(Self {})
    }

    /// Finds an image by id, digest reference or (normalized) name, with its layers unpacked.
    pub async fn resolve(&self, image: &str) -> Result<ResolvedImage, RuntimeError> {
        Err(RuntimeError::NotFound(format!("image {image}")))
    }
}
