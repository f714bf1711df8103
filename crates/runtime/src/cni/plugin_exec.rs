//! Running one CNI plugin binary: the effect behind `PluginExec`, and a recording fake.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use serde_json::Value;

use super::CniError;

/// One plugin invocation: the `CNI_*` environment and the configuration on stdin.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginCall {
    /// The plugin's `type`, i.e. its binary name.
    pub plugin: String,
    /// `ADD`, `CHECK` or `DEL`.
    pub command: String,
    pub container_id: String,
    /// Empty when the namespace is gone (DEL only).
    pub netns: String,
    pub ifname: String,
    /// `CNI_ARGS`: `K=V;K=V`.
    pub args: String,
    pub stdin: Value,
}

/// Runs a CNI plugin; `Ok(None)` when it printed nothing (DEL, CHECK).
#[async_trait::async_trait]
pub trait PluginExec: Send + Sync {
    async fn exec(&self, call: &PluginCall) -> Result<Option<Value>, CniError>;
}

/// Runs the plugin binaries of a directory (`CNI_PATH`).
#[derive(Debug, Clone)]
pub struct BinaryPluginExec {
    pub bin_dir: PathBuf,
}

#[async_trait::async_trait]
impl PluginExec for BinaryPluginExec {
    async fn exec(&self, call: &PluginCall) -> Result<Option<Value>, CniError> {
        let bin_dir = self.bin_dir.clone();
        let call = call.clone();
        let plugin = call.plugin.clone();
        tokio::task::spawn_blocking(move || run_plugin_binary(&bin_dir, &call))
            .await
            .map_err(|e| CniError::Exec {
                plugin,
                source: std::io::Error::other(e.to_string()),
            })?
    }
}

fn run_plugin_binary(
    bin_dir: &std::path::Path,
    call: &PluginCall,
) -> Result<Option<Value>, CniError> {
    let exec_error = |source| CniError::Exec {
        plugin: call.plugin.clone(),
        source,
    };
    if call.plugin.contains('/') || call.plugin.is_empty() {
        return Err(CniError::BadConfig(format!(
            "plugin type {:?}",
            call.plugin
        )));
    }
    let stdin = serde_json::to_vec(&call.stdin).map_err(|e| CniError::BadConfig(e.to_string()))?;
    let mut child = Command::new(bin_dir.join(&call.plugin))
        .env("CNI_COMMAND", &call.command)
        .env("CNI_CONTAINERID", &call.container_id)
        .env("CNI_NETNS", &call.netns)
        .env("CNI_IFNAME", &call.ifname)
        .env("CNI_ARGS", &call.args)
        .env("CNI_PATH", bin_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(exec_error)?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(&stdin).map_err(exec_error)?;
    }
    let output = child.wait_with_output().map_err(exec_error)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(plugin_failure(
            call,
            &stdout,
            &String::from_utf8_lossy(&output.stderr),
        ));
    }
    if stdout.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(&stdout)
        .map(Some)
        .map_err(|e| CniError::BadOutput {
            plugin: call.plugin.clone(),
            message: format!("{e}: {stdout}"),
        })
}

/// The CNI error object a failing plugin prints (`code`, `msg`, `details`), or its raw output.
fn plugin_failure(call: &PluginCall, stdout: &str, stderr: &str) -> CniError {
    let parsed: Option<Value> = serde_json::from_str(stdout).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let code = parsed
        .as_ref()
        .and_then(|v| v.get("code"))
        .and_then(Value::as_i64)
        .unwrap_or(999);
    let mut msg = field("msg");
    if msg.is_empty() {
        msg = format!("{} {}", stdout.trim(), stderr.trim())
            .trim()
            .to_owned();
    }
    let details = field("details");
    CniError::Plugin {
        plugin: call.plugin.clone(),
        command: call.command.clone(),
        code,
        msg,
        details: if details.is_empty() {
            details
        } else {
            format!(": {details}")
        },
    }
}

/// A fake that records every call and answers ADD with a canned result per plugin type (or
/// the `prevResult` it was given), CHECK and DEL with nothing.
#[derive(Debug, Default)]
pub struct RecordingPluginExec {
    pub calls: Mutex<Vec<PluginCall>>,
    pub add_results: Mutex<HashMap<String, Value>>,
    /// `(plugin, command)` pairs that fail.
    pub failures: Mutex<Vec<(String, String)>>,
}

impl RecordingPluginExec {
    pub fn answer_add(&self, plugin: &str, result: Value) {
        if let Ok(mut results) = self.add_results.lock() {
            results.insert(plugin.to_owned(), result);
        }
    }
    pub fn fail(&self, plugin: &str, command: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.push((plugin.to_owned(), command.to_owned()));
        }
    }
    pub fn recorded(&self) -> Vec<PluginCall> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl PluginExec for RecordingPluginExec {
    async fn exec(&self, call: &PluginCall) -> Result<Option<Value>, CniError> {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call.clone());
        }
        let failing = self
            .failures
            .lock()
            .map(|f| f.contains(&(call.plugin.clone(), call.command.clone())))
            .unwrap_or(false);
        if failing {
            return Err(CniError::Plugin {
                plugin: call.plugin.clone(),
                command: call.command.clone(),
                code: 11,
                msg: "injected failure".into(),
                details: String::new(),
            });
        }
        if call.command != "ADD" {
            return Ok(None);
        }
        let canned = self
            .add_results
            .lock()
            .ok()
            .and_then(|r| r.get(&call.plugin).cloned());
        Ok(Some(canned.unwrap_or_else(|| {
            call.stdin
                .get("prevResult")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"cniVersion": "1.0.0"}))
        })))
    }
}
