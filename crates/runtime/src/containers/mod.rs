//! Containers: an OCI bundle each, run by the OCI runtime under an `r8s shim`.
//!
//! A container's directory `<root>/containers/<id>` is its bundle (`config.json`, the overlay
//! `rootfs` with `upper`/`work`), its record (`record.json`, written at creation) and the shim's
//! state files. The in-memory map only holds the records; the state (created, running, exited)
//! is read from the shim's files each time, so re-adopting after a restart is reading the records.

mod capabilities;
mod create;
mod exec_sync;
mod image_files;
mod lifecycle;
mod observed;
mod process_args;
mod record;
mod resources;
mod rootfs;
mod spec;
pub(crate) mod stats;
mod status;
mod user;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::RwLock;

pub use observed::Observed;
pub use record::ContainerRecord;
pub use spec::{build_spec, cgroups_path, SpecInputs};
pub use user::ResolvedUser;

use crate::oci_runtime::{OciRuntime, OciRuntimeError, Runc};
use crate::{RuntimeError, RuntimeOptions, RuntimePaths};

/// Every container of this node, in memory and under `<root>/containers`.
pub struct Containers {
    root: PathBuf,
    options: RuntimeOptions,
    runtime_root: PathBuf,
    oci: Arc<dyn OciRuntime>,
    records: RwLock<HashMap<String, ContainerRecord>>,
    /// Names (`sandbox id`, `name`, `attempt`) whose creation is under way, so that two
    /// creations of one name cannot both succeed while different names are created in parallel.
    creating: std::sync::Mutex<std::collections::HashSet<(String, String, u32)>>,
}

impl Containers {
    pub async fn open(
        paths: &RuntimePaths,
        options: &RuntimeOptions,
    ) -> Result<Self, RuntimeError> {
        let oci = Arc::new(Runc::new(
            options.oci_runtime.clone(),
            paths.oci_runtime_root(),
        ));
        Self::open_with(paths, options, oci).await
    }

    /// Opens with a given OCI runtime; re-adopts every container with a record, never restarting
    /// anything, and clears directories that a creation interrupted left without one.
    pub async fn open_with(
        paths: &RuntimePaths,
        options: &RuntimeOptions,
        oci: Arc<dyn OciRuntime>,
    ) -> Result<Self, RuntimeError> {
        let root = paths.containers();
        tokio::fs::create_dir_all(&root).await?;
        let mut records = HashMap::new();
        let mut entries = tokio::fs::read_dir(&root).await?;
        while let Some(entry) = entries.next_entry().await? {
            let dir = entry.path();
            if !entry.file_type().await?.is_dir() {
                continue;
            }
            match ContainerRecord::load(&dir) {
                Ok(record) => {
                    records.insert(record.id.clone(), record);
                }
                Err(error) => {
                    tracing::warn!(dir = %dir.display(), %error, "removing a container directory without a record");
                    let _ = rootfs::unmount(&dir.join("rootfs"));
                    let _ = tokio::fs::remove_dir_all(&dir).await;
                }
            }
        }
        tracing::info!(containers = records.len(), "containers re-adopted");
        Ok(Self {
            root,
            options: options.clone(),
            runtime_root: paths.oci_runtime_root(),
            oci,
            records: RwLock::new(records),
            creating: std::sync::Mutex::new(std::collections::HashSet::new()),
        })
    }

    fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// The record of a container by id or unique id prefix.
    pub async fn record(&self, id: &str) -> Result<ContainerRecord, RuntimeError> {
        let records = self.records.read().await;
        if let Some(record) = records.get(id) {
            return Ok(record.clone());
        }
        let mut matches = records
            .values()
            .filter(|r| !id.is_empty() && r.id.starts_with(id));
        match (matches.next(), matches.next()) {
            (Some(record), None) => Ok(record.clone()),
            (Some(_), Some(_)) => Err(RuntimeError::InvalidArgument(format!(
                "container id prefix {id} is ambiguous"
            ))),
            _ => Err(RuntimeError::NotFound(format!("container {id}"))),
        }
    }

    /// The container's state from its shim's files.
    pub fn observe(&self, id: &str) -> Observed {
        observed::observe(&self.dir(id), id)
    }

    /// Stops (SIGTERM, then SIGKILL after `timeout`) every running container of a sandbox.
    pub async fn stop_in_sandbox(
        &self,
        sandbox_id: &str,
        timeout: Duration,
    ) -> Result<(), RuntimeError> {
        for id in self.ids_in_sandbox(sandbox_id).await {
            self.stop(&id, timeout).await?;
        }
        Ok(())
    }

    /// Removes every container of a sandbox (stopping any still running).
    pub async fn remove_in_sandbox(&self, sandbox_id: &str) -> Result<(), RuntimeError> {
        for id in self.ids_in_sandbox(sandbox_id).await {
            self.remove(&id).await?;
        }
        Ok(())
    }

    async fn ids_in_sandbox(&self, sandbox_id: &str) -> Vec<String> {
        self.records
            .read()
            .await
            .values()
            .filter(|r| r.sandbox_id == sandbox_id)
            .map(|r| r.id.clone())
            .collect()
    }

    /// The host PID of a running container's init process (exec, port-forward, stats).
    pub async fn pid(&self, id: &str) -> Result<i32, RuntimeError> {
        let record = self.record(id).await?;
        let observed = self.observe(&record.id);
        match (observed.state, observed.init_pid) {
            (k8s_cri::v1::ContainerState::ContainerRunning, Some(pid)) => Ok(pid),
            _ => Err(RuntimeError::Failed(format!(
                "container {} is not running",
                record.id
            ))),
        }
    }

    /// Runs a blocking OCI runtime call off the async threads.
    async fn oci_call<T, F>(&self, call: F) -> Result<T, OciRuntimeError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn OciRuntime) -> Result<T, OciRuntimeError> + Send + 'static,
    {
        let oci = self.oci.clone();
        match tokio::task::spawn_blocking(move || call(oci.as_ref())).await {
            Ok(result) => result,
            Err(e) => Err(OciRuntimeError::Spawn {
                command: "oci runtime call".into(),
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }
}

fn failed(error: OciRuntimeError) -> RuntimeError {
    RuntimeError::Failed(error.to_string())
}
