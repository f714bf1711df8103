//! The status a quota should have: `hard` copied from the spec, `used` for each hard resource
//! (observed where computed, kept as it was otherwise), compared by value, not by text.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ResourceQuota, ResourceQuotaStatus};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::amount::Amounts;

type QuantityMap = BTreeMap<String, Quantity>;

/// `status.hard = spec.hard`; `status.used` masked to the hard resources, observed amounts
/// replacing the previous ones.
pub fn desired_status(quota: &ResourceQuota, observed: &Amounts) -> ResourceQuotaStatus {
    let hard: QuantityMap = quota
        .spec
        .as_ref()
        .and_then(|s| s.hard.clone())
        .unwrap_or_default();
    let previous = quota.status.as_ref().and_then(|s| s.used.as_ref());
    let used: QuantityMap = hard
        .keys()
        .filter_map(|name| {
            let value = match observed.get(name) {
                Some(amount) => Quantity(amount.canonical()),
                None => previous?.get(name)?.clone(),
            };
            Some((name.clone(), value))
        })
        .collect();
    ResourceQuotaStatus {
        hard: Some(hard),
        used: Some(used),
    }
}

/// Whether `current` differs from `desired` in any resource's value.
pub fn status_differs(
    current: Option<&ResourceQuotaStatus>,
    desired: &ResourceQuotaStatus,
) -> bool {
    let empty = QuantityMap::new();
    let hard = current.and_then(|s| s.hard.as_ref()).unwrap_or(&empty);
    let used = current.and_then(|s| s.used.as_ref()).unwrap_or(&empty);
    !same_values(hard, desired.hard.as_ref().unwrap_or(&empty))
        || !same_values(used, desired.used.as_ref().unwrap_or(&empty))
}

fn same_values(a: &QuantityMap, b: &QuantityMap) -> bool {
    let value = |q: &Quantity| api::quantity::Quantity::parse(&q.0).ok();
    a.len() == b.len()
        && a.iter().all(|(name, q)| {
            b.get(name).is_some_and(|other| {
                q.0 == other.0 || (value(q).is_some() && value(q) == value(other))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::super::amount::Amount;
    use super::*;

    fn quota(value: serde_json::Value) -> ResourceQuota {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn used_follows_hard_and_keeps_what_was_not_observed() {
        let q = quota(serde_json::json!({
            "metadata": {"name": "q"},
            "spec": {"hard": {"pods": "10", "requests.cpu": "2", "example.com/thing": "3"}},
            "status": {"used": {"example.com/thing": "1", "gone": "4", "pods": "7"}}
        }));
        let observed: Amounts = [
            ("pods".to_string(), Amount::count(2)),
            ("requests.cpu".to_string(), Amount::parse("500m").unwrap()),
            ("secrets".to_string(), Amount::count(1)),
        ]
        .into();
        let status = desired_status(&q, &observed);
        let used: Vec<(String, String)> = status
            .used
            .clone()
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        assert_eq!(
            used,
            [
                ("example.com/thing".to_string(), "1".to_string()),
                ("pods".to_string(), "2".to_string()),
                ("requests.cpu".to_string(), "500m".to_string())
            ]
        );
        assert!(status_differs(q.status.as_ref(), &status));
        assert!(!status_differs(Some(&status), &status));
    }

    #[test]
    fn equal_values_written_differently_are_the_same() {
        let a = ResourceQuotaStatus {
            hard: Some([("cpu".to_string(), Quantity("1000m".into()))].into()),
            used: None,
        };
        let b = ResourceQuotaStatus {
            hard: Some([("cpu".to_string(), Quantity("1".into()))].into()),
            used: Some(QuantityMap::new()),
        };
        assert!(!status_differs(Some(&a), &b));
    }
}
