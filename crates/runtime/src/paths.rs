//! The runtime's on-disk layout under `<data-dir>/agent`.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct RuntimePaths {
    root: PathBuf,
}

impl RuntimePaths {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// The CRI socket: `<root>/run/r8s.sock`.
    pub fn socket(&self) -> PathBuf {
        self.root.join("run").join("r8s.sock")
    }
    /// Archives imported at start (offline clusters).
    pub fn image_archives(&self) -> PathBuf {
        self.root.join("images")
    }
    /// Content-addressed blobs and the image index.
    pub fn content(&self) -> PathBuf {
        self.root.join("content")
    }
    /// Unpacked layers, one directory per layer chain id.
    pub fn snapshots(&self) -> PathBuf {
        self.root.join("snapshots")
    }
    /// One directory per sandbox: `<root>/sandboxes/<id>`.
    pub fn sandboxes(&self) -> PathBuf {
        self.root.join("sandboxes")
    }
    /// One directory per container: `<root>/containers/<id>` (bundle, rootfs, shim state).
    pub fn containers(&self) -> PathBuf {
        self.root.join("containers")
    }
    /// The CNI configuration r8s writes.
    pub fn cni_conf_dir(&self) -> PathBuf {
        self.root.join("etc").join("cni").join("net.d")
    }
    /// CNI plugins' own state (host-local IPAM leases).
    pub fn cni_state_dir(&self) -> PathBuf {
        self.root.join("run").join("cni")
    }
    /// The OCI runtime's state root (`runc --root`).
    pub fn oci_runtime_root(&self) -> PathBuf {
        self.root.join("run").join("runc")
    }
}
