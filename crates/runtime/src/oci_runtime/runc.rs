//! `OciRuntime` by running the runc binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{CreateStdio, ExecOptions, OciRuntime, OciRuntimeError, OciState};

/// runc with its state under `root` (`runc --root`).
#[derive(Debug, Clone)]
pub struct Runc {
    binary: PathBuf,
    root: PathBuf,
}

impl Runc {
    pub fn new(binary: impl Into<PathBuf>, root: impl Into<PathBuf>) -> Self {
        Self {
            binary: binary.into(),
            root: root.into(),
        }
    }

    /// `runc --root <root> <args...>`.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = Command::new(&self.binary);
        command.arg("--root").arg(&self.root).args(args);
        command
    }

    fn run(&self, mut command: Command, input: Option<&[u8]>) -> Result<Vec<u8>, OciRuntimeError> {
        let described = describe(&command);
        command
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|source| OciRuntimeError::Spawn {
            command: described.clone(),
            source,
        })?;
        if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin
                .write_all(input)
                .map_err(|source| OciRuntimeError::Spawn {
                    command: described.clone(),
                    source,
                })?;
        }
        let output = child
            .wait_with_output()
            .map_err(|source| OciRuntimeError::Spawn {
                command: described.clone(),
                source,
            })?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(OciRuntimeError::Failed {
                command: described,
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            })
        }
    }
}

fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

impl OciRuntime for Runc {
    fn create(
        &self,
        id: &str,
        bundle: &Path,
        pid_file: &Path,
        stdio: CreateStdio,
    ) -> Result<(), OciRuntimeError> {
        // runc's own errors go to a log file: its stderr is the container's.
        let log = bundle.join("runc.log");
        let mut command = Command::new(&self.binary);
        command
            .arg("--root")
            .arg(&self.root)
            .arg("--log")
            .arg(&log)
            .arg("create")
            .arg("--bundle")
            .arg(bundle)
            .arg("--pid-file")
            .arg(pid_file);
        if let Some(socket) = &stdio.console_socket {
            command.arg("--console-socket").arg(socket);
        }
        command
            .arg(id)
            .stdin(stdio.stdin)
            .stdout(stdio.stdout)
            .stderr(stdio.stderr);
        let described = describe(&command);
        let status = command.status().map_err(|source| OciRuntimeError::Spawn {
            command: described.clone(),
            source,
        })?;
        if status.success() {
            Ok(())
        } else {
            let stderr = std::fs::read_to_string(&log).unwrap_or_default();
            Err(OciRuntimeError::Failed {
                command: described,
                status: status.to_string(),
                stderr: last_error_line(&stderr),
            })
        }
    }

    fn start(&self, id: &str) -> Result<(), OciRuntimeError> {
        self.run(self.command(["start", id]), None).map(drop)
    }

    fn kill(&self, id: &str, signal: &str, all: bool) -> Result<(), OciRuntimeError> {
        let mut args = vec!["kill"];
        if all {
            args.push("--all");
        }
        args.extend([id, signal]);
        self.run(self.command(args), None).map(drop)
    }

    fn delete(&self, id: &str, force: bool) -> Result<(), OciRuntimeError> {
        let mut args = vec!["delete"];
        if force {
            args.push("--force");
        }
        args.push(id);
        self.run(self.command(args), None).map(drop)
    }

    fn state(&self, id: &str) -> Result<OciState, OciRuntimeError> {
        let output = self.run(self.command(["state", id]), None)?;
        serde_json::from_slice(&output).map_err(|source| OciRuntimeError::State {
            id: id.to_string(),
            source,
        })
    }

    fn update(
        &self,
        id: &str,
        resources: &oci_spec::runtime::LinuxResources,
    ) -> Result<(), OciRuntimeError> {
        let document = serde_json::to_vec(resources).map_err(|source| OciRuntimeError::State {
            id: id.to_string(),
            source,
        })?;
        self.run(
            self.command(["update", "--resources", "-", id]),
            Some(&document),
        )
        .map(drop)
    }

    fn exec_command(&self, id: &str, process_file: &Path, options: &ExecOptions) -> Command {
        let mut command = self.command(["exec"]);
        command.arg("--process").arg(process_file);
        if options.detach {
            command.arg("--detach");
        }
        if let Some(socket) = &options.console_socket {
            command.arg("--console-socket").arg(socket);
        }
        if let Some(pid_file) = &options.pid_file {
            command.arg("--pid-file").arg(pid_file);
        }
        command.arg(id);
        command
    }
}

/// runc logs lines like `{"level":"error","msg":"...","time":"..."}`; the last message says why.
fn last_error_line(log: &str) -> String {
    log.lines()
        .rev()
        .find_map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).ok()?;
            value.get("msg")?.as_str().map(str::to_string)
        })
        .unwrap_or_else(|| log.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(command: &Command) -> Vec<String> {
        command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn exec_command_names_the_process_file_and_options() {
        let runc = Runc::new("/usr/sbin/runc", "/run/r8s/runc");
        let command = runc.exec_command(
            "c1",
            Path::new("/tmp/p.json"),
            &ExecOptions {
                detach: true,
                console_socket: Some("/tmp/console.sock".into()),
                pid_file: None,
            },
        );
        assert_eq!(
            args(&command),
            [
                "--root",
                "/run/r8s/runc",
                "exec",
                "--process",
                "/tmp/p.json",
                "--detach",
                "--console-socket",
                "/tmp/console.sock",
                "c1"
            ]
        );
    }

    #[test]
    fn last_error_line_takes_the_last_message() {
        let log = "{\"level\":\"warning\",\"msg\":\"a\"}\n{\"level\":\"error\",\"msg\":\"exec: \\\"nope\\\": not found\"}\n";
        assert_eq!(last_error_line(log), "exec: \"nope\": not found");
    }
}
