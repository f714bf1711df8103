//! Pod sandboxes: a pause process holding the network, IPC and UTS namespaces, and its CNI network.
//!
//! Each sandbox lives in `<root>/sandboxes/<id>/`: `sandbox.json` (the record), `hostname`,
//! `resolv.conf`, `pause.log`, and `netns`, the pause process's network namespace bind-mounted so
//! that it has a stable path for CNI and containers. `open` re-adopts what an earlier run left.

mod filter;
mod namespace_plan;
mod netns_mount;
mod pause_process;
mod pod_files;
mod record;
mod remove_sandbox;
mod run_sandbox;
mod status;
mod stop_sandbox;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use k8s_cri::v1 as cri;
use tokio::sync::RwLock;

pub use filter::SandboxFilter;
pub use namespace_plan::{NamespacePlan, PidMode};
pub use netns_mount::is_bound as netns_is_bound;
pub use pause_process::PauseIdentity;
pub use pod_files::resolv_conf_content;
pub use record::SandboxRecord;

use crate::cni::{BinaryPluginExec, PluginExec, PodNetwork};
use crate::{RuntimeError, RuntimeOptions, RuntimePaths};

/// Every sandbox of this node, in memory and under `<root>/sandboxes`.
pub struct Sandboxes {
    dir: PathBuf,
    self_exe: PathBuf,
    /// The node's pod network (its conflist appears once the pod CIDR is known).
    pub network: PodNetwork,
    records: RwLock<HashMap<String, SandboxRecord>>,
    /// `name_namespace_uid_attempt` of sandboxes being created.
    pending_names: Mutex<HashSet<String>>,
}

/// What containers need to join a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxInfo {
    pub id: String,
    /// The pause process; its namespaces are the pod's.
    pub pid: i32,
    /// Namespace files containers join (`/proc/<pid>/ns/net` or a bind mount of it); `None` for host namespaces.
    pub netns_path: Option<PathBuf>,
    pub ipcns_path: Option<PathBuf>,
    pub utsns_path: Option<PathBuf>,
    /// The pod's PID namespace (`/proc/<pause>/ns/pid_for_children`) when the config asks for one
    /// (NamespaceMode POD); `None` otherwise: then `host_pid` says whether containers use the
    /// host's, else each container gets its own.
    pub pidns_path: Option<PathBuf>,
    /// hostPID (NamespaceMode NODE).
    pub host_pid: bool,
    /// The config the kubelet ran it with (metadata, labels, annotations, log_directory, linux).
    pub config: cri::PodSandboxConfig,
    /// Files bind-mounted into every container of the sandbox.
    pub hostname_file: PathBuf,
    pub resolv_conf: Option<PathBuf>,
    /// `cgroup_parent` from the config (pod-level cgroup).
    pub cgroup_parent: String,
    pub ready: bool,
    /// The pod's IPs (empty for host-network pods and after StopPodSandbox).
    pub ips: Vec<String>,
}

impl Sandboxes {
    pub async fn open(
        paths: &RuntimePaths,
        options: &RuntimeOptions,
    ) -> Result<Self, RuntimeError> {
        let exec = Arc::new(BinaryPluginExec {
            bin_dir: options.cni_bin_dir.clone(),
        });
        let mut sandboxes = Self::open_with(paths, options, exec).await?;
        sandboxes.network = sandboxes.network.with_masquerade(Arc::new(
            crate::cni::IptablesMasquerade::for_cluster(options.cluster_cidr.clone()),
        ));
        Ok(sandboxes)
    }

    /// `open` with the given way of running CNI plugins.
    pub async fn open_with(
        paths: &RuntimePaths,
        options: &RuntimeOptions,
        exec: Arc<dyn PluginExec>,
    ) -> Result<Self, RuntimeError> {
        let dir = paths.sandboxes();
        tokio::fs::create_dir_all(&dir).await?;
        let network = PodNetwork::open_with_mtu(
            &paths.cni_conf_dir(),
            &paths.cni_state_dir(),
            exec,
            options.pod_mtu,
        );
        let records = load_records(&dir).await?;
        Ok(Self {
            dir,
            self_exe: options.self_exe.clone(),
            network,
            records: RwLock::new(records),
            pending_names: Mutex::new(HashSet::new()),
        })
    }

    fn dir_of(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// A sandbox by id (full or unique prefix).
    pub async fn get(&self, id: &str) -> Result<SandboxInfo, RuntimeError> {
        let record = self.record(id).await?;
        Ok(self.info(&record))
    }

    /// Every sandbox, as containers see them.
    pub async fn list(&self) -> Vec<SandboxInfo> {
        let records = self.records.read().await;
        records.values().map(|record| self.info(record)).collect()
    }

    async fn record(&self, id: &str) -> Result<SandboxRecord, RuntimeError> {
        let records = self.records.read().await;
        if let Some(record) = records.get(id) {
            return Ok(record.clone());
        }
        let mut matching = records
            .values()
            .filter(|record| !id.is_empty() && record.id.starts_with(id));
        match (matching.next(), matching.next()) {
            (Some(record), None) => Ok(record.clone()),
            (Some(_), Some(_)) => Err(RuntimeError::InvalidArgument(format!(
                "sandbox id prefix {id:?} is ambiguous"
            ))),
            (None, _) => Err(RuntimeError::NotFound(format!("sandbox {id}"))),
        }
    }

    fn info(&self, record: &SandboxRecord) -> SandboxInfo {
        let dir = self.dir_of(&record.id);
        let plan = record.namespaces;
        let pause = record.pause;
        let resolv_conf = dir.join(pod_files::RESOLV_CONF_FILE);
        SandboxInfo {
            id: record.id.clone(),
            pid: pause.pid,
            netns_path: (!plan.host_network).then(|| dir.join(netns_mount::NETNS_FILE)),
            ipcns_path: (!plan.host_ipc).then(|| pause.namespace_file("ipc")),
            utsns_path: (!plan.host_network).then(|| pause.namespace_file("uts")),
            pidns_path: (plan.pid == PidMode::Pod)
                .then(|| pause.namespace_file("pid_for_children")),
            host_pid: plan.pid == PidMode::Node,
            config: record.config.clone(),
            hostname_file: dir.join(pod_files::HOSTNAME_FILE),
            resolv_conf: resolv_conf.exists().then_some(resolv_conf),
            cgroup_parent: record
                .config
                .linux
                .as_ref()
                .map(|linux| linux.cgroup_parent.clone())
                .unwrap_or_default(),
            ready: is_ready(record),
            ips: record.ips.0.clone(),
        }
    }
}

/// READY while not stopped and the pause process it started is still the one running.
fn is_ready(record: &SandboxRecord) -> bool {
    !record.stopped && record.pause.is_alive()
}

async fn load_records(dir: &Path) -> Result<HashMap<String, SandboxRecord>, RuntimeError> {
    let mut records = HashMap::new();
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        match SandboxRecord::load(&entry.path()) {
            Ok(record) if record.id == entry.file_name().to_string_lossy() => {
                tracing::info!(id = %record.id, ready = is_ready(&record), "re-adopted sandbox");
                records.insert(record.id.clone(), record);
            }
            Ok(_) => {
                tracing::warn!(dir = %entry.path().display(), "sandbox record names another id")
            }
            Err(error) => {
                tracing::warn!(dir = %entry.path().display(), %error, "unreadable sandbox")
            }
        }
    }
    Ok(records)
}
