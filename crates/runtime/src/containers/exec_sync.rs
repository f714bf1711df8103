//! ExecSync: a process run with `runc exec` inside a running container, output captured.

use std::time::Duration;

use k8s_cri::v1 as cri;
use oci_spec::runtime::Spec;

use super::Containers;
use crate::oci_runtime::ExecOptions;
use crate::shim::state_files::write_atomically;
use crate::RuntimeError;

impl Containers {
    /// Runs `cmd` like the container's own process (user, env, cwd, capabilities), without a
    /// terminal; fails when it outlives `timeout` (zero: no limit).
    pub async fn exec_sync(
        &self,
        id: &str,
        cmd: Vec<String>,
        timeout: Duration,
    ) -> Result<cri::ExecSyncResponse, RuntimeError> {
        if cmd.is_empty() {
            return Err(RuntimeError::InvalidArgument("exec needs a command".into()));
        }
        self.pid(id).await?;
        let record = self.record(id).await?;
        let process_file = self.exec_process_file(&record.id, cmd)?;
        let command = self
            .oci
            .exec_command(&record.id, &process_file, &ExecOptions::default());
        let result = run_with_timeout(command, timeout).await;
        let _ = std::fs::remove_file(&process_file);
        let output = result?;
        use std::os::unix::process::ExitStatusExt;
        let exit_code = output
            .status
            .code()
            .or_else(|| output.status.signal().map(|s| 128 + s))
            .unwrap_or(255);
        Ok(cri::ExecSyncResponse {
            stdout: output.stdout,
            stderr: output.stderr,
            exit_code,
        })
    }

    /// Writes the OCI process document of an exec: the container's process with other args.
    pub fn exec_process_file(
        &self,
        id: &str,
        args: Vec<String>,
    ) -> Result<std::path::PathBuf, RuntimeError> {
        let dir = self.dir(id);
        let spec = Spec::load(dir.join("config.json"))
            .map_err(|e| RuntimeError::Failed(format!("reading the spec of {id}: {e}")))?;
        let mut process = spec
            .process()
            .clone()
            .ok_or_else(|| RuntimeError::Failed(format!("the spec of {id} has no process")))?;
        process.set_args(Some(args));
        process.set_terminal(Some(false));
        let document =
            serde_json::to_vec(&process).map_err(|e| RuntimeError::Failed(e.to_string()))?;
        let file = dir.join(format!(
            "exec-{}.json",
            hex::encode(rand::random::<[u8; 8]>())
        ));
        write_atomically(&file, &document)?;
        Ok(file)
    }
}

/// Runs `command` with its output captured; kills it when it outlives `timeout` (zero: no limit).
async fn run_with_timeout(
    mut command: std::process::Command,
    timeout: Duration,
) -> Result<std::process::Output, RuntimeError> {
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command
        .spawn()
        .map_err(|e| RuntimeError::Failed(format!("running runc exec: {e}")))?;
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let mut waiting = tokio::task::spawn_blocking(move || child.wait_with_output());
    let joined = if timeout.is_zero() {
        (&mut waiting).await
    } else {
        match tokio::time::timeout(timeout, &mut waiting).await {
            Ok(joined) => joined,
            Err(_) => {
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                let _ = waiting.await;
                return Err(RuntimeError::Failed(format!(
                    "command timed out after {}s",
                    timeout.as_secs_f64()
                )));
            }
        }
    };
    joined
        .map_err(|e| RuntimeError::Failed(e.to_string()))?
        .map_err(RuntimeError::from)
}
