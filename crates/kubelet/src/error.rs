//! Errors of the kubelet.

#[derive(Debug, thiserror::Error)]
pub enum KubeletError {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("CRI: {0}")]
    Cri(#[from] tonic::Status),
    #[error("connecting to the CRI runtime: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Failed(String),
}
