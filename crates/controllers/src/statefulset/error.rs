//! What can go wrong while reconciling a StatefulSet.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("statefulset has no {0}")]
    MissingField(&'static str),
    #[error("encoding a revision: {0}")]
    Encode(#[from] serde_json::Error),
}

impl From<Error> for crate::ControllerError {
    fn from(error: Error) -> Self {
        match error {
            Error::Kube(error) => error.into(),
            other => crate::ControllerError::Invalid(other.to_string()),
        }
    }
}
