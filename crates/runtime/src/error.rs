//! Errors of the runtime, mapped to gRPC statuses at the service edge.

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("already exists: {0}")]
    AlreadyExists(String),
    #[error("{0}")]
    Failed(String),
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

impl From<RuntimeError> for tonic::Status {
    fn from(error: RuntimeError) -> Self {
        match error {
            RuntimeError::NotFound(m) => tonic::Status::not_found(m),
            RuntimeError::InvalidArgument(m) => tonic::Status::invalid_argument(m),
            RuntimeError::AlreadyExists(m) => tonic::Status::already_exists(m),
            other => tonic::Status::internal(other.to_string()),
        }
    }
}
