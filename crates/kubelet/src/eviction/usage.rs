//! Per-pod resource use from CRI container stats, grouped by the pod uid label.

use std::collections::HashMap;

use k8s_cri::v1 as cri;

use crate::CriClient;

const POD_UID_LABEL: &str = "io.kubernetes.pod.uid";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerUsage {
    pub name: String,
    pub memory_bytes: u64,
    pub disk_bytes: u64,
}

/// Container usage by pod uid (running containers only, as the runtime reports them).
pub fn group_by_pod(stats: &[cri::ContainerStats]) -> HashMap<String, Vec<ContainerUsage>> {
    let mut by_pod: HashMap<String, Vec<ContainerUsage>> = HashMap::new();
    for s in stats {
        let Some(attributes) = &s.attributes else {
            continue;
        };
        let Some(uid) = attributes.labels.get(POD_UID_LABEL) else {
            continue;
        };
        by_pod.entry(uid.clone()).or_default().push(ContainerUsage {
            name: attributes
                .metadata
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_default(),
            memory_bytes: s
                .memory
                .as_ref()
                .and_then(|m| m.working_set_bytes.as_ref())
                .map_or(0, |v| v.value),
            disk_bytes: s
                .writable_layer
                .as_ref()
                .and_then(|w| w.used_bytes.as_ref())
                .map_or(0, |v| v.value),
        });
    }
    by_pod
}

pub async fn containers_by_pod(cri: &CriClient) -> HashMap<String, Vec<ContainerUsage>> {
    let stats = cri
        .runtime
        .clone()
        .list_container_stats(cri::ListContainerStatsRequest { filter: None })
        .await
        .map(|r| r.into_inner().stats)
        .unwrap_or_default();
    group_by_pod(&stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_pod_uid_label() {
        let stat = |uid: &str, name: &str, ws: u64| cri::ContainerStats {
            attributes: Some(cri::ContainerAttributes {
                id: name.into(),
                metadata: Some(cri::ContainerMetadata {
                    name: name.into(),
                    attempt: 0,
                }),
                labels: [(POD_UID_LABEL.to_string(), uid.to_string())].into(),
                annotations: Default::default(),
            }),
            memory: Some(cri::MemoryUsage {
                working_set_bytes: Some(cri::UInt64Value { value: ws }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let grouped = group_by_pod(&[stat("a", "x", 1), stat("a", "y", 2), stat("b", "z", 3)]);
        assert_eq!(grouped["a"].len(), 2);
        assert_eq!(grouped["b"][0].memory_bytes, 3);
    }
}
