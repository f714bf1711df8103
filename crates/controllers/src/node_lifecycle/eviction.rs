//! Taint-based eviction: when a pod on a node with NoExecute taints must go. An untolerated
//! taint evicts at once; tolerated taints evict after the smallest tolerationSeconds among the
//! matching tolerations, counted from when the taint was added; no tolerationSeconds: never.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Taint, Toleration};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    Never,
    Now,
    At(Timestamp),
}

fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect_matches = toleration
        .effect
        .as_deref()
        .is_none_or(|e| e.is_empty() || e == taint.effect);
    let key_matches = toleration
        .key
        .as_deref()
        .is_none_or(|k| k.is_empty() || k == taint.key);
    let value_matches = toleration.operator.as_deref() == Some("Exists")
        || toleration.value.as_deref().unwrap_or_default()
            == taint.value.as_deref().unwrap_or_default();
    effect_matches && key_matches && value_matches
}

pub fn eviction_for(tolerations: &[Toleration], taints: &[Taint], now: Timestamp) -> Eviction {
    let no_execute: Vec<&Taint> = taints.iter().filter(|t| t.effect == "NoExecute").collect();
    if no_execute.is_empty() {
        return Eviction::Never;
    }
    let mut earliest: Option<Timestamp> = None;
    for taint in no_execute {
        let matching: Vec<&Toleration> =
            tolerations.iter().filter(|t| tolerates(t, taint)).collect();
        if matching.is_empty() {
            return Eviction::Now;
        }
        if matching.iter().any(|t| t.toleration_seconds.is_none()) {
            continue;
        }
        let seconds = matching
            .iter()
            .filter_map(|t| t.toleration_seconds)
            .min()
            .unwrap_or(0)
            .max(0);
        let added = taint.time_added.as_ref().map_or(now, |t| t.0);
        let deadline = added + SignedDuration::from_secs(seconds);
        earliest = Some(earliest.map_or(deadline, |e| e.min(deadline)));
    }
    match earliest {
        None => Eviction::Never,
        Some(deadline) if deadline <= now => Eviction::Now,
        Some(deadline) => Eviction::At(deadline),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn taint() -> Vec<Taint> {
        serde_json::from_value(
            json!([{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute",
                                       "timeAdded": "2025-01-01T00:00:00Z"}]),
        )
        .unwrap()
    }

    #[test]
    fn toleration_seconds_delay_eviction_and_missing_tolerations_evict_now() {
        let now: Timestamp = "2025-01-01T00:01:00Z".parse().unwrap();
        assert_eq!(eviction_for(&[], &taint(), now), Eviction::Now);
        let five_minutes: Vec<Toleration> =
            serde_json::from_value(json!([{"key": "node.kubernetes.io/unreachable",
            "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]))
            .unwrap();
        assert_eq!(
            eviction_for(&five_minutes, &taint(), now),
            Eviction::At("2025-01-01T00:05:00Z".parse().unwrap())
        );
        let forever: Vec<Toleration> =
            serde_json::from_value(json!([{"operator": "Exists"}])).unwrap();
        assert_eq!(eviction_for(&forever, &taint(), now), Eviction::Never);
        assert_eq!(eviction_for(&[], &[], now), Eviction::Never);
    }
}
