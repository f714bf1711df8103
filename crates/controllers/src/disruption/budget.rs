//! PodDisruptionBudget arithmetic: how many matched pods must stay healthy and how many
//! disruptions that leaves, for minAvailable / maxUnavailable as integers or percentages
//! (percentages round up, as upstream).

use jiff::Timestamp;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

fn scaled_up(value: &IntOrString, total: i32) -> i32 {
    match value {
        IntOrString::Int(n) => *n,
        IntOrString::String(text) => {
            let percent: i64 = text.trim_end_matches('%').parse().unwrap_or(0);
            ((percent * i64::from(total) + 99) / 100) as i32
        }
    }
}

pub fn desired_healthy(pdb: &PodDisruptionBudget, expected: i32) -> i32 {
    let spec = pdb.spec.as_ref();
    if let Some(max_unavailable) = spec.and_then(|s| s.max_unavailable.as_ref()) {
        return (expected - scaled_up(max_unavailable, expected)).max(0);
    }
    match spec.and_then(|s| s.min_available.as_ref()) {
        Some(min_available) => scaled_up(min_available, expected),
        None => 1,
    }
}

pub fn budget_status(
    pdb: &PodDisruptionBudget,
    expected: i32,
    healthy: i32,
    now: Timestamp,
) -> PodDisruptionBudgetStatus {
    let desired = desired_healthy(pdb, expected);
    let allowed = if expected <= 0 {
        0
    } else {
        (healthy - desired).max(0)
    };
    let previous = pdb.status.clone().unwrap_or_default();
    let (status, reason) = if allowed > 0 {
        ("True", "SufficientPods")
    } else {
        ("False", "InsufficientPods")
    };
    let earlier = previous
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "DisruptionAllowed");
    let transition = match earlier {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => Time(now),
    };
    PodDisruptionBudgetStatus {
        current_healthy: healthy,
        desired_healthy: desired,
        disruptions_allowed: allowed,
        expected_pods: expected,
        observed_generation: pdb.metadata.generation,
        disrupted_pods: previous.disrupted_pods,
        conditions: Some(vec![Condition {
            type_: "DisruptionAllowed".into(),
            status: status.into(),
            reason: reason.into(),
            message: String::new(),
            last_transition_time: transition,
            observed_generation: pdb.metadata.generation,
        }]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pdb(spec: serde_json::Value) -> PodDisruptionBudget {
        serde_json::from_value(json!({"metadata": {"name": "p", "generation": 4}, "spec": spec}))
            .unwrap()
    }

    #[test]
    fn min_available_and_max_unavailable_as_numbers_and_percentages() {
        assert_eq!(desired_healthy(&pdb(json!({"minAvailable": 2})), 5), 2);
        assert_eq!(desired_healthy(&pdb(json!({"minAvailable": "50%"})), 5), 3);
        assert_eq!(desired_healthy(&pdb(json!({"maxUnavailable": 1})), 5), 4);
        assert_eq!(
            desired_healthy(&pdb(json!({"maxUnavailable": "30%"})), 5),
            3
        );
        assert_eq!(desired_healthy(&pdb(json!({"maxUnavailable": 9})), 5), 0);
    }

    #[test]
    fn disruptions_allowed_is_the_healthy_surplus() {
        let now = Timestamp::UNIX_EPOCH;
        let status = budget_status(&pdb(json!({"minAvailable": 2})), 3, 3, now);
        assert_eq!(
            (
                status.disruptions_allowed,
                status.current_healthy,
                status.desired_healthy
            ),
            (1, 3, 2)
        );
        assert_eq!(
            status.conditions.as_ref().unwrap()[0].reason,
            "SufficientPods"
        );
        assert_eq!(status.observed_generation, Some(4));
        let short = budget_status(&pdb(json!({"minAvailable": 2})), 3, 2, now);
        assert_eq!(short.disruptions_allowed, 0);
        assert_eq!(short.conditions.unwrap()[0].status, "False");
        assert_eq!(
            budget_status(&pdb(json!({"maxUnavailable": 1})), 0, 0, now).disruptions_allowed,
            0
        );
    }
}
