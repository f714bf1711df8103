//! Per-cycle state that PreFilter/PreScore plugins compute once and Filter/Score read per node.

use std::any::Any;

/// Plugin-owned values for one scheduling attempt, keyed by plugin name.
#[derive(Default)]
pub struct CycleState {
    entries: Vec<(&'static str, Box<dyn Any + Send + Sync>)>,
    /// Plugins whose PreFilter returned Skip: their Filter is not run.
    skip_filter: Vec<&'static str>,
    /// Plugins whose PreScore returned Skip: their Score is not run.
    skip_score: Vec<&'static str>,
}

impl CycleState {
    pub fn new() -> CycleState {
        CycleState::default()
    }

    pub fn write<T: Any + Send + Sync>(&mut self, key: &'static str, value: T) {
        self.entries.retain(|(k, _)| *k != key);
        self.entries.push((key, Box::new(value)));
    }

    pub fn read<T: Any>(&self, key: &'static str) -> Option<&T> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.downcast_ref())
    }

    pub fn read_mut<T: Any>(&mut self, key: &'static str) -> Option<&mut T> {
        self.entries
            .iter_mut()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.downcast_mut())
    }

    pub fn skip_filter(&mut self, plugin: &'static str) {
        self.skip_filter.push(plugin);
    }

    pub fn filter_skipped(&self, plugin: &'static str) -> bool {
        self.skip_filter.contains(&plugin)
    }

    pub fn skip_score(&mut self, plugin: &'static str) {
        self.skip_score.push(plugin);
    }

    pub fn score_skipped(&self, plugin: &'static str) -> bool {
        self.skip_score.contains(&plugin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_entries_by_plugin() {
        let mut state = CycleState::new();
        state.write("A", 3_i64);
        assert_eq!(state.read::<i64>("A"), Some(&3));
        assert_eq!(state.read::<u8>("A"), None);
        assert_eq!(state.read::<i64>("B"), None);
        state.skip_filter("A");
        assert!(state.filter_skipped("A"));
    }
}
