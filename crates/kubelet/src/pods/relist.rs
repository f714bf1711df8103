//! The pod lifecycle event generator: one CRI relist a second for the whole node, telling the
//! workers of the pods whose sandboxes or containers changed, as upstream's PLEG.
//!
//! Without it every pod worker had to list its own pod's sandboxes and containers every second
//! to notice an exit; with it a running pod is synced when something happens to it.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use k8s_cri::v1 as cri;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::sandbox_config::POD_UID_LABEL;
use crate::{CriClient, KubeletError};

/// How often the runtime is listed (upstream's PLEG relist period).
pub const RELIST_PERIOD: Duration = Duration::from_secs(1);

/// What one relist saw of each pod: its sandboxes' and containers' ids with their states.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RuntimeSnapshot {
    by_pod: HashMap<String, PodEntries>,
}

/// Sorted `(kind, id, state)` entries; the kind keeps a sandbox and a container apart.
type PodEntries = Vec<(EntryKind, String, i32)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum EntryKind {
    Sandbox,
    Container,
}

impl RuntimeSnapshot {
    pub fn from_lists(sandboxes: &[cri::PodSandbox], containers: &[cri::Container]) -> Self {
        let mut by_pod: HashMap<String, PodEntries> = HashMap::new();
        for sandbox in sandboxes {
            if let Some(uid) = sandbox.labels.get(POD_UID_LABEL) {
                by_pod.entry(uid.clone()).or_default().push((
                    EntryKind::Sandbox,
                    sandbox.id.clone(),
                    sandbox.state,
                ));
            }
        }
        for container in containers {
            if let Some(uid) = container.labels.get(POD_UID_LABEL) {
                by_pod.entry(uid.clone()).or_default().push((
                    EntryKind::Container,
                    container.id.clone(),
                    container.state,
                ));
            }
        }
        by_pod.values_mut().for_each(|entries| entries.sort());
        Self { by_pod }
    }

    /// The pods whose entries differ between `self` (older) and `newer`, including pods that
    /// appeared or vanished.
    pub fn changed_pods(&self, newer: &RuntimeSnapshot) -> HashSet<String> {
        let mut changed: HashSet<String> = newer
            .by_pod
            .iter()
            .filter(|(uid, entries)| self.by_pod.get(*uid) != Some(*entries))
            .map(|(uid, _)| uid.clone())
            .collect();
        changed.extend(
            self.by_pod
                .keys()
                .filter(|uid| !newer.by_pod.contains_key(*uid))
                .cloned(),
        );
        changed
    }
}

async fn list(cri: &CriClient) -> Result<RuntimeSnapshot, KubeletError> {
    let mut runtime = cri.runtime.clone();
    let sandboxes = runtime
        .list_pod_sandbox(cri::ListPodSandboxRequest { filter: None })
        .await?
        .into_inner()
        .items;
    let containers = runtime
        .list_containers(cri::ListContainersRequest { filter: None })
        .await?
        .into_inner()
        .containers;
    Ok(RuntimeSnapshot::from_lists(&sandboxes, &containers))
}

/// Relists every [`RELIST_PERIOD`] and sends the uids of the pods that changed since the last
/// relist. The first relist only records what is there.
pub async fn run_relist(
    cri: CriClient,
    changes: mpsc::Sender<HashSet<String>>,
    cancel: CancellationToken,
) {
    let mut previous: Option<RuntimeSnapshot> = None;
    let mut tick = tokio::time::interval(RELIST_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let current = match list(&cri).await {
            Ok(current) => current,
            Err(e) => {
                tracing::debug!(error = %e, "relisting the runtime");
                continue;
            }
        };
        if let Some(previous) = &previous {
            let changed = previous.changed_pods(&current);
            if !changed.is_empty() && changes.send(changed).await.is_err() {
                return;
            }
        }
        previous = Some(current);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(uid: &str) -> HashMap<String, String> {
        HashMap::from([(POD_UID_LABEL.to_string(), uid.to_string())])
    }

    fn sandbox(uid: &str, id: &str, state: cri::PodSandboxState) -> cri::PodSandbox {
        cri::PodSandbox {
            id: id.into(),
            state: state as i32,
            labels: labels(uid),
            ..Default::default()
        }
    }

    fn container(uid: &str, id: &str, state: cri::ContainerState) -> cri::Container {
        cri::Container {
            id: id.into(),
            state: state as i32,
            labels: labels(uid),
            ..Default::default()
        }
    }

    #[test]
    fn a_container_that_exits_changes_only_its_pod() {
        use cri::ContainerState::{ContainerExited, ContainerRunning};
        let sandboxes = [
            sandbox("a", "sa", cri::PodSandboxState::SandboxReady),
            sandbox("b", "sb", cri::PodSandboxState::SandboxReady),
        ];
        let before = RuntimeSnapshot::from_lists(
            &sandboxes,
            &[
                container("a", "ca", ContainerRunning),
                container("b", "cb", ContainerRunning),
            ],
        );
        let after = RuntimeSnapshot::from_lists(
            &sandboxes,
            &[
                container("b", "cb", ContainerRunning),
                container("a", "ca", ContainerExited),
            ],
        );
        assert_eq!(
            before.changed_pods(&after),
            HashSet::from(["a".to_string()])
        );
        assert!(after.changed_pods(&after.clone()).is_empty());
    }

    #[test]
    fn new_and_vanished_pods_and_entries_count_as_changes() {
        use cri::ContainerState::ContainerRunning;
        let before = RuntimeSnapshot::from_lists(
            &[sandbox("gone", "s1", cri::PodSandboxState::SandboxReady)],
            &[container("kept", "c1", ContainerRunning)],
        );
        let after = RuntimeSnapshot::from_lists(
            &[sandbox("new", "s2", cri::PodSandboxState::SandboxReady)],
            &[
                container("kept", "c1", ContainerRunning),
                container("kept", "c2", ContainerRunning),
            ],
        );
        let changed = before.changed_pods(&after);
        assert_eq!(
            changed,
            HashSet::from(["gone".to_string(), "new".to_string(), "kept".to_string()])
        );
    }

    #[test]
    fn a_sandbox_and_a_container_with_one_id_are_told_apart() {
        let as_sandbox = RuntimeSnapshot::from_lists(
            &[sandbox("a", "x", cri::PodSandboxState::SandboxReady)],
            &[],
        );
        let as_container = RuntimeSnapshot::from_lists(
            &[],
            &[container("a", "x", cri::ContainerState::ContainerCreated)],
        );
        // SandboxReady and ContainerCreated are both 0: only the kind differs.
        assert_eq!(as_sandbox.changed_pods(&as_container).len(), 1);
    }
}
