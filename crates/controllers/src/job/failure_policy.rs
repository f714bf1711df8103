//! Matching a failed pod against `spec.podFailurePolicy`: the first matching rule decides.

use k8s_openapi::api::batch::v1::{PodFailurePolicy, PodFailurePolicyRule};
use k8s_openapi::api::core::v1::Pod;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureAction {
    FailJob,
    FailIndex,
    Ignore,
    Count,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedRule {
    pub action: FailureAction,
    pub message: String,
}

pub fn match_failed_pod(policy: &PodFailurePolicy, pod: &Pod) -> Option<MatchedRule> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    for (index, rule) in policy.rules.iter().enumerate() {
        let action = match rule.action.as_str() {
            "FailJob" => FailureAction::FailJob,
            "FailIndex" => FailureAction::FailIndex,
            "Ignore" => FailureAction::Ignore,
            _ => FailureAction::Count,
        };
        if let Some((container, code)) = matching_exit_code(rule, pod) {
            let message = format!(
                "Container {container} for pod {namespace}/{pod_name} failed with exit code {code} matching {} rule at index {index}",
                rule.action
            );
            return Some(MatchedRule { action, message });
        }
        if let Some(condition) = matching_condition(rule, pod) {
            let message = format!(
                "Pod {namespace}/{pod_name} has condition {condition} matching {} rule at index {index}",
                rule.action
            );
            return Some(MatchedRule { action, message });
        }
    }
    None
}

fn matching_exit_code(rule: &PodFailurePolicyRule, pod: &Pod) -> Option<(String, i32)> {
    let requirement = rule.on_exit_codes.as_ref()?;
    let status = pod.status.as_ref()?;
    let containers = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for container in containers {
        if requirement
            .container_name
            .as_ref()
            .is_some_and(|name| *name != container.name)
        {
            continue;
        }
        let Some(code) = container
            .state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(|t| t.exit_code)
        else {
            continue;
        };
        if code == 0 {
            continue;
        }
        let listed = requirement.values.contains(&code);
        let matches = match requirement.operator.as_str() {
            "In" => listed,
            "NotIn" => !listed,
            _ => false,
        };
        if matches {
            return Some((container.name.clone(), code));
        }
    }
    None
}

fn matching_condition(rule: &PodFailurePolicyRule, pod: &Pod) -> Option<String> {
    let patterns = rule.on_pod_conditions.as_ref()?;
    let conditions = pod.status.as_ref()?.conditions.as_ref()?;
    patterns.iter().find_map(|pattern| {
        let wanted_status = pattern.status.as_str();
        conditions
            .iter()
            .any(|c| c.type_ == pattern.type_ && c.status == wanted_status)
            .then(|| pattern.type_.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failed_pod(exit_code: i32) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "status": {
                "phase": "Failed",
                "conditions": [{"type": "DisruptionTarget", "status": "True"}],
                "containerStatuses": [{
                    "name": "main", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
                    "state": {"terminated": {"exitCode": exit_code}}
                }]
            }
        }))
        .unwrap()
    }

    fn policy(rules: serde_json::Value) -> PodFailurePolicy {
        serde_json::from_value(json!({ "rules": rules })).unwrap()
    }

    #[test]
    fn exit_code_in_fails_the_job_with_upstreams_message() {
        let policy = policy(
            json!([{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]),
        );
        let matched = match_failed_pod(&policy, &failed_pod(42)).unwrap();
        assert_eq!(matched.action, FailureAction::FailJob);
        assert_eq!(
            matched.message,
            "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0"
        );
        assert_eq!(match_failed_pod(&policy, &failed_pod(1)), None);
    }

    #[test]
    fn not_in_skips_listed_codes_and_conditions_match_by_type() {
        let policy = policy(json!([
            {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [1]}},
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}
        ]));
        assert_eq!(
            match_failed_pod(&policy, &failed_pod(3)).unwrap().action,
            FailureAction::Count
        );
        let ignored = match_failed_pod(&policy, &failed_pod(1)).unwrap();
        assert_eq!(ignored.action, FailureAction::Ignore);
        assert_eq!(
            ignored.message,
            "Pod ns/p has condition DisruptionTarget matching Ignore rule at index 1"
        );
    }
}
