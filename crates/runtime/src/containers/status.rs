//! ContainerStatus, ListContainers, ContainerStats and ListContainerStats.

use k8s_cri::v1 as cri;

use super::record::ContainerRecord;
use super::{stats, Containers};
use crate::shim::state_files::now_ns;

fn labels_match(
    labels: &std::collections::HashMap<String, String>,
    selector: &std::collections::HashMap<String, String>,
) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

impl Containers {
    pub async fn status(&self, id: &str) -> Result<cri::ContainerStatus, crate::RuntimeError> {
        let record = self.record(id).await?;
        Ok(self.status_of(&record))
    }

    fn status_of(&self, record: &ContainerRecord) -> cri::ContainerStatus {
        let observed = self.observe(&record.id);
        let exit = observed.exit.clone();
        cri::ContainerStatus {
            id: record.id.clone(),
            metadata: record.config.metadata.clone(),
            state: observed.state as i32,
            created_at: record.created_at,
            started_at: observed.started_at,
            finished_at: exit.as_ref().map(|e| e.finished_at).unwrap_or(0),
            exit_code: exit.as_ref().map(|e| e.exit_code).unwrap_or(0),
            image: record.config.image.clone(),
            image_ref: record.image_ref.clone(),
            image_id: record.image_id_or_ref(),
            reason: exit.map(|e| e.reason).unwrap_or_default(),
            message: String::new(),
            labels: record.config.labels.clone(),
            annotations: record.config.annotations.clone(),
            mounts: record.config.mounts.clone(),
            log_path: record.log_path.to_string_lossy().into_owned(),
            resources: record
                .config
                .linux
                .as_ref()
                .and_then(|l| l.resources.clone())
                .map(|linux| cri::ContainerResources {
                    linux: Some(linux),
                    windows: None,
                }),
            user: None,
        }
    }

    pub async fn list(&self, filter: Option<&cri::ContainerFilter>) -> Vec<cri::Container> {
        // Filtered before cloning: every pod worker lists its own containers each second.
        let records: Vec<ContainerRecord> = self
            .records
            .read()
            .await
            .values()
            .filter(|r| match filter {
                None => true,
                Some(f) => {
                    (f.id.is_empty() || r.id.starts_with(&f.id))
                        && (f.pod_sandbox_id.is_empty()
                            || r.sandbox_id.starts_with(&f.pod_sandbox_id))
                        && labels_match(&r.config.labels, &f.label_selector)
                }
            })
            .cloned()
            .collect();
        let mut containers: Vec<cri::Container> = records
            .iter()
            .map(|r| cri::Container {
                id: r.id.clone(),
                pod_sandbox_id: r.sandbox_id.clone(),
                metadata: r.config.metadata.clone(),
                image: r.config.image.clone(),
                image_ref: r.image_ref.clone(),
                image_id: r.image_id_or_ref(),
                state: self.observe(&r.id).state as i32,
                created_at: r.created_at,
                labels: r.config.labels.clone(),
                annotations: r.config.annotations.clone(),
            })
            .filter(|c| match filter.and_then(|f| f.state.as_ref()) {
                None => true,
                Some(wanted) => c.state == wanted.state,
            })
            .collect();
        containers.sort_by_key(|c| c.created_at);
        containers
    }

    pub async fn stats(&self, id: &str) -> Result<cri::ContainerStats, crate::RuntimeError> {
        let record = self.record(id).await?;
        Ok(self.stats_of(&record))
    }

    pub async fn list_stats(
        &self,
        filter: Option<&cri::ContainerStatsFilter>,
    ) -> Vec<cri::ContainerStats> {
        let records: Vec<ContainerRecord> = self.records.read().await.values().cloned().collect();
        records
            .iter()
            .filter(|r| match filter {
                None => true,
                Some(f) => {
                    (f.id.is_empty() || r.id.starts_with(&f.id))
                        && (f.pod_sandbox_id.is_empty()
                            || r.sandbox_id.starts_with(&f.pod_sandbox_id))
                        && labels_match(&r.config.labels, &f.label_selector)
                }
            })
            .filter(|r| self.observe(&r.id).state == cri::ContainerState::ContainerRunning)
            .map(|r| self.stats_of(r))
            .collect()
    }

    fn stats_of(&self, record: &ContainerRecord) -> cri::ContainerStats {
        let timestamp = now_ns();
        let usage = stats::cgroup_usage(&record.cgroups_path);
        let (used_bytes, inodes) = stats::disk_usage(&self.dir(&record.id).join("upper"));
        let value = |v: u64| Some(cri::UInt64Value { value: v });
        cri::ContainerStats {
            attributes: Some(cri::ContainerAttributes {
                id: record.id.clone(),
                metadata: record.config.metadata.clone(),
                labels: record.config.labels.clone(),
                annotations: record.config.annotations.clone(),
            }),
            cpu: Some(cri::CpuUsage {
                timestamp,
                usage_core_nano_seconds: usage.cpu_ns.and_then(value),
                usage_nano_cores: None,
            }),
            memory: Some(cri::MemoryUsage {
                timestamp,
                working_set_bytes: usage.memory_working_set.and_then(value),
                usage_bytes: usage.memory_usage.and_then(value),
                ..Default::default()
            }),
            writable_layer: Some(cri::FilesystemUsage {
                timestamp,
                fs_id: Some(cri::FilesystemIdentifier {
                    mountpoint: self.root.to_string_lossy().into_owned(),
                }),
                used_bytes: value(used_bytes),
                inodes_used: value(inodes),
            }),
            swap: None,
        }
    }
}
