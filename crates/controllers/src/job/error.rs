//! What can go wrong while reconciling a Job.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("job has no {0}")]
    MissingField(&'static str),
}
