//! StartContainer, StopContainer, RemoveContainer, UpdateContainerResources, ReopenContainerLog.

use std::time::Duration;

use k8s_cri::v1 as cri;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::observed::shim_alive;
use super::resources::linux_resources;
use super::{failed, rootfs, Containers};
use crate::shim::state_files::{now_ns, write_atomically, StateFiles};
use crate::RuntimeError;

/// How long a killed container may take to be reaped and recorded by its shim.
const KILL_GRACE: Duration = Duration::from_secs(10);

impl Containers {
    pub async fn start(&self, id: &str) -> Result<(), RuntimeError> {
        let record = self.record(id).await?;
        let observed = self.observe(&record.id);
        if observed.state != cri::ContainerState::ContainerCreated {
            return Err(RuntimeError::Failed(format!(
                "container {} is {}, not created",
                record.id,
                observed.state.as_str_name()
            )));
        }
        let started_at = now_ns();
        let owned = record.id.clone();
        if let Err(e) = self.oci_call(move |oci| oci.start(&owned)).await {
            // A process that exits at once can be reaped, recorded and deleted by its shim
            // before `runc start` has tidied up after itself (removing exec.fifo fails): it ran.
            if self.observe(&record.id).exit.is_none() {
                // Never left waiting in Created: its init is killed, the shim records the
                // exit, and the kubelet restarts it under the crash-loop back-off.
                let owned = record.id.clone();
                let _ = self
                    .oci_call(move |oci| oci.kill(&owned, "KILL", true))
                    .await;
                return Err(failed(e));
            }
        }
        let files = StateFiles::new(self.dir(&record.id));
        write_atomically(&files.started_at(), started_at.to_string().as_bytes())?;
        Ok(())
    }

    /// SIGTERM, then SIGKILL after `timeout` (at once when zero); stopping a stopped or removed
    /// container is fine.
    pub async fn stop(&self, id: &str, timeout: Duration) -> Result<(), RuntimeError> {
        let record = match self.record(id).await {
            Ok(record) => record,
            Err(RuntimeError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let id = record.id;
        let state = self.observe(&id).state;
        if state == cri::ContainerState::ContainerExited {
            return Ok(());
        }
        if state == cri::ContainerState::ContainerRunning && !timeout.is_zero() {
            let owned = id.clone();
            let _ = self
                .oci_call(move |oci| oci.kill(&owned, "TERM", false))
                .await;
            if self.wait_for_exit(&id, timeout).await {
                return Ok(());
            }
        }
        let owned = id.clone();
        let killed = self
            .oci_call(move |oci| oci.kill(&owned, "KILL", true))
            .await;
        if self.wait_for_exit(&id, KILL_GRACE).await {
            return Ok(());
        }
        Err(RuntimeError::Failed(match killed {
            Err(e) => format!("killing container {id}: {e}"),
            Ok(()) => format!("container {id} did not exit after SIGKILL"),
        }))
    }

    async fn wait_for_exit(&self, id: &str, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.observe(id).state == cri::ContainerState::ContainerExited {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Stops the container if needed, waits for its shim, unmounts its rootfs and deletes its
    /// directory; removing an unknown container is fine.
    pub async fn remove(&self, id: &str) -> Result<(), RuntimeError> {
        let record = match self.record(id).await {
            Ok(record) => record,
            Err(RuntimeError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let id = record.id;
        self.stop(&id, Duration::ZERO).await?;
        let dir = self.dir(&id);
        let files = StateFiles::new(&dir);
        if let Some(pid) = StateFiles::read_pid(&files.shim_pid()) {
            let deadline = tokio::time::Instant::now() + KILL_GRACE;
            while shim_alive(pid, &id) && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
        let owned = id.clone();
        match self.oci_call(move |oci| oci.delete(&owned, true)).await {
            Err(e) if !e.is_not_found() => {
                tracing::warn!(container = %id, error = %e, "runc delete")
            }
            _ => {}
        }
        rootfs::unmount(&dir.join("rootfs"))?;
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        self.records.write().await.remove(&id);
        Ok(())
    }

    /// Applies new cgroup limits to a created or running container and remembers them.
    pub async fn update_resources(
        &self,
        id: &str,
        resources: &cri::LinuxContainerResources,
    ) -> Result<(), RuntimeError> {
        let mut record = self.record(id).await?;
        let state = self.observe(&record.id).state;
        if state == cri::ContainerState::ContainerExited {
            return Err(RuntimeError::Failed(format!(
                "container {} is not running",
                record.id
            )));
        }
        let oci_resources = linux_resources(Some(resources), None)?;
        let owned = record.id.clone();
        self.oci_call(move |oci| oci.update(&owned, &oci_resources))
            .await
            .map_err(failed)?;
        record
            .config
            .linux
            .get_or_insert_with(Default::default)
            .resources = Some(resources.clone());
        record.save(&self.dir(&record.id))?;
        self.records.write().await.insert(record.id.clone(), record);
        Ok(())
    }

    /// Asks the shim to reopen the log file (after the kubelet rotated it).
    pub async fn reopen_log(&self, id: &str) -> Result<(), RuntimeError> {
        let record = self.record(id).await?;
        let observed = self.observe(&record.id);
        match (observed.state, observed.shim_pid) {
            (cri::ContainerState::ContainerRunning, Some(pid)) => {
                kill(Pid::from_raw(pid), Signal::SIGUSR1).map_err(|e| {
                    RuntimeError::Failed(format!("signalling the shim of {}: {e}", record.id))
                })
            }
            _ => Err(RuntimeError::Failed(format!(
                "container {} is not running",
                record.id
            ))),
        }
    }
}
