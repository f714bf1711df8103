/// Why a controller stopped or a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error(transparent)]
    Leader(#[from] leader::LeaderError),
    #[error("API: {0}")]
    Api(#[from] Box<kube::Error>),
    #[error("discovery: {0}")]
    Discovery(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<kube::Error> for ControllerError {
    fn from(error: kube::Error) -> Self {
        Self::Api(Box::new(error))
    }
}

/// Whether the API answered with this HTTP status.
pub(crate) fn is_status(error: &kube::Error, code: u16) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == code)
}
