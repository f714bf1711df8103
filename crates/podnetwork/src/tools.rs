//! The effects: iproute2's `ip` and `bridge`, run in the agent's network namespace (or, for tests,
//! in a named one through `nsenter`), behind a trait with a recording fake.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use crate::PodNetworkError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Program {
    Ip,
    Bridge,
}

impl Program {
    pub fn name(self) -> &'static str {
        match self {
            Program::Ip => "ip",
            Program::Bridge => "bridge",
        }
    }
}

pub trait NetTools: Send + Sync {
    /// `<program> -json <args>`: a read.
    fn read_json(&self, program: Program, args: &[&str]) -> Result<String, PodNetworkError>;
    /// `<program> -force -batch -` with one command per line: every line runs; an error in any
    /// of them is reported after all ran.
    fn batch(&self, program: Program, lines: &[String]) -> Result<(), PodNetworkError>;
    /// `net.ipv4.ip_forward = 1` in the namespace the commands act on.
    fn enable_ip_forwarding(&self) -> Result<(), PodNetworkError>;
}

/// The real `ip` and `bridge`.
#[derive(Debug, Clone, Default)]
pub struct IpRoute2 {
    /// `None`: this process's network namespace; `Some(path)`: `nsenter --net=<path>`.
    netns: Option<PathBuf>,
}

impl IpRoute2 {
    /// Acts on the network namespace this process runs in.
    pub fn current_namespace() -> Self {
        Self { netns: None }
    }

    /// Acts on the namespace bind-mounted at `path` (`/run/netns/<name>`).
    pub fn in_namespace(path: impl Into<PathBuf>) -> Self {
        Self {
            netns: Some(path.into()),
        }
    }

    fn command(&self, program: &str) -> Command {
        match &self.netns {
            None => Command::new(program),
            Some(path) => {
                let mut command = Command::new("nsenter");
                command
                    .arg(format!("--net={}", path.display()))
                    .arg("--")
                    .arg(program);
                command
            }
        }
    }

    fn run(
        &self,
        program: &str,
        args: &[&str],
        input: Option<&str>,
    ) -> Result<String, PodNetworkError> {
        let spawn_error = |source| PodNetworkError::Spawn {
            program: program.to_owned(),
            source,
        };
        let mut child = self
            .command(program)
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(text.as_bytes()).map_err(spawn_error)?;
        }
        let output = child.wait_with_output().map_err(spawn_error)?;
        if !output.status.success() {
            return Err(PodNetworkError::Failed {
                program: format!("{program} {}", args.join(" ")),
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl NetTools for IpRoute2 {
    fn read_json(&self, program: Program, args: &[&str]) -> Result<String, PodNetworkError> {
        let mut all = vec!["-json"];
        all.extend_from_slice(args);
        self.run(program.name(), &all, None)
    }

    fn batch(&self, program: Program, lines: &[String]) -> Result<(), PodNetworkError> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut script = lines.join("\n");
        script.push('\n');
        tracing::debug!(program = program.name(), %script, "pod network batch");
        self.run(program.name(), &["-force", "-batch", "-"], Some(&script))
            .map(drop)
    }

    fn enable_ip_forwarding(&self) -> Result<(), PodNetworkError> {
        match &self.netns {
            // /proc/sys/net shows the namespace of the task that opens it: this process's.
            None => std::fs::write("/proc/sys/net/ipv4/ip_forward", "1")
                .map_err(PodNetworkError::Forwarding),
            Some(_) => self
                .run("sysctl", &["-q", "-w", "net.ipv4.ip_forward=1"], None)
                .map(drop),
        }
    }
}

/// Answers reads from a table (`"[]"` for anything not in it) and records every batch.
#[derive(Debug, Default)]
pub struct RecordingNetTools {
    pub answers: Mutex<HashMap<String, String>>,
    pub batches: Mutex<Vec<(Program, Vec<String>)>>,
    pub forwarding_enabled: Mutex<bool>,
}

impl RecordingNetTools {
    /// The answer to `<program> -json <args>`.
    pub fn answer(&self, program: Program, args: &[&str], json: &str) {
        self.answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(Self::key(program, args), json.to_owned());
    }

    fn key(program: Program, args: &[&str]) -> String {
        format!("{} {}", program.name(), args.join(" "))
    }

    /// The recorded batch lines, `ip route ...`/`bridge fdb ...`, in order.
    pub fn lines(&self) -> Vec<String> {
        self.batches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .flat_map(|(program, lines)| {
                lines.iter().map(move |l| format!("{} {l}", program.name()))
            })
            .collect()
    }
}

impl NetTools for RecordingNetTools {
    fn read_json(&self, program: Program, args: &[&str]) -> Result<String, PodNetworkError> {
        Ok(self
            .answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&Self::key(program, args))
            .cloned()
            .unwrap_or_else(|| "[]".to_owned()))
    }

    fn batch(&self, program: Program, lines: &[String]) -> Result<(), PodNetworkError> {
        if !lines.is_empty() {
            self.batches
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((program, lines.to_vec()));
        }
        Ok(())
    }

    fn enable_ip_forwarding(&self) -> Result<(), PodNetworkError> {
        *self
            .forwarding_enabled
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = true;
        Ok(())
    }
}
