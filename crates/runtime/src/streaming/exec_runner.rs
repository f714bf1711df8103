//! Who runs an exec'd command: runc inside the container in production; the host itself in
//! tests (and wherever no container runtime is at hand).

use std::path::PathBuf;
use std::process::Command;

pub trait ExecRunner: Send + Sync {
    /// The command that runs `cmd` in container `container_id`, in the foreground; with `tty`
    /// it gets a terminal of its own fed from the terminal the caller puts on its stdio. The
    /// caller chooses the stdio.
    fn command(&self, container_id: &str, cmd: &[String], tty: bool) -> Command;
}

/// `runc --root <root> exec [--tty] <id> <cmd...>`: runc copies between its stdio and the
/// container's terminal, and re-reads its own terminal's size on SIGWINCH.
#[derive(Debug, Clone)]
pub struct RuncExecRunner {
    binary: PathBuf,
    root: PathBuf,
}

impl RuncExecRunner {
    pub fn new(binary: impl Into<PathBuf>, root: impl Into<PathBuf>) -> Self {
        Self {
            binary: binary.into(),
            root: root.into(),
        }
    }
}

impl ExecRunner for RuncExecRunner {
    fn command(&self, container_id: &str, cmd: &[String], tty: bool) -> Command {
        let mut command = Command::new(&self.binary);
        command.arg("--root").arg(&self.root).arg("exec");
        if tty {
            command.arg("--tty");
        }
        command.arg(container_id).args(cmd);
        command
    }
}

/// Runs the command on the host, ignoring the container id.
#[derive(Debug, Clone, Default)]
pub struct HostExecRunner;

impl ExecRunner for HostExecRunner {
    fn command(&self, _container_id: &str, cmd: &[String], _tty: bool) -> Command {
        let mut command = Command::new(cmd.first().map(String::as_str).unwrap_or("/bin/true"));
        command.args(cmd.iter().skip(1));
        command
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(command: &Command) -> Vec<String> {
        std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|w| w.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn runc_exec_names_the_root_the_terminal_and_the_container() {
        let runner = RuncExecRunner::new("/usr/sbin/runc", "/agent/run/runc");
        let cmd = vec!["sh".to_string(), "-c".to_string(), "exit 3".to_string()];
        assert_eq!(
            words(&runner.command("c1", &cmd, true)),
            [
                "/usr/sbin/runc",
                "--root",
                "/agent/run/runc",
                "exec",
                "--tty",
                "c1",
                "sh",
                "-c",
                "exit 3"
            ]
        );
        assert_eq!(words(&runner.command("c1", &cmd, false))[4], "c1");
    }
}
