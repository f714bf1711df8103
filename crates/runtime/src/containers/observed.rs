//! A container's state as its directory shows it (the shim's files) and whether its shim lives.

use std::path::Path;

use k8s_cri::v1 as cri;
use nix::sys::signal::kill;
use nix::unistd::Pid;

use crate::shim::state_files::{ExitRecord, StateFiles};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub state: cri::ContainerState,
    pub init_pid: Option<i32>,
    pub shim_pid: Option<i32>,
    pub started_at: i64,
    pub exit: Option<ExitRecord>,
}

/// Whether `pid` is a live `r8s shim` for container `id` (not a reused PID).
pub fn shim_alive(pid: i32, id: &str) -> bool {
    if kill(Pid::from_raw(pid), None).is_err() {
        return false;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let words: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    words.contains(&b"shim".as_slice()) && words.contains(&id.as_bytes())
}

pub fn observe(dir: &Path, id: &str) -> Observed {
    let files = StateFiles::new(dir);
    let init_pid = StateFiles::read_pid(&files.init_pid());
    let shim_pid = StateFiles::read_pid(&files.shim_pid());
    let started_at = files.read_started_at().unwrap_or(0);
    if let Some(exit) = files.read_exit() {
        return Observed {
            state: cri::ContainerState::ContainerExited,
            init_pid,
            shim_pid,
            started_at,
            exit: Some(exit),
        };
    }
    let alive = shim_pid.is_some_and(|pid| shim_alive(pid, id));
    let (state, exit) = match (alive, init_pid, started_at) {
        (true, Some(_), 0) => (cri::ContainerState::ContainerCreated, None),
        (true, Some(_), _) => (cri::ContainerState::ContainerRunning, None),
        (true, None, _) => (cri::ContainerState::ContainerCreated, None),
        // The shim died without recording an exit: nobody can tell how the container ended.
        (false, _, _) => (
            cri::ContainerState::ContainerExited,
            Some(ExitRecord {
                exit_code: 255,
                signal: None,
                finished_at: std::fs::metadata(files.shim_pid())
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_nanos() as i64)
                    .unwrap_or(0),
                reason: "Unknown".into(),
            }),
        ),
    };
    Observed {
        state,
        init_pid,
        shim_pid,
        started_at,
        exit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shim::state_files::write_atomically;

    #[test]
    fn state_follows_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let files = StateFiles::new(dir.path());
        // This test process stands in for a shim of a container named like its own argv.
        let me = std::process::id() as i32;
        write_atomically(&files.shim_pid(), me.to_string().as_bytes()).unwrap();
        write_atomically(&files.init_pid(), b"1").unwrap();
        let observed = observe(dir.path(), "no-such-container");
        assert_eq!(observed.state, cri::ContainerState::ContainerExited);
        assert_eq!(observed.exit.unwrap().reason, "Unknown");

        write_atomically(&files.started_at(), b"5").unwrap();
        let exit = ExitRecord {
            exit_code: 3,
            signal: None,
            finished_at: 9,
            reason: "Error".into(),
        };
        write_atomically(&files.exit(), &serde_json::to_vec(&exit).unwrap()).unwrap();
        let observed = observe(dir.path(), "no-such-container");
        assert_eq!(observed.state, cri::ContainerState::ContainerExited);
        assert_eq!(observed.started_at, 5);
        assert_eq!(observed.exit, Some(exit));
    }
}
