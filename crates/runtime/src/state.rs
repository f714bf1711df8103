//! The runtime's shared state: one value behind every gRPC call.

use crate::containers::Containers;
use crate::images::ImageStore;
use crate::sandboxes::Sandboxes;
use crate::{RuntimeError, RuntimeOptions, RuntimePaths};

pub struct Runtime {
    pub options: RuntimeOptions,
    pub paths: RuntimePaths,
    pub images: ImageStore,
    pub sandboxes: Sandboxes,
    pub containers: Containers,
}

impl Runtime {
    /// Opens every part's state from disk (re-adopting live shims and pause processes).
    pub async fn open(options: RuntimeOptions) -> Result<Self, RuntimeError> {
        let paths = RuntimePaths::new(options.root.clone());
        let images = ImageStore::open(&paths, &options).await?;
        let sandboxes = Sandboxes::open(&paths, &options).await?;
        let containers = Containers::open(&paths, &options).await?;
        Ok(Self {
            options,
            paths,
            images,
            sandboxes,
            containers,
        })
    }
}
