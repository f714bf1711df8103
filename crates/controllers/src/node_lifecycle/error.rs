//! What can go wrong while watching node health.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("cluster CIDR {0:?} is not an IPv4 prefix of at most /24")]
    ClusterCidr(String),
}

impl From<Error> for crate::ControllerError {
    fn from(error: Error) -> Self {
        match error {
            Error::Kube(error) => error.into(),
            other => crate::ControllerError::Invalid(other.to_string()),
        }
    }
}
