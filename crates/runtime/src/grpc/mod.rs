//! The gRPC edge: CRI v1 services on a unix socket.

mod container_calls;
mod image_calls;
mod image_service;
mod runtime_service;
mod sandbox_calls;
mod streaming_calls;

use std::sync::Arc;

use k8s_cri::v1::image_service_server::ImageServiceServer;
use k8s_cri::v1::runtime_service_server::RuntimeServiceServer;
use tokio_util::sync::CancellationToken;

pub use image_service::ImageServiceImpl;
pub use runtime_service::RuntimeServiceImpl;

use crate::{Runtime, RuntimeError};

/// Serves both CRI services on the runtime's socket until `cancel`.
pub async fn serve(runtime: Arc<Runtime>, cancel: CancellationToken) -> Result<(), RuntimeError> {
    let socket = runtime.paths.socket();
    if let Some(parent) = socket.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    match tokio::fs::remove_file(&socket).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let listener = tokio::net::UnixListener::bind(&socket)?;
    let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
    tracing::info!(socket = %socket.display(), "CRI runtime serving");
    tonic::transport::Server::builder()
        .add_service(RuntimeServiceServer::new(RuntimeServiceImpl {
            runtime: runtime.clone(),
        }))
        .add_service(ImageServiceServer::new(ImageServiceImpl { runtime }))
        .serve_with_incoming_shutdown(incoming, cancel.cancelled_owned())
        .await?;
    Ok(())
}
