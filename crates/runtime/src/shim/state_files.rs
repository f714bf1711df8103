//! The files through which the shim and the runtime share a container's state, all in the
//! container's directory and all written atomically (a temporary file renamed into place).

use std::io::Write;
use std::path::{Path, PathBuf};

/// The attach socket's name in the container directory.
pub const ATTACH_SOCKET: &str = "attach.sock";
/// The console socket's name (runc sends the terminal there during create).
pub const CONSOLE_SOCKET: &str = "console.sock";

/// Names of the shim's state files inside a container directory.
#[derive(Debug, Clone)]
pub struct StateFiles {
    dir: PathBuf,
}

impl StateFiles {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The supervisor's PID.
    pub fn shim_pid(&self) -> PathBuf {
        self.dir.join("shim.pid")
    }
    /// The container's init PID, written once `runc create` succeeded.
    pub fn init_pid(&self) -> PathBuf {
        self.dir.join("init.pid")
    }
    /// Where runc writes the init PID during create.
    pub fn runc_pid(&self) -> PathBuf {
        self.dir.join("runc.pid")
    }
    /// Why `runc create` failed.
    pub fn create_error(&self) -> PathBuf {
        self.dir.join("create_error")
    }
    /// Nanoseconds since the epoch at which `runc start` returned (written by the runtime).
    pub fn started_at(&self) -> PathBuf {
        self.dir.join("started_at")
    }
    /// The `ExitRecord`.
    pub fn exit(&self) -> PathBuf {
        self.dir.join("exit.json")
    }
    /// The shim's attach socket (`attach_frame` framing), there while the container runs.
    pub fn attach_socket(&self) -> PathBuf {
        self.dir.join(ATTACH_SOCKET)
    }

    pub fn read_pid(path: &Path) -> Option<i32> {
        std::fs::read_to_string(path).ok()?.trim().parse().ok()
    }

    pub fn read_started_at(&self) -> Option<i64> {
        std::fs::read_to_string(self.started_at())
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    pub fn read_exit(&self) -> Option<ExitRecord> {
        serde_json::from_slice(&std::fs::read(self.exit()).ok()?).ok()
    }
}

/// How a container ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExitRecord {
    pub exit_code: i32,
    /// The signal that killed it, if one did.
    #[serde(default)]
    pub signal: Option<i32>,
    /// Nanoseconds since the epoch.
    pub finished_at: i64,
    /// `Completed`, `Error` or `OOMKilled`.
    pub reason: String,
}

impl ExitRecord {
    pub fn reason_for(exit_code: i32, oom_killed: bool) -> &'static str {
        if oom_killed {
            "OOMKilled"
        } else if exit_code == 0 {
            "Completed"
        } else {
            "Error"
        }
    }
}

/// Writes `contents` to `path` through a temporary file in the same directory, then renames it.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

/// Nanoseconds since the Unix epoch, now.
pub fn now_ns() -> i64 {
    let now = jiff::Timestamp::now();
    i64::try_from(now.as_nanosecond()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_record_round_trips_and_reasons_follow_the_code() {
        let dir = tempfile::tempdir().unwrap();
        let files = StateFiles::new(dir.path());
        let record = ExitRecord {
            exit_code: 137,
            signal: Some(9),
            finished_at: 42,
            reason: ExitRecord::reason_for(137, true).into(),
        };
        write_atomically(&files.exit(), &serde_json::to_vec(&record).unwrap()).unwrap();
        assert_eq!(files.read_exit(), Some(record));
        assert_eq!(ExitRecord::reason_for(0, false), "Completed");
        assert_eq!(ExitRecord::reason_for(3, false), "Error");
    }
}
