//! The CRI runtime: images, sandboxes and containers behind the CRI v1 gRPC services.
//!
//! `serve` answers CRI v1 `RuntimeService` and `ImageService` on a unix socket. Containers run as
//! OCI bundles under an OCI runtime binary (runc), each supervised by its own `r8s shim` process
//! that outlives this one; sandboxes hold their namespaces with an `r8s pause` process; pod
//! networks come from real CNI plugins.
//!
//! The shim and the pause process are separate entry points (`shim::main`, `pause::main`) that the
//! `r8s` binary calls before it starts any async runtime.
//!
//! This crate makes syscalls (mounts, namespaces, signals) through `nix`; it has no `unsafe` of its own.
#![forbid(unsafe_code)]

pub mod cni;
pub mod containers;
mod error;
pub mod grpc;
pub mod images;
pub mod oci_runtime;
mod paths;
pub mod pause;
pub mod sandboxes;
pub mod shim;
mod state;
pub mod streaming;

pub use error::RuntimeError;
pub use paths::RuntimePaths;
pub use state::Runtime;

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

/// How the runtime is set up; everything lives under `root` (`<data-dir>/agent`).
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// `<data-dir>/agent`.
    pub root: PathBuf,
    /// The `r8s` binary, started as `r8s shim ...` and `r8s pause`.
    pub self_exe: PathBuf,
    /// The OCI runtime binary (`runc`).
    pub oci_runtime: PathBuf,
    /// Where the CNI plugins are (`/usr/lib/cni`).
    pub cni_bin_dir: PathBuf,
    /// Registries reached over plain HTTP (`host:port`).
    pub insecure_registries: Vec<String>,
    /// The whole pod network (every node's pod CIDR): pods keep their address towards it. `None`:
    /// only the node's own pod CIDR is left unmasqueraded.
    pub cluster_cidr: Option<String>,
    /// The MTU of pods' interfaces and the bridge (an overlay's headers subtracted); `None`: the
    /// CNI bridge plugin's default.
    pub pod_mtu: Option<u32>,
}

impl RuntimeOptions {
    /// Defaults for a data directory: runc from PATH and Debian's CNI plugins.
    pub fn for_data_dir(data_dir: &std::path::Path, self_exe: PathBuf) -> Self {
        Self {
            root: data_dir.join("agent"),
            self_exe,
            oci_runtime: PathBuf::from("runc"),
            cni_bin_dir: PathBuf::from("/usr/lib/cni"),
            insecure_registries: Vec::new(),
            cluster_cidr: None,
            pod_mtu: None,
        }
    }
}

/// Opens the runtime's state (re-adopting running shims and sandboxes), imports every archive in
/// `<root>/images`, and serves CRI on `<root>/run/r8s.sock` until `cancel`.
pub async fn serve(options: RuntimeOptions, cancel: CancellationToken) -> Result<(), RuntimeError> {
    let runtime = std::sync::Arc::new(Runtime::open(options).await?);
    grpc::serve(runtime, cancel).await
}
