//! A sandbox as persisted in `<root>/sandboxes/<id>/sandbox.json`.

use std::path::Path;

use k8s_cri::v1 as cri;
use serde_json::Value;

use super::namespace_plan::NamespacePlan;
use super::pause_process::PauseIdentity;
use crate::cni::PodIps;

pub const RECORD_FILE: &str = "sandbox.json";

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SandboxRecord {
    pub id: String,
    pub config: cri::PodSandboxConfig,
    pub runtime_handler: String,
    /// Nanoseconds since the Unix epoch.
    pub created_at: i64,
    pub namespaces: NamespacePlan,
    pub pause: PauseIdentity,
    pub ips: PodIps,
    /// The CNI ADD result, the `prevResult` of CHECK and DEL; `None` once detached.
    pub cni_result: Option<Value>,
    /// StopPodSandbox ran: the sandbox stays NOTREADY whatever its pause process does.
    pub stopped: bool,
}

impl SandboxRecord {
    /// `name_namespace_uid_attempt`: the kubelet never runs two sandboxes under one of these.
    pub fn name_key(&self) -> String {
        name_key(&self.config)
    }

    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let temporary = dir.join(format!(".{RECORD_FILE}.tmp"));
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(temporary, dir.join(RECORD_FILE))
    }

    pub fn load(dir: &Path) -> std::io::Result<Self> {
        let bytes = std::fs::read(dir.join(RECORD_FILE))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

pub fn name_key(config: &cri::PodSandboxConfig) -> String {
    let metadata = config.metadata.clone().unwrap_or_default();
    format!(
        "{}_{}_{}_{}",
        metadata.name, metadata.namespace, metadata.uid, metadata.attempt
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandboxes::namespace_plan::PidMode;

    #[test]
    fn a_record_survives_a_round_trip_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let record = SandboxRecord {
            id: "ab".repeat(32),
            config: cri::PodSandboxConfig {
                metadata: Some(cri::PodSandboxMetadata {
                    name: "web".into(),
                    namespace: "default".into(),
                    uid: "u1".into(),
                    attempt: 2,
                }),
                hostname: "web".into(),
                labels: [("app".to_owned(), "web".to_owned())].into(),
                dns_config: Some(cri::DnsConfig {
                    servers: vec!["10.96.0.10".into()],
                    ..Default::default()
                }),
                ..Default::default()
            },
            runtime_handler: String::new(),
            created_at: 1_700_000_000_000_000_000,
            namespaces: NamespacePlan {
                host_network: false,
                host_ipc: false,
                pid: PidMode::Container,
            },
            pause: PauseIdentity {
                pid: 42,
                start_time: 99,
            },
            ips: PodIps(vec!["10.88.0.2".into()]),
            cni_result: Some(serde_json::json!({"cniVersion": "1.0.0"})),
            stopped: false,
        };
        record.save(dir.path()).unwrap();
        assert_eq!(SandboxRecord::load(dir.path()).unwrap(), record);
        assert_eq!(record.name_key(), "web_default_u1_2");
    }
}
