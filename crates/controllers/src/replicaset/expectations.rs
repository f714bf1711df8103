//! Writes made but not yet seen in the pod cache (upstream's ControllerExpectations): until they
//! show up, a reconcile must not count pods again and create or delete twice.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;

/// How long unseen writes are waited for before the cache is trusted anyway.
const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct PendingWrites {
    created_names: HashSet<String>,
    deleted_uids: HashSet<String>,
    since: Option<Instant>,
}

#[derive(Default)]
pub struct Expectations {
    pending: Mutex<HashMap<String, PendingWrites>>,
}

impl Expectations {
    pub fn expect_created(&self, owner_key: &str, names: impl IntoIterator<Item = String>) {
        self.update(owner_key, |pending| pending.created_names.extend(names));
    }

    pub fn expect_deleted(&self, owner_key: &str, uids: impl IntoIterator<Item = String>) {
        self.update(owner_key, |pending| pending.deleted_uids.extend(uids));
    }

    /// Whether the cache shows every write made for the owner: `pods` holds the owner's pods and
    /// the namespace's orphans (where the pods it created and deleted are).
    pub fn are_satisfied(&self, owner_key: &str, pods: &[&Pod]) -> bool {
        let Ok(mut all) = self.pending.lock() else {
            return true;
        };
        let Some(pending) = all.get_mut(owner_key) else {
            return true;
        };
        // One pass over the pods into sets: checking each expected name against every pod was
        // quadratic, and with a burst of creates in a namespace of 150,000 pods it took a fifth
        // of the server's CPU.
        if !pending.created_names.is_empty() {
            let present: HashSet<&str> = pods
                .iter()
                .filter_map(|p| p.metadata.name.as_deref())
                .collect();
            pending
                .created_names
                .retain(|name| !present.contains(name.as_str()));
        }
        if !pending.deleted_uids.is_empty() {
            let live: HashSet<&str> = pods
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .filter_map(|p| p.metadata.uid.as_deref())
                .collect();
            pending
                .deleted_uids
                .retain(|uid| live.contains(uid.as_str()));
        }
        let expired = pending
            .since
            .is_some_and(|since| since.elapsed() > EXPECTATIONS_TIMEOUT);
        if expired || (pending.created_names.is_empty() && pending.deleted_uids.is_empty()) {
            all.remove(owner_key);
            return true;
        }
        false
    }

    fn update(&self, owner_key: &str, change: impl FnOnce(&mut PendingWrites)) {
        if let Ok(mut all) = self.pending.lock() {
            let pending = all.entry(owner_key.to_string()).or_default();
            pending.since.get_or_insert_with(Instant::now);
            change(pending);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pod_conditions::test_pods::pod;

    #[test]
    fn satisfied_once_created_pods_appear_and_deleted_ones_go() {
        let expectations = Expectations::default();
        assert!(expectations.are_satisfied("ns/rs", &[]));
        expectations.expect_created("ns/rs", ["a".to_string()]);
        expectations.expect_deleted("ns/rs", ["uid-b".to_string()]);
        let a = pod("a", "", "Pending", None, "2024-01-01T00:00:00Z");
        let b = pod("b", "", "Pending", None, "2024-01-01T00:00:00Z");
        assert!(!expectations.are_satisfied("ns/rs", &[&b]));
        assert!(!expectations.are_satisfied("ns/rs", &[&a, &b]));
        assert!(expectations.are_satisfied("ns/rs", &[&a]));
    }
}
