//! A fake OCI runtime that records every call (for unit tests of the logic above it).

use std::path::Path;
use std::sync::Mutex;

use super::{CreateStdio, ExecOptions, OciRuntime, OciRuntimeError, OciState};

/// Records calls as words (`"kill c1 TERM"`); `state` answers `status` for every container.
#[derive(Debug, Default)]
pub struct RecordingOciRuntime {
    calls: Mutex<Vec<String>>,
    status: Mutex<String>,
}

impl RecordingOciRuntime {
    pub fn new() -> Self {
        Self {
            calls: Mutex::new(Vec::new()),
            status: Mutex::new("running".into()),
        }
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn set_status(&self, status: &str) {
        if let Ok(mut s) = self.status.lock() {
            *s = status.to_string();
        }
    }

    fn record(&self, call: String) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call);
        }
    }
}

impl OciRuntime for RecordingOciRuntime {
    fn create(
        &self,
        id: &str,
        bundle: &Path,
        pid_file: &Path,
        _stdio: CreateStdio,
    ) -> Result<(), OciRuntimeError> {
        self.record(format!(
            "create {id} {} {}",
            bundle.display(),
            pid_file.display()
        ));
        Ok(())
    }
    fn start(&self, id: &str) -> Result<(), OciRuntimeError> {
        self.record(format!("start {id}"));
        Ok(())
    }
    fn kill(&self, id: &str, signal: &str, all: bool) -> Result<(), OciRuntimeError> {
        self.record(format!(
            "kill {id} {signal}{}",
            if all { " all" } else { "" }
        ));
        Ok(())
    }
    fn delete(&self, id: &str, force: bool) -> Result<(), OciRuntimeError> {
        self.record(format!("delete {id}{}", if force { " force" } else { "" }));
        Ok(())
    }
    fn state(&self, id: &str) -> Result<OciState, OciRuntimeError> {
        self.record(format!("state {id}"));
        Ok(OciState {
            id: id.to_string(),
            status: self.status.lock().map(|s| s.clone()).unwrap_or_default(),
            pid: 0,
            bundle: String::new(),
        })
    }
    fn update(
        &self,
        id: &str,
        resources: &oci_spec::runtime::LinuxResources,
    ) -> Result<(), OciRuntimeError> {
        let document = serde_json::to_string(resources).unwrap_or_default();
        self.record(format!("update {id} {document}"));
        Ok(())
    }
    fn exec_command(
        &self,
        id: &str,
        process_file: &Path,
        _options: &ExecOptions,
    ) -> std::process::Command {
        self.record(format!("exec {id} {}", process_file.display()));
        std::process::Command::new("true")
    }
}
