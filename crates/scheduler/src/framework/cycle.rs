//! Per-cycle state that PreFilter/PreScore plugins compute once and Filter/Score read per node.

use std::any::Any;

/// Plugin-owned values for one scheduling attempt, keyed by plugin name.
#[derive(Default)]
pub struct CycleState {
    entries: Vec<(&'static str, Box<dyn Any + Send + Sync>)>,
    /// Plugins whose PreFilter returned Skip: their Filter is not run.
    skip_filter: Vec<&'static str>,
    /// The same, as bits over the profile's Filter plugins by position (bit i: the i-th is
    /// skipped), once PreFilter has run: Filter runs once per node, and this spares it comparing
    /// plugin names for every node. `None` until set, or after a later [`CycleState::skip_filter`].
    skipped_filter_bits: Option<u64>,
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
            .find(|(k, _)| same_key(k, key))
            .and_then(|(_, v)| v.downcast_ref())
    }

    pub fn read_mut<T: Any>(&mut self, key: &'static str) -> Option<&mut T> {
        self.entries
            .iter_mut()
            .find(|(k, _)| same_key(k, key))
            .and_then(|(_, v)| v.downcast_mut())
    }

    pub fn skip_filter(&mut self, plugin: &'static str) {
        self.skip_filter.push(plugin);
        self.skipped_filter_bits = None;
    }

    pub fn filter_skipped(&self, plugin: &'static str) -> bool {
        self.skip_filter.iter().any(|p| same_key(p, plugin))
    }

    /// Records which of `filters` (the profile's Filter plugin names, in order) are skipped, so
    /// [`CycleState::filter_skipped_at`] answers by position.
    pub fn index_skipped_filters<'a>(&mut self, filters: impl Iterator<Item = &'a str>) {
        let mut bits = 0u64;
        for (i, name) in filters.enumerate() {
            if i >= 64 {
                self.skipped_filter_bits = None;
                return;
            }
            if self.skip_filter.contains(&name) {
                bits |= 1 << i;
            }
        }
        self.skipped_filter_bits = Some(bits);
    }

    /// Whether the `index`-th Filter plugin (named `plugin`) is skipped.
    pub fn filter_skipped_at(&self, index: usize, plugin: &'static str) -> bool {
        match self.skipped_filter_bits {
            Some(bits) if index < 64 => bits & (1 << index) != 0,
            _ => self.filter_skipped(plugin),
        }
    }

    pub fn skip_score(&mut self, plugin: &'static str) {
        self.skip_score.push(plugin);
    }

    pub fn score_skipped(&self, plugin: &'static str) -> bool {
        self.skip_score.iter().any(|p| same_key(p, plugin))
    }
}

/// Key and plugin names are `&'static str` constants, usually the very same one: the address
/// answers without comparing bytes, the bytes when it does not.
fn same_key(a: &'static str, b: &'static str) -> bool {
    std::ptr::eq(a, b) || a == b
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

    #[test]
    fn skipped_filters_by_position() {
        let mut state = CycleState::new();
        state.skip_filter("B");
        // Before indexing, by name.
        assert!(state.filter_skipped_at(0, "B"));
        assert!(!state.filter_skipped_at(1, "A"));
        state.index_skipped_filters(["A", "B", "C"].into_iter());
        assert!(!state.filter_skipped_at(0, "A"));
        assert!(state.filter_skipped_at(1, "B"));
        assert!(!state.filter_skipped_at(2, "C"));
        // A later skip drops the index, so it counts.
        state.skip_filter("C");
        assert!(state.filter_skipped_at(2, "C"));
        // Past 64 plugins, by name.
        let many: Vec<String> = (0..70).map(|i| format!("P{i}")).collect();
        state.index_skipped_filters(many.iter().map(String::as_str));
        assert!(state.filter_skipped_at(65, "B"));
        assert!(!state.filter_skipped_at(65, "A"));
    }
}
