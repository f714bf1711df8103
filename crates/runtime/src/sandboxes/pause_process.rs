//! Starting, recognising and stopping a sandbox's `r8s pause` process.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::pause::READY_BYTE;
use crate::RuntimeError;

/// A process told apart from a later one with the same PID by its start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PauseIdentity {
    pub pid: i32,
    /// Field 22 of `/proc/<pid>/stat` (clock ticks after boot).
    pub start_time: u64,
}

pub const PAUSE_LOG_FILE: &str = "pause.log";

/// Starts `self_exe <args>` in its own session and waits until it says its namespaces exist.
pub async fn start_pause(
    self_exe: &Path,
    args: Vec<String>,
    dir: &Path,
) -> Result<PauseIdentity, RuntimeError> {
    let self_exe = self_exe.to_path_buf();
    let log = dir.join(PAUSE_LOG_FILE);
    tokio::task::spawn_blocking(move || start_pause_blocking(&self_exe, &args, &log))
        .await
        .map_err(|e| RuntimeError::Failed(format!("starting the pause process: {e}")))?
}

fn start_pause_blocking(
    self_exe: &Path,
    args: &[String],
    log: &Path,
) -> Result<PauseIdentity, RuntimeError> {
    let stderr = std::fs::File::create(log)?;
    let mut child = Command::new(self_exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| RuntimeError::Failed(format!("starting {}: {e}", self_exe.display())))?;
    let mut ready = [0u8; 1];
    let read = child.stdout.take().map(|mut out| out.read(&mut ready));
    if !matches!(read, Some(Ok(1))) || ready[0] != READY_BYTE {
        let _ = child.kill();
        let _ = child.wait();
        let message = std::fs::read_to_string(log).unwrap_or_default();
        return Err(RuntimeError::Failed(format!(
            "the pause process did not start: {}",
            message.trim()
        )));
    }
    let pid = i32::try_from(child.id()).map_err(|e| RuntimeError::Failed(e.to_string()))?;
    let start_time = start_time_of(pid).ok_or_else(|| {
        RuntimeError::Failed(format!("pause process {pid} vanished right after starting"))
    })?;
    // The pause process outlives this one; while we live, a thread reaps it when it ends.
    std::thread::Builder::new()
        .name(format!("pause-{pid}"))
        .stack_size(64 * 1024)
        .spawn(move || {
            let _ = child.wait();
        })?;
    Ok(PauseIdentity { pid, start_time })
}

/// The start time of a live (not zombie) process.
fn start_time_of(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    if matches!(fields.first(), Some(&"Z") | Some(&"X") | None) {
        return None;
    }
    // Fields after the command name start at field 3 (state); start time is field 22.
    fields.get(19)?.parse().ok()
}

impl PauseIdentity {
    /// The process still runs and is the one this identity was taken from.
    pub fn is_alive(&self) -> bool {
        start_time_of(self.pid) == Some(self.start_time)
    }

    /// SIGTERM, then SIGKILL when it has not gone after `grace`; only if it is still ours.
    pub async fn stop(&self, grace: Duration) {
        if !self.is_alive() {
            return;
        }
        let _ = kill(Pid::from_raw(self.pid), Signal::SIGTERM);
        let deadline = tokio::time::Instant::now() + grace;
        while self.is_alive() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if self.is_alive() {
            let _ = kill(Pid::from_raw(self.pid), Signal::SIGKILL);
            for _ in 0..100 {
                if !self.is_alive() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    pub fn namespace_file(&self, kind: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/ns/{kind}", self.pid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_start_time_and_is_alive() {
        let pid = i32::try_from(std::process::id()).unwrap();
        let start_time = start_time_of(pid).unwrap();
        assert!(PauseIdentity { pid, start_time }.is_alive());
        assert!(!PauseIdentity {
            pid,
            start_time: start_time + 1
        }
        .is_alive());
    }
}
