//! exec probes: ExecSync through CRI; exit code 0 is success.

use std::time::Duration;

use k8s_cri::v1 as cri;

use crate::CriClient;

/// The result of running a command in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    pub exit_code: i32,
    /// stdout followed by stderr, as upstream's `RunInContainer`.
    pub output: String,
    pub stderr: String,
}

/// Why a command could not be run to its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// Upstream's `TimeoutError` text.
    #[error("command {0:?} timed out")]
    TimedOut(String),
    #[error("{0}")]
    Runtime(String),
}

/// Runs `command` in the container; `timeout` of zero means none.
pub async fn exec_sync(
    cri: &CriClient,
    container_id: &str,
    command: &[String],
    timeout: Duration,
) -> Result<ExecOutput, ExecError> {
    let joined = command.join(" ");
    let mut request = tonic::Request::new(cri::ExecSyncRequest {
        container_id: container_id.to_string(),
        cmd: command.to_vec(),
        timeout: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
    });
    if !timeout.is_zero() {
        // Leave the runtime a moment to answer its own timeout first.
        request.set_timeout(timeout + Duration::from_secs(2));
    }
    let mut runtime = cri.runtime.clone();
    match runtime.exec_sync(request).await {
        Ok(response) => {
            let response = response.into_inner();
            let mut combined = response.stdout.clone();
            combined.extend_from_slice(&response.stderr);
            Ok(ExecOutput {
                exit_code: response.exit_code,
                output: String::from_utf8_lossy(&combined).into_owned(),
                stderr: String::from_utf8_lossy(&response.stderr).into_owned(),
            })
        }
        Err(status) if status.code() == tonic::Code::DeadlineExceeded => {
            Err(ExecError::TimedOut(joined))
        }
        Err(status) => Err(ExecError::Runtime(format!(
            "rpc error: code = {:?} desc = {}",
            status.code(),
            status.message()
        ))),
    }
}
