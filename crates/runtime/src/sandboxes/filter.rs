//! ListPodSandbox and ListPodSandboxStats filters.

use std::collections::HashMap;

use k8s_cri::v1 as cri;

/// Id prefix, state and label selector; every part that is set must match.
#[derive(Debug, Clone, Default)]
pub struct SandboxFilter {
    pub id: String,
    pub state: Option<cri::PodSandboxState>,
    pub labels: HashMap<String, String>,
}

impl SandboxFilter {
    pub fn matches(
        &self,
        id: &str,
        state: cri::PodSandboxState,
        labels: &HashMap<String, String>,
    ) -> bool {
        self.matches_lazily(id, || state, labels)
    }

    /// `matches`, asking for the state (a look at the pause process) only when id and labels fit.
    pub fn matches_lazily(
        &self,
        id: &str,
        state: impl FnOnce() -> cri::PodSandboxState,
        labels: &HashMap<String, String>,
    ) -> bool {
        id.starts_with(&self.id)
            && self
                .labels
                .iter()
                .all(|(key, value)| labels.get(key) == Some(value))
            && self.state.is_none_or(|wanted| wanted == state())
    }
}

impl From<cri::PodSandboxFilter> for SandboxFilter {
    fn from(filter: cri::PodSandboxFilter) -> Self {
        Self {
            id: filter.id,
            state: filter
                .state
                .and_then(|value| cri::PodSandboxState::try_from(value.state).ok()),
            labels: filter.label_selector,
        }
    }
}

impl From<cri::PodSandboxStatsFilter> for SandboxFilter {
    fn from(filter: cri::PodSandboxStatsFilter) -> Self {
        Self {
            id: filter.id,
            state: None,
            labels: filter.label_selector,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_set_part_must_match() {
        let labels: HashMap<_, _> = [
            ("app".to_owned(), "web".to_owned()),
            ("tier".to_owned(), "fe".to_owned()),
        ]
        .into();
        let ready = cri::PodSandboxState::SandboxReady;
        assert!(SandboxFilter::default().matches("abc", ready, &labels));
        let by_prefix = SandboxFilter {
            id: "ab".into(),
            ..Default::default()
        };
        assert!(by_prefix.matches("abc", ready, &labels));
        assert!(!by_prefix.matches("bcd", ready, &labels));
        let not_ready = SandboxFilter {
            state: Some(cri::PodSandboxState::SandboxNotready),
            ..Default::default()
        };
        assert!(!not_ready.matches("abc", ready, &labels));
        let by_label = SandboxFilter {
            labels: [("app".to_owned(), "web".to_owned())].into(),
            ..Default::default()
        };
        assert!(by_label.matches("abc", ready, &labels));
        assert!(!by_label.matches("abc", ready, &HashMap::new()));
    }
}
