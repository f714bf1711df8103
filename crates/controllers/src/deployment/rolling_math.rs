//! Rolling update arithmetic (upstream's deployment/util): surge and unavailability budgets, how far
//! the new ReplicaSet may grow, and how far old ones may shrink.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// An int-or-percent against `total`, rounded up or down as upstream.
pub fn scaled_value(value: Option<&IntOrString>, total: i32, round_up: bool) -> i32 {
    match value {
        None => 0,
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(text)) => {
            let percent: f64 = text.trim_end_matches('%').parse().unwrap_or(0.0);
            let exact = percent * f64::from(total) / 100.0;
            let rounded = if round_up {
                exact.ceil()
            } else {
                exact.floor()
            };
            // Percentages of an i32 replica count stay within i32.
            rounded as i32
        }
    }
}

/// (maxSurge, maxUnavailable); both zero would deadlock, so unavailability becomes 1.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> (i32, i32) {
    let surge = scaled_value(max_surge, desired, true);
    let unavailable = scaled_value(max_unavailable, desired, false);
    if surge == 0 && unavailable == 0 {
        return (0, 1);
    }
    (surge, unavailable)
}

/// The new ReplicaSet's next size: grow within `desired + maxSurge` total pods.
pub fn new_replica_set_replicas(
    desired: i32,
    max_surge: i32,
    all_replicas: i32,
    new_replicas: i32,
) -> i32 {
    let max_total = desired + max_surge;
    if all_replicas >= max_total {
        return new_replicas;
    }
    let scale_up = (max_total - all_replicas)
        .min(desired - new_replicas)
        .max(0);
    new_replicas + scale_up
}

/// One old ReplicaSet as the scale-down sees it, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldReplicas {
    pub name: String,
    pub spec_replicas: i32,
    pub available_replicas: i32,
}

/// New sizes (name, replicas) for old ReplicaSets: first drop unhealthy replicas, then available
/// ones, never going below `desired - maxUnavailable` available pods.
pub fn scale_down_old_replica_sets(
    old: &[OldReplicas],
    desired: i32,
    max_unavailable: i32,
    new_spec_replicas: i32,
    new_available: i32,
) -> Vec<(String, i32)> {
    let old_total: i32 = old.iter().map(|r| r.spec_replicas).sum();
    if old_total == 0 {
        return Vec::new();
    }
    let all_total = old_total + new_spec_replicas;
    let min_available = desired - max_unavailable;
    let new_unavailable = new_spec_replicas - new_available;
    let max_scaled_down = all_total - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Vec::new();
    }
    let mut sizes: Vec<(String, i32, i32)> = old
        .iter()
        .map(|r| (r.name.clone(), r.spec_replicas, r.available_replicas))
        .collect();
    // Unhealthy replicas first: they cost no availability.
    let mut cleaned = 0;
    for (_, replicas, available) in sizes.iter_mut() {
        if cleaned >= max_scaled_down {
            break;
        }
        let unhealthy = (*replicas - *available).max(0);
        if *replicas == 0 || unhealthy == 0 {
            continue;
        }
        let down = unhealthy.min(max_scaled_down - cleaned);
        *replicas -= down;
        cleaned += down;
    }
    // Then available ones, keeping the minimum available.
    let available_total: i32 =
        sizes.iter().map(|(_, r, a)| (*a).min(*r)).sum::<i32>() + new_available;
    let mut budget = (available_total - min_available).max(0);
    for (_, replicas, _) in sizes.iter_mut() {
        if budget == 0 {
            break;
        }
        if *replicas == 0 {
            continue;
        }
        let down = (*replicas).min(budget);
        *replicas -= down;
        budget -= down;
    }
    sizes
        .into_iter()
        .zip(old)
        .filter(|((_, replicas, _), original)| *replicas != original.spec_replicas)
        .map(|((name, replicas, _), _)| (name, replicas))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(text: &str) -> IntOrString {
        IntOrString::String(text.into())
    }

    #[test]
    fn percentages_round_surge_up_and_unavailability_down() {
        assert_eq!(
            resolve_fenceposts(Some(&pct("25%")), Some(&pct("25%")), 10),
            (3, 2)
        );
        assert_eq!(
            resolve_fenceposts(Some(&pct("25%")), Some(&pct("25%")), 1),
            (1, 0)
        );
        assert_eq!(
            resolve_fenceposts(Some(&IntOrString::Int(0)), Some(&IntOrString::Int(0)), 3),
            (0, 1)
        );
        assert_eq!(
            resolve_fenceposts(Some(&pct("50%")), Some(&pct("10%")), 3),
            (2, 0)
        );
    }

    #[test]
    fn new_replica_set_grows_within_surge() {
        assert_eq!(new_replica_set_replicas(3, 1, 3, 0), 1);
        assert_eq!(new_replica_set_replicas(3, 1, 4, 1), 1);
        assert_eq!(new_replica_set_replicas(3, 3, 3, 0), 3);
        assert_eq!(new_replica_set_replicas(3, 1, 2, 2), 3);
    }

    #[test]
    fn old_replica_sets_shrink_keeping_minimum_available() {
        let old = vec![OldReplicas {
            name: "old".into(),
            spec_replicas: 3,
            available_replicas: 3,
        }];
        // 3 desired, surge 1, unavailable 0: new has 1 not yet available → nothing may go.
        assert!(scale_down_old_replica_sets(&old, 3, 0, 1, 0).is_empty());
        // Once the new pod is available one old pod may go.
        assert_eq!(
            scale_down_old_replica_sets(&old, 3, 0, 1, 1),
            vec![("old".to_string(), 2)]
        );
    }

    #[test]
    fn unhealthy_old_replicas_go_first() {
        let old = vec![OldReplicas {
            name: "old".into(),
            spec_replicas: 3,
            available_replicas: 1,
        }];
        // Room for one: an unhealthy old replica goes, no available one may.
        assert_eq!(
            scale_down_old_replica_sets(&old, 3, 0, 1, 1),
            vec![("old".to_string(), 2)]
        );
    }
}
