//! How many of a node's pods match a (namespace, label selector), remembered until the node's
//! pods change. Consecutive pods of one workload share a selector, so spreading scores read
//! the counts of every unchanged node instead of matching each of its pods again: at 30 pods
//! a node that matching was half of the scheduler's time.

use std::sync::{Arc, Mutex};

/// Selectors remembered per node; the oldest goes first.
const CAPACITY: usize = 32;

#[derive(Debug, Default)]
pub struct MatchCounts {
    entries: Mutex<Vec<(Arc<str>, i64)>>,
}

/// A copy starts empty: it is a different node state as soon as either side changes.
impl Clone for MatchCounts {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl MatchCounts {
    /// The count remembered for `key` (namespace and selector), or `count()` remembered.
    pub fn get_or_count(&self, key: &Arc<str>, count: impl FnOnce() -> i64) -> i64 {
        let Ok(mut entries) = self.entries.lock() else {
            return count();
        };
        if let Some((_, found)) = entries
            .iter()
            .find(|(k, _)| Arc::ptr_eq(k, key) || **k == **key)
        {
            return *found;
        }
        let counted = count();
        if entries.len() >= CAPACITY {
            entries.remove(0);
        }
        entries.push((key.clone(), counted));
        counted
    }

    /// The node's pods changed: every count is stale.
    pub fn clear(&mut self) {
        if let Ok(entries) = self.entries.get_mut() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_remembered_per_key_until_cleared() {
        let mut memo = MatchCounts::default();
        let a: Arc<str> = Arc::from("default\0app=web");
        let same_text: Arc<str> = Arc::from("default\0app=web");
        let b: Arc<str> = Arc::from("default\0app=api");
        assert_eq!(memo.get_or_count(&a, || 3), 3);
        assert_eq!(memo.get_or_count(&same_text, || panic!("recounted")), 3);
        assert_eq!(memo.get_or_count(&b, || 1), 1);
        memo.clear();
        assert_eq!(memo.get_or_count(&a, || 4), 4);
        assert_eq!(memo.clone().get_or_count(&a, || 5), 5);
    }

    #[test]
    fn the_oldest_key_goes_when_full() {
        let memo = MatchCounts::default();
        let keys: Vec<Arc<str>> = (0..=CAPACITY).map(|i| Arc::from(i.to_string())).collect();
        for key in &keys {
            memo.get_or_count(key, || 1);
        }
        assert_eq!(memo.get_or_count(&keys[0], || 2), 2);
        assert_eq!(
            memo.get_or_count(&keys[CAPACITY], || panic!("recounted")),
            1
        );
    }
}
