//! Containers: an OCI bundle each, run by the OCI runtime under an `r8s shim`.

use std::time::Duration;

use crate::{RuntimeError, RuntimeOptions, RuntimePaths};

/// Every container of this node, in memory and under `<root>/containers`.
pub struct Containers {}

impl Containers {
    pub async fn open(_paths: &RuntimePaths, _options: &RuntimeOptions) -> Result<Self, RuntimeError> {
        Ok(Self {})
    }

    /// Stops (SIGTERM, then SIGKILL after `timeout`) every running container of a sandbox.
    pub async fn stop_in_sandbox(&self, _sandbox_id: &str, _timeout: Duration) -> Result<(), RuntimeError> {
        Ok(())
    }

    /// Removes every container of a sandbox (stopping any still running).
    pub async fn remove_in_sandbox(&self, _sandbox_id: &str) -> Result<(), RuntimeError> {
        Ok(())
    }

    /// The host PID of a running container's init process (exec, port-forward, stats).
    pub async fn pid(&self, id: &str) -> Result<i32, RuntimeError> {
        Err(RuntimeError::NotFound(format!("container {id}")))
    }
}
