//! The runtime's shared state: one value behind every gRPC call.

use crate::containers::Containers;
use crate::images::ImageStore;
use crate::sandboxes::Sandboxes;
use crate::streaming::{RuncExecRunner, StreamingServer};
use crate::{RuntimeError, RuntimeOptions, RuntimePaths};

pub struct Runtime {
    pub options: RuntimeOptions,
    pub paths: RuntimePaths,
    pub images: ImageStore,
    pub sandboxes: Sandboxes,
    pub containers: Containers,
    /// The exec/port-forward server on 127.0.0.1 that streaming URLs point at.
    pub streaming: StreamingServer,
}

impl Runtime {
    /// Opens every part's state from disk (re-adopting live shims and pause processes).
    pub async fn open(options: RuntimeOptions) -> Result<Self, RuntimeError> {
        let paths = RuntimePaths::new(options.root.clone());
        let images = ImageStore::open(&paths, &options).await?;
        let sandboxes = Sandboxes::open(&paths, &options).await?;
        let containers = Containers::open(&paths, &options).await?;
        let exec_runner =
            RuncExecRunner::new(options.oci_runtime.clone(), paths.oci_runtime_root());
        let streaming = StreamingServer::start(std::sync::Arc::new(exec_runner))
            .await
            .map_err(|e| RuntimeError::Failed(format!("starting the streaming server: {e}")))?;
        Ok(Self {
            options,
            paths,
            images,
            sandboxes,
            containers,
            streaming,
        })
    }
}
