//! Pod sandboxes: a pause process holding the network, IPC and UTS namespaces, and its CNI network.

use std::path::PathBuf;

use k8s_cri::v1 as cri;

use crate::{RuntimeError, RuntimeOptions, RuntimePaths};

/// Every sandbox of this node, in memory and under `<root>/sandboxes`.
pub struct Sandboxes {}

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
    /// Share the host's PID namespace (hostPID); otherwise each container has its own unless the
    /// config asks for the pod's (NamespaceMode POD: then the pause process's).
    pub pidns_path: Option<PathBuf>,
    /// The config the kubelet ran it with (metadata, labels, annotations, log_directory, linux).
    pub config: cri::PodSandboxConfig,
    /// Files bind-mounted into every container of the sandbox.
    pub hostname_file: PathBuf,
    pub resolv_conf: Option<PathBuf>,
    /// `cgroup_parent` from the config (pod-level cgroup).
    pub cgroup_parent: String,
    pub ready: bool,
}

impl Sandboxes {
    pub async fn open(_paths: &RuntimePaths, _options: &RuntimeOptions) -> Result<Self, RuntimeError> {
        Ok(Self {})
    }

    /// A sandbox by id (full or unique prefix).
    pub async fn get(&self, id: &str) -> Result<SandboxInfo, RuntimeError> {
        Err(RuntimeError::NotFound(format!("sandbox {id}")))
    }
}
