//! The CRI views of a sandbox: PodSandboxStatus, PodSandbox (lists) and its stats attributes.

use k8s_cri::v1 as cri;

use super::filter::SandboxFilter;
use super::record::SandboxRecord;
use super::{is_ready, Sandboxes};
use crate::RuntimeError;

fn state_of(record: &SandboxRecord) -> cri::PodSandboxState {
    if is_ready(record) {
        cri::PodSandboxState::SandboxReady
    } else {
        cri::PodSandboxState::SandboxNotready
    }
}

fn status_of(record: &SandboxRecord) -> cri::PodSandboxStatus {
    let network = if record.namespaces.host_network {
        cri::PodSandboxNetworkStatus::default()
    } else {
        cri::PodSandboxNetworkStatus {
            ip: record.ips.primary().unwrap_or_default().to_owned(),
            additional_ips: record
                .ips
                .additional()
                .iter()
                .map(|ip| cri::PodIp { ip: ip.clone() })
                .collect(),
        }
    };
    cri::PodSandboxStatus {
        id: record.id.clone(),
        metadata: record.config.metadata.clone(),
        state: state_of(record) as i32,
        created_at: record.created_at,
        network: Some(network),
        linux: Some(cri::LinuxPodSandboxStatus {
            namespaces: Some(cri::Namespace {
                options: Some(record.namespaces.options()),
            }),
        }),
        labels: record.config.labels.clone(),
        annotations: record.config.annotations.clone(),
        runtime_handler: record.runtime_handler.clone(),
    }
}

fn summary_of(record: &SandboxRecord) -> cri::PodSandbox {
    cri::PodSandbox {
        id: record.id.clone(),
        metadata: record.config.metadata.clone(),
        state: state_of(record) as i32,
        created_at: record.created_at,
        labels: record.config.labels.clone(),
        annotations: record.config.annotations.clone(),
        runtime_handler: record.runtime_handler.clone(),
    }
}

fn attributes_of(record: &SandboxRecord) -> cri::PodSandboxAttributes {
    cri::PodSandboxAttributes {
        id: record.id.clone(),
        metadata: record.config.metadata.clone(),
        labels: record.config.labels.clone(),
        annotations: record.config.annotations.clone(),
    }
}

impl Sandboxes {
    pub async fn status(&self, id: &str) -> Result<cri::PodSandboxStatus, RuntimeError> {
        Ok(status_of(&self.record(id).await?))
    }

    /// Sandboxes matching the filter, oldest first.
    pub async fn summaries(&self, filter: &SandboxFilter) -> Vec<cri::PodSandbox> {
        let records = self.records.read().await;
        let mut list: Vec<cri::PodSandbox> = records
            .values()
            .filter(|record| {
                filter.matches_lazily(&record.id, || state_of(record), &record.config.labels)
            })
            .map(summary_of)
            .collect();
        list.sort_by_key(|sandbox| sandbox.created_at);
        list
    }

    /// Stats of a sandbox: its attributes and the pod cgroup's CPU and memory (containers are
    /// added by the caller, which holds them).
    pub async fn stats(&self, id: &str) -> Result<cri::PodSandboxStats, RuntimeError> {
        let record = self.record(id).await?;
        Ok(stats_of(&record))
    }

    pub async fn all_stats(&self, filter: &SandboxFilter) -> Vec<cri::PodSandboxStats> {
        let records = self.records.read().await;
        records
            .values()
            .filter(|record| {
                filter.matches_lazily(&record.id, || state_of(record), &record.config.labels)
            })
            .map(stats_of)
            .collect()
    }
}

fn stats_of(record: &SandboxRecord) -> cri::PodSandboxStats {
    let cgroup = record
        .config
        .linux
        .as_ref()
        .map(|l| l.cgroup_parent.as_str())
        .unwrap_or_default();
    let mut linux = cri::LinuxPodSandboxStats::default();
    if !cgroup.is_empty() && is_ready(record) {
        let usage = crate::containers::stats::cgroup_usage(cgroup);
        let timestamp = crate::shim::state_files::now_ns();
        let value = |v: u64| Some(cri::UInt64Value { value: v });
        linux.cpu = Some(cri::CpuUsage {
            timestamp,
            usage_core_nano_seconds: usage.cpu_ns.and_then(value),
            usage_nano_cores: None,
        });
        linux.memory = Some(cri::MemoryUsage {
            timestamp,
            working_set_bytes: usage.memory_working_set.and_then(value),
            usage_bytes: usage.memory_usage.and_then(value),
            ..Default::default()
        });
    }
    cri::PodSandboxStats {
        attributes: Some(attributes_of(record)),
        linux: Some(linux),
        windows: None,
    }
}
