//! Errors of the scheduler's tasks.

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("scheduling thread: {0}")]
    Thread(String),
    #[error("leader election: {0}")]
    LeaderElection(String),
}
