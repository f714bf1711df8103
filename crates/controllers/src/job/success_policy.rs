//! `spec.successPolicy` (Indexed Jobs): the first rule whose succeeded indexes and/or count are met.

use std::collections::BTreeSet;

use k8s_openapi::api::batch::v1::SuccessPolicy;

use super::indexes::parse_index_ranges;

pub fn matched_success_rule(policy: &SuccessPolicy, completed: &BTreeSet<i32>) -> Option<usize> {
    policy.rules.iter().position(|rule| {
        let (succeeded_in_scope, scope_size) = match rule.succeeded_indexes.as_deref() {
            Some(text) => {
                let scope = parse_index_ranges(text);
                (scope.intersection(completed).count(), Some(scope.len()))
            }
            None => (completed.len(), None),
        };
        match (rule.succeeded_count, scope_size) {
            (Some(count), _) => succeeded_in_scope as i32 >= count,
            (None, Some(size)) => succeeded_in_scope == size,
            (None, None) => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_match_on_indexes_and_counts() {
        let policy: SuccessPolicy = serde_json::from_value(json!({"rules": [
            {"succeededIndexes": "0-2"},
            {"succeededIndexes": "3-9", "succeededCount": 2}
        ]}))
        .unwrap();
        assert_eq!(
            matched_success_rule(&policy, &[0, 1].into_iter().collect()),
            None
        );
        assert_eq!(
            matched_success_rule(&policy, &[0, 1, 2].into_iter().collect()),
            Some(0)
        );
        assert_eq!(
            matched_success_rule(&policy, &[4, 8].into_iter().collect()),
            Some(1)
        );
    }
}
