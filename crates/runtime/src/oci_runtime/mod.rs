//! The OCI runtime (runc) behind a small trait, so that the logic above it can run against a fake.

mod fake;
mod runc;

use std::path::{Path, PathBuf};
use std::process::Stdio;

pub use fake::RecordingOciRuntime;
pub use runc::Runc;

#[derive(Debug, thiserror::Error)]
pub enum OciRuntimeError {
    #[error("running {command}: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("{command} failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("decoding the state of {id}: {source}")]
    State {
        id: String,
        source: serde_json::Error,
    },
}

impl OciRuntimeError {
    /// Whether the runtime said the container does not exist (gone already).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Failed { stderr, .. } if stderr.contains("does not exist") || stderr.contains("not exist"))
    }
}

/// The container's stdio for `create`: the shim hands its pipe ends here.
pub struct CreateStdio {
    pub stdin: Stdio,
    pub stdout: Stdio,
    pub stderr: Stdio,
    /// With a terminal (`process.terminal`): the unix socket the runtime sends the pty master to.
    pub console_socket: Option<PathBuf>,
}

impl CreateStdio {
    pub fn null() -> Self {
        Self {
            stdin: Stdio::null(),
            stdout: Stdio::null(),
            stderr: Stdio::null(),
            console_socket: None,
        }
    }
}

/// What `runc state` reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct OciState {
    pub id: String,
    /// `creating`, `created`, `running`, `paused` or `stopped`.
    pub status: String,
    #[serde(default)]
    pub pid: i32,
    #[serde(default)]
    pub bundle: String,
}

/// How an extra process is run inside a container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOptions {
    /// Return once the process started (its PID goes to `pid_file`).
    pub detach: bool,
    /// Where the runtime sends the pty master when the process has a terminal.
    pub console_socket: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
}

/// The verbs of an OCI runtime as r8s uses them.
pub trait OciRuntime: Send + Sync {
    /// Creates the container from `bundle` (its init waits for `start`); writes the init PID to `pid_file`.
    fn create(
        &self,
        id: &str,
        bundle: &Path,
        pid_file: &Path,
        stdio: CreateStdio,
    ) -> Result<(), OciRuntimeError>;
    fn start(&self, id: &str) -> Result<(), OciRuntimeError>;
    /// Sends `signal` (`TERM`, `KILL`, ...) to the init process, or to every process when `all`.
    fn kill(&self, id: &str, signal: &str, all: bool) -> Result<(), OciRuntimeError>;
    fn delete(&self, id: &str, force: bool) -> Result<(), OciRuntimeError>;
    fn state(&self, id: &str) -> Result<OciState, OciRuntimeError>;
    /// Applies new cgroup limits (an OCI `LinuxResources` document).
    fn update(
        &self,
        id: &str,
        resources: &oci_spec::runtime::LinuxResources,
    ) -> Result<(), OciRuntimeError>;
    /// The command that runs the process described by `process_file` (an OCI `Process` document)
    /// inside the container; the caller spawns it with the stdio it wants.
    fn exec_command(
        &self,
        id: &str,
        process_file: &Path,
        options: &ExecOptions,
    ) -> std::process::Command;
}
