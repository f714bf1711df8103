//! RunPodSandbox: files, the pause process, the netns bind mount and the CNI network.

use std::path::Path;

use k8s_cri::v1 as cri;
use rand::Rng;

use super::namespace_plan::NamespacePlan;
use super::netns_mount::{bind_netns, unbind_netns, NETNS_FILE};
use super::pause_process::{start_pause, PauseIdentity};
use super::pod_files::{hostname_of, write_pod_files};
use super::record::{name_key, SandboxRecord};
use super::Sandboxes;
use crate::cni::{Attachment, PodIps, PortMappingArg};
use crate::RuntimeError;

/// How long a stopping pause process gets between SIGTERM and SIGKILL.
pub const PAUSE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

impl Sandboxes {
    /// Creates and starts a sandbox; its id.
    pub async fn run(
        &self,
        config: cri::PodSandboxConfig,
        runtime_handler: String,
    ) -> Result<String, RuntimeError> {
        let metadata = config.metadata.as_ref().ok_or_else(|| {
            RuntimeError::InvalidArgument("sandbox config must include metadata".into())
        })?;
        if metadata.name.is_empty() || metadata.namespace.is_empty() || metadata.uid.is_empty() {
            return Err(RuntimeError::InvalidArgument(
                "sandbox metadata must include name, namespace and uid".into(),
            ));
        }
        let plan = NamespacePlan::of(&config);
        if !plan.host_network && !self.network.is_ready() {
            return Err(RuntimeError::Failed(
                "network is not ready: cni plugin not initialized (the node's pod CIDR is not known yet)".into(),
            ));
        }
        let _reservation = self.reserve_name(&config).await?;
        let id = new_sandbox_id();
        let dir = self.dir_of(&id);
        tokio::fs::create_dir_all(&dir).await?;
        match self.create(&id, &dir, config, plan, runtime_handler).await {
            Ok(record) => {
                self.records.write().await.insert(id.clone(), record);
                Ok(id)
            }
            Err(error) => {
                let _ = tokio::fs::remove_dir_all(&dir).await;
                Err(error)
            }
        }
    }

    async fn reserve_name(
        &self,
        config: &cri::PodSandboxConfig,
    ) -> Result<NameReservation<'_>, RuntimeError> {
        let key = name_key(config);
        let records = self.records.read().await;
        if let Some(existing) = records.values().find(|record| record.name_key() == key) {
            return Err(RuntimeError::AlreadyExists(format!(
                "sandbox name {key:?} is reserved for {}",
                existing.id
            )));
        }
        let mut pending = self
            .pending_names
            .lock()
            .map_err(|_| RuntimeError::Failed("sandbox name reservations are poisoned".into()))?;
        if !pending.insert(key.clone()) {
            return Err(RuntimeError::AlreadyExists(format!(
                "sandbox name {key:?} is being created"
            )));
        }
        Ok(NameReservation {
            sandboxes: self,
            key,
        })
    }

    async fn create(
        &self,
        id: &str,
        dir: &Path,
        config: cri::PodSandboxConfig,
        plan: NamespacePlan,
        runtime_handler: String,
    ) -> Result<SandboxRecord, RuntimeError> {
        write_pod_files(dir, &config)?;
        if !config.log_directory.is_empty() {
            tokio::fs::create_dir_all(&config.log_directory).await?;
        }
        let pause =
            start_pause(&self.self_exe, plan.pause_args(&hostname_of(&config)), dir).await?;
        let mut record = SandboxRecord {
            id: id.to_owned(),
            config,
            runtime_handler,
            created_at: now_nanos(),
            namespaces: plan,
            pause,
            ips: PodIps::default(),
            cni_result: None,
            stopped: false,
        };
        let attached = if plan.host_network {
            Ok(())
        } else {
            self.attach_network(&mut record, dir).await
        };
        match attached.and_then(|()| record.save(dir).map_err(RuntimeError::from)) {
            Ok(()) => Ok(record),
            Err(error) => {
                self.undo_create(&record, dir, pause).await;
                Err(error)
            }
        }
    }

    async fn attach_network(
        &self,
        record: &mut SandboxRecord,
        dir: &Path,
    ) -> Result<(), RuntimeError> {
        let netns = dir.join(NETNS_FILE);
        bind_netns(&record.pause.namespace_file("net"), &netns)?;
        let attachment = attachment_of(record, &netns.to_string_lossy());
        let result = self.network.attach(&attachment).await.map_err(|e| {
            RuntimeError::Failed(format!(
                "failed to setup network for sandbox {:?}: {e}",
                record.id
            ))
        })?;
        record.ips = PodIps::from_result(&result);
        record.cni_result = Some(result);
        Ok(())
    }

    async fn undo_create(&self, record: &SandboxRecord, dir: &Path, pause: PauseIdentity) {
        if !record.namespaces.host_network {
            let netns = dir.join(NETNS_FILE);
            let attachment = attachment_of(record, &netns.to_string_lossy());
            if let Err(error) = self
                .network
                .detach(&attachment, record.cni_result.as_ref())
                .await
            {
                tracing::warn!(id = %record.id, %error, "cleaning up the network of a failed sandbox");
            }
            if let Err(error) = unbind_netns(&netns) {
                tracing::warn!(id = %record.id, %error, "unmounting the netns of a failed sandbox");
            }
        }
        pause.stop(PAUSE_GRACE).await;
    }
}

/// Holds a sandbox name while its sandbox is being created.
struct NameReservation<'a> {
    sandboxes: &'a Sandboxes,
    key: String,
}

impl Drop for NameReservation<'_> {
    fn drop(&mut self) {
        if let Ok(mut pending) = self.sandboxes.pending_names.lock() {
            pending.remove(&self.key);
        }
    }
}

/// 64 random hex characters.
fn new_sandbox_id() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

fn now_nanos() -> i64 {
    jiff::Timestamp::now()
        .as_nanosecond()
        .try_into()
        .unwrap_or(i64::MAX)
}

/// The CNI attachment of a sandbox: its id, namespace file, pod identity and hostPorts.
pub(super) fn attachment_of(record: &SandboxRecord, netns: &str) -> Attachment {
    let metadata = record.config.metadata.clone().unwrap_or_default();
    Attachment {
        container_id: record.id.clone(),
        netns: netns.to_owned(),
        ifname: "eth0".into(),
        args: vec![
            ("K8S_POD_NAMESPACE".into(), metadata.namespace),
            ("K8S_POD_NAME".into(), metadata.name),
            ("K8S_POD_INFRA_CONTAINER_ID".into(), record.id.clone()),
            ("K8S_POD_UID".into(), metadata.uid),
        ],
        port_mappings: record
            .config
            .port_mappings
            .iter()
            .filter(|mapping| mapping.host_port > 0)
            .map(|mapping| PortMappingArg {
                host_port: mapping.host_port,
                container_port: mapping.container_port,
                protocol: protocol_name(mapping.protocol).into(),
                host_ip: mapping.host_ip.clone(),
            })
            .collect(),
    }
}

fn protocol_name(protocol: i32) -> &'static str {
    match cri::Protocol::try_from(protocol) {
        Ok(cri::Protocol::Udp) => "udp",
        Ok(cri::Protocol::Sctp) => "sctp",
        _ => "tcp",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex_characters_and_differ() {
        let (a, b) = (new_sandbox_id(), new_sandbox_id());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
