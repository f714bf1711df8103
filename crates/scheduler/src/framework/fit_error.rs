//! Why no node fits, summarised as upstream's `FitError.Error()`.

use std::collections::HashMap;
use std::fmt;

use super::traits::NodeStatuses;

/// A scheduling failure for lack of a fitting node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FitError {
    pub num_all_nodes: usize,
    /// Reason → number of nodes that gave it.
    pub reasons: HashMap<String, usize>,
    /// Set when a PreFilter plugin rejected the pod for every node.
    pub pre_filter_message: Option<String>,
    /// The PostFilter (preemption) summary, e.g. "preemption: 0/3 nodes are available: ...".
    pub post_filter_message: Option<String>,
    /// Plugins that rejected the pod (for requeueing decisions).
    pub unschedulable_plugins: Vec<&'static str>,
}

impl FitError {
    pub fn from_statuses(num_all_nodes: usize, statuses: &NodeStatuses) -> FitError {
        let mut error = FitError {
            num_all_nodes,
            ..FitError::default()
        };
        for status in statuses.values() {
            for reason in status.reasons() {
                *error.reasons.entry(reason.clone()).or_default() += 1;
            }
            if !status.plugin().is_empty()
                && !error.unschedulable_plugins.contains(&status.plugin())
            {
                error.unschedulable_plugins.push(status.plugin());
            }
        }
        error
    }
}

/// "N reason" entries sorted as strings, as upstream's `sortReasonsHistogram`.
pub fn sorted_histogram(reasons: &HashMap<String, usize>) -> Vec<String> {
    let mut entries: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    entries.sort();
    entries
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0/{} nodes are available:", self.num_all_nodes)?;
        match &self.pre_filter_message {
            Some(message) => write!(f, " {message}.")?,
            None => {
                let sorted = sorted_histogram(&self.reasons);
                if !sorted.is_empty() {
                    write!(f, " {}.", sorted.join(", "))?;
                }
            }
        }
        if let Some(message) = &self.post_filter_message {
            write!(f, " {message}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Status;

    #[test]
    fn upstream_summary_format() {
        let mut statuses = NodeStatuses::new();
        statuses.insert(
            "cp".into(),
            Status::unresolvable(
                "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
            ),
        );
        statuses.insert("a".into(), Status::unschedulable("Insufficient cpu"));
        statuses.insert("b".into(), Status::unschedulable("Insufficient cpu"));
        let mut error = FitError::from_statuses(3, &statuses);
        error.post_filter_message = Some(
            "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
                .into(),
        );
        assert_eq!(
            error.to_string(),
            "0/3 nodes are available: 1 node(s) had untolerated taint \
             {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 \
             nodes are available: 3 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn histogram_sorts_as_strings() {
        let reasons: HashMap<String, usize> = [("b".to_string(), 10), ("a".to_string(), 2)].into();
        assert_eq!(sorted_histogram(&reasons), vec!["10 b", "2 a"]);
    }

    #[test]
    fn pre_filter_message_replaces_node_reasons() {
        let error = FitError {
            num_all_nodes: 2,
            pre_filter_message: Some("node(s) didn't match pod affinity rules".into()),
            ..FitError::default()
        };
        assert_eq!(
            error.to_string(),
            "0/2 nodes are available: node(s) didn't match pod affinity rules."
        );
    }
}
