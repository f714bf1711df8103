//! The namespace's deletion conditions from what one deletion pass found: a pure function.

use std::collections::BTreeMap;

/// What one pass over a terminating namespace's content found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DeletionPass {
    pub discovery_failure: Option<String>,
    pub content_failures: Vec<String>,
    /// `<resource>.<group>` → objects still present.
    pub remaining_resources: BTreeMap<String, usize>,
    /// finalizer → objects still carrying it.
    pub remaining_finalizers: BTreeMap<String, usize>,
}

impl DeletionPass {
    pub fn is_complete(&self) -> bool {
        self.discovery_failure.is_none()
            && self.content_failures.is_empty()
            && self.remaining_resources.is_empty()
    }
}

/// One NamespaceCondition as (type, status, reason, message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionCondition {
    pub type_: &'static str,
    pub status: &'static str,
    pub reason: &'static str,
    pub message: String,
}

/// Upstream's five deletion conditions for this pass.
pub fn deletion_conditions(pass: &DeletionPass) -> Vec<DeletionCondition> {
    let discovery = match &pass.discovery_failure {
        Some(error) => condition(
            "NamespaceDeletionDiscoveryFailure",
            true,
            "DiscoveryFailed",
            format!("Discovery failed for some groups, {error}"),
        ),
        None => condition(
            "NamespaceDeletionDiscoveryFailure",
            false,
            "ResourcesDiscovered",
            "All resources successfully discovered".into(),
        ),
    };
    let parsing = condition(
        "NamespaceDeletionGroupVersionParsingFailure",
        false,
        "ParsedGroupVersions",
        "All legacy kube types successfully parsed".into(),
    );
    let content = if pass.content_failures.is_empty() {
        condition(
            "NamespaceDeletionContentFailure",
            false,
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization".into(),
        )
    } else {
        condition(
            "NamespaceDeletionContentFailure",
            true,
            "ContentDeletionFailed",
            format!(
                "Failed to delete all resource types, {} remaining: {}",
                pass.content_failures.len(),
                pass.content_failures.join(", ")
            ),
        )
    };
    let remaining = if pass.remaining_resources.is_empty() {
        condition(
            "NamespaceContentRemaining",
            false,
            "ContentRemoved",
            "All content successfully removed".into(),
        )
    } else {
        let listed: Vec<String> = pass
            .remaining_resources
            .iter()
            .map(|(resource, count)| format!("{resource} has {count} resource instances"))
            .collect();
        condition(
            "NamespaceContentRemaining",
            true,
            "SomeResourcesRemain",
            format!("Some resources are remaining: {}", listed.join(", ")),
        )
    };
    let finalizers = if pass.remaining_finalizers.is_empty() {
        condition(
            "NamespaceFinalizersRemaining",
            false,
            "ContentHasNoFinalizers",
            "All content-preserving finalizers finished".into(),
        )
    } else {
        let listed: Vec<String> = pass
            .remaining_finalizers
            .iter()
            .map(|(finalizer, count)| format!("{finalizer} in {count} resource instances"))
            .collect();
        condition(
            "NamespaceFinalizersRemaining",
            true,
            "SomeFinalizersRemain",
            format!(
                "Some content in the namespace has finalizers remaining: {}",
                listed.join(", ")
            ),
        )
    };
    vec![discovery, parsing, content, remaining, finalizers]
}

fn condition(
    type_: &'static str,
    status: bool,
    reason: &'static str,
    message: String,
) -> DeletionCondition {
    DeletionCondition {
        type_,
        status: if status { "True" } else { "False" },
        reason,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_pass_reports_everything_removed() {
        let pass = DeletionPass::default();
        assert!(pass.is_complete());
        let conditions = deletion_conditions(&pass);
        assert_eq!(conditions.len(), 5);
        assert!(conditions.iter().all(|c| c.status == "False"));
        assert_eq!(conditions[3].reason, "ContentRemoved");
    }

    #[test]
    fn remaining_content_and_finalizers_are_listed_as_upstream() {
        let pass = DeletionPass {
            remaining_resources: BTreeMap::from([("configmaps.".to_string(), 1)]),
            remaining_finalizers: BTreeMap::from([("example/test".to_string(), 1)]),
            ..DeletionPass::default()
        };
        assert!(!pass.is_complete());
        let conditions = deletion_conditions(&pass);
        assert_eq!(
            conditions[3].message,
            "Some resources are remaining: configmaps. has 1 resource instances"
        );
        assert_eq!(
            conditions[4].message,
            "Some content in the namespace has finalizers remaining: example/test in 1 resource instances"
        );
        assert_eq!(conditions[4].reason, "SomeFinalizersRemain");
    }
}
