//! CreateContainer: the rootfs, the bundle, the record, and a shim that runs `runc create`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_cri::v1 as cri;

use super::observed::shim_alive;
use super::record::ContainerRecord;
use super::rootfs::{self, RootfsDirs};
use super::spec::{self, SpecInputs};
use super::{user, Containers};
use crate::images::ResolvedImage;
use crate::sandboxes::SandboxInfo;
use crate::shim::state_files::{now_ns, StateFiles};
use crate::shim::ShimArgs;
use crate::RuntimeError;

/// How long `runc create` may take before CreateContainer gives up.
const CREATE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a supervisor that gave up may take to be seen gone once its launcher returned.
const SUPERVISOR_EXIT_GRACE: Duration = Duration::from_secs(5);

impl Containers {
    /// Creates a container in `sandbox` from `image`; returns its id. Its process waits for `start`.
    pub async fn create(
        &self,
        config: cri::ContainerConfig,
        sandbox: &SandboxInfo,
        image: &ResolvedImage,
    ) -> Result<String, RuntimeError> {
        let metadata = config.metadata.clone().ok_or_else(|| {
            RuntimeError::InvalidArgument("container config has no metadata".into())
        })?;
        if metadata.name.is_empty() {
            return Err(RuntimeError::InvalidArgument(
                "container name is empty".into(),
            ));
        }
        let _reservation = self.reserve_name(&sandbox.id, &metadata.name, metadata.attempt)?;
        if let Some(existing) = self.records.read().await.values().find(|r| {
            r.sandbox_id == sandbox.id
                && r.name() == metadata.name
                && r.attempt() == metadata.attempt
        }) {
            return Err(RuntimeError::AlreadyExists(format!(
                "container {}_{} in sandbox {} is reserved for {}",
                metadata.name, metadata.attempt, sandbox.id, existing.id
            )));
        }
        let id = hex::encode(rand::random::<[u8; 32]>());
        let dir = self.dir(&id);
        tokio::fs::create_dir_all(&dir).await?;
        match self.create_in(&id, &dir, config, sandbox, image).await {
            Ok(record) => {
                self.records.write().await.insert(id.clone(), record);
                Ok(id)
            }
            Err(error) => {
                self.discard(&id, &dir).await;
                Err(error)
            }
        }
    }

    /// Takes a container name for the time of its creation (the record takes it over after).
    fn reserve_name(
        &self,
        sandbox_id: &str,
        name: &str,
        attempt: u32,
    ) -> Result<NameReservation<'_>, RuntimeError> {
        let key = (sandbox_id.to_string(), name.to_string(), attempt);
        let mut creating = self
            .creating
            .lock()
            .map_err(|_| RuntimeError::Failed("container name reservations are poisoned".into()))?;
        if !creating.insert(key.clone()) {
            return Err(RuntimeError::AlreadyExists(format!(
                "container {name}_{attempt} in sandbox {sandbox_id} is being created"
            )));
        }
        Ok(NameReservation {
            containers: self,
            key,
        })
    }

    async fn create_in(
        &self,
        id: &str,
        dir: &Path,
        config: cri::ContainerConfig,
        sandbox: &SandboxInfo,
        image: &ResolvedImage,
    ) -> Result<ContainerRecord, RuntimeError> {
        let dirs = RootfsDirs::in_container_dir(dir);
        let overlay = rootfs::prepare(&image.layers, &dirs)?;

        let image_config = image.config.config().as_ref();
        let security = config
            .linux
            .as_ref()
            .and_then(|l| l.security_context.as_ref());
        let image_user = image_config
            .and_then(|c| c.user().clone())
            .unwrap_or_default();
        let user = user::resolve(security, &image_user, &image.layers)?;
        create_missing_mount_sources(&config).await?;
        let spec = spec::build_spec(&SpecInputs {
            id,
            config: &config,
            sandbox,
            image: image_config,
            rootfs: &dirs.rootfs,
            overlay: &overlay,
            user: &user,
        })?;
        spec.save(dir.join("config.json"))
            .map_err(|e| RuntimeError::Failed(format!("writing config.json: {e}")))?;

        let log_path = log_path(sandbox, &config);
        if let Some(parent) = log_path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent).await?;
        }
        let record = ContainerRecord {
            id: id.to_string(),
            sandbox_id: sandbox.id.clone(),
            image_ref: image.image_ref_for(
                config
                    .image
                    .as_ref()
                    .map(|spec| spec.image.as_str())
                    .unwrap_or_default(),
            ),
            image_id: image.id.clone(),
            log_path: log_path.clone(),
            cgroups_path: spec::cgroups_path(&sandbox.cgroup_parent, id),
            created_at: now_ns(),
            config,
        };
        record.save(dir)?;
        self.start_shim(id, dir, &log_path, &record.config).await?;
        Ok(record)
    }

    async fn start_shim(
        &self,
        id: &str,
        dir: &Path,
        log_path: &Path,
        config: &cri::ContainerConfig,
    ) -> Result<(), RuntimeError> {
        let args = ShimArgs {
            id: id.to_string(),
            bundle: dir.to_path_buf(),
            log: log_path.to_path_buf(),
            runtime: self.options.oci_runtime.clone(),
            runtime_root: self.runtime_root.clone(),
            supervise: false,
            stdin: config.stdin,
            stdin_once: config.stdin_once,
            tty: config.tty,
        };
        let mut command = std::process::Command::new(&self.options.self_exe);
        command
            .args(args.to_args())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // The first shim starts the detached one and exits once that one has created the
        // container or failed to: then the state files below say which.
        let mut launcher = command.spawn().map_err(|e| {
            RuntimeError::Failed(format!(
                "starting the shim {}: {e}",
                self.options.self_exe.display()
            ))
        })?;
        let launcher_pid = launcher.id();
        let waited = tokio::time::timeout(
            CREATE_TIMEOUT,
            tokio::task::spawn_blocking(move || launcher.wait()),
        )
        .await;
        if let Ok(Ok(Ok(status))) = &waited {
            if !status.success() {
                return Err(RuntimeError::Failed(format!(
                    "the shim exited with {status}"
                )));
            }
        }
        if waited.is_err() {
            // The blocked wait ends with the launcher.
            if let Ok(pid) = i32::try_from(launcher_pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            return Err(RuntimeError::Failed(format!(
                "creating container {id} timed out"
            )));
        }
        // The launcher is done: init.pid is written, or the supervisor has ended (or is ending)
        // with its error written first; a short wait covers a supervisor that is still exiting.
        let files = StateFiles::new(dir);
        let deadline = tokio::time::Instant::now() + SUPERVISOR_EXIT_GRACE;
        loop {
            // Looked at before the files: a shim writes them before it exits, so once it is seen
            // gone, whatever it had to say is already there.
            let shim_gone =
                StateFiles::read_pid(&files.shim_pid()).is_some_and(|pid| !shim_alive(pid, id));
            if files.init_pid().exists() {
                return Ok(());
            }
            if let Ok(message) = tokio::fs::read_to_string(files.create_error()).await {
                return Err(RuntimeError::Failed(message));
            }
            if shim_gone {
                return Err(RuntimeError::Failed(format!(
                    "the shim of {id} exited during creation"
                )));
            }
            if tokio::time::Instant::now() > deadline {
                return Err(RuntimeError::Failed(format!(
                    "creating container {id} timed out"
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Undoes a creation that failed half-way.
    async fn discard(&self, id: &str, dir: &Path) {
        let files = StateFiles::new(dir);
        if let Some(pid) =
            StateFiles::read_pid(&files.shim_pid()).filter(|pid| shim_alive(*pid, id))
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let owned = id.to_string();
        let _ = self.oci_call(move |oci| oci.delete(&owned, true)).await;
        let _ = rootfs::unmount(&dir.join("rootfs"));
        let _ = tokio::fs::remove_dir_all(dir).await;
    }
}

/// Holds a container name while its container is being created.
struct NameReservation<'a> {
    containers: &'a Containers,
    key: (String, String, u32),
}

impl Drop for NameReservation<'_> {
    fn drop(&mut self) {
        if let Ok(mut creating) = self.containers.creating.lock() {
            creating.remove(&self.key);
        }
    }
}

/// Creates the host directory of every bind mount whose source does not exist yet, as
/// containerd does (a hostPath volume without a type may name a path that is not there).
async fn create_missing_mount_sources(config: &cri::ContainerConfig) -> Result<(), RuntimeError> {
    for mount in &config.mounts {
        if mount.host_path.is_empty() {
            continue;
        }
        let source = Path::new(&mount.host_path);
        if tokio::fs::symlink_metadata(source).await.is_err() {
            tokio::fs::create_dir_all(source).await.map_err(|e| {
                RuntimeError::Failed(format!("failed to mkdir {:?}: {e}", mount.host_path))
            })?;
        }
    }
    Ok(())
}

/// `<sandbox log_directory>/<config log_path>`; empty when either is.
fn log_path(sandbox: &SandboxInfo, config: &cri::ContainerConfig) -> PathBuf {
    if sandbox.config.log_directory.is_empty() || config.log_path.is_empty() {
        PathBuf::new()
    } else {
        Path::new(&sandbox.config.log_directory).join(&config.log_path)
    }
}
