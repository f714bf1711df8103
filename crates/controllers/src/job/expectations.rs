//! What this controller wrote and its cache has not shown yet. Until the pod and Job caches catch
//! up with our own creates, deletes and status writes, a reconcile would act on stale counts
//! (upstream's ControllerExpectations, plus the status resourceVersion we last wrote).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// After this long an expectation is dropped: a watch event may have been lost for good.
const EXPECTATION_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct Expectations {
    pending: Mutex<HashMap<String, Pending>>,
}

struct Pending {
    created: HashSet<String>,
    deleted: HashSet<String>,
    status_version: Option<u64>,
    since: Instant,
}

impl Expectations {
    pub fn expect_pods(&self, owner_uid: &str, created: Vec<String>, deleted: Vec<String>) {
        self.with_pending(owner_uid, |pending| {
            pending.created.extend(created);
            pending.deleted.extend(deleted);
        });
    }

    pub fn expect_status(&self, owner_uid: &str, resource_version: Option<&str>) {
        let version = resource_version.and_then(|v| v.parse().ok());
        self.with_pending(owner_uid, |pending| pending.status_version = version);
    }

    /// `live_pods`: uids of the owner's pods in the cache that are not being deleted.
    pub fn satisfied(
        &self,
        owner_uid: &str,
        owner_version: Option<&str>,
        live_pods: &HashSet<&str>,
    ) -> bool {
        let Ok(mut all) = self.pending.lock() else {
            return true;
        };
        let Some(pending) = all.get_mut(owner_uid) else {
            return true;
        };
        pending
            .created
            .retain(|uid| !live_pods.contains(uid.as_str()));
        pending
            .deleted
            .retain(|uid| live_pods.contains(uid.as_str()));
        let seen_version = owner_version.and_then(|v| v.parse::<u64>().ok());
        if pending
            .status_version
            .is_some_and(|wanted| seen_version.is_some_and(|seen| seen >= wanted))
        {
            pending.status_version = None;
        }
        let done = pending.created.is_empty()
            && pending.deleted.is_empty()
            && pending.status_version.is_none();
        if done || pending.since.elapsed() > EXPECTATION_TIMEOUT {
            all.remove(owner_uid);
            return true;
        }
        false
    }

    pub fn forget(&self, owner_uid: &str) {
        if let Ok(mut all) = self.pending.lock() {
            all.remove(owner_uid);
        }
    }

    fn with_pending(&self, owner_uid: &str, change: impl FnOnce(&mut Pending)) {
        if let Ok(mut all) = self.pending.lock() {
            let pending = all.entry(owner_uid.to_string()).or_insert_with(|| Pending {
                created: HashSet::new(),
                deleted: HashSet::new(),
                status_version: None,
                since: Instant::now(),
            });
            pending.since = Instant::now();
            change(pending);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_created_pods_deleted_pods_and_the_written_status() {
        let expectations = Expectations::default();
        expectations.expect_pods("job", vec!["a".into()], vec!["b".into()]);
        expectations.expect_status("job", Some("10"));
        assert!(!expectations.satisfied("job", Some("9"), &["b"].into_iter().collect()));
        assert!(!expectations.satisfied("job", Some("9"), &["a"].into_iter().collect()));
        assert!(expectations.satisfied("job", Some("11"), &["a"].into_iter().collect()));
        assert!(expectations.satisfied("other", None, &HashSet::new()));
    }
}
