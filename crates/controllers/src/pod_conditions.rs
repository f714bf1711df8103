//! What a pod's status says about it: active, ready, available (upstream's podutil).

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;

/// Not finished and not being deleted (upstream's IsPodActive).
pub fn is_pod_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    !matches!(phase, Some("Succeeded" | "Failed")) && pod.metadata.deletion_timestamp.is_none()
}

/// The Ready condition is True.
pub fn is_pod_ready(pod: &Pod) -> bool {
    ready_since(pod).is_some()
}

/// When the Ready condition last became True (None when not ready; the epoch when unknown).
pub fn ready_since(pod: &Pod) -> Option<Timestamp> {
    let condition = pod
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?;
    (condition.status == "True").then(|| {
        condition
            .last_transition_time
            .as_ref()
            .map(|t| t.0)
            .unwrap_or(Timestamp::UNIX_EPOCH)
    })
}

/// Ready for at least `min_ready_seconds` at `now`.
pub fn is_pod_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    let Some(since) = ready_since(pod) else {
        return false;
    };
    if min_ready_seconds <= 0 {
        return true;
    }
    since
        .checked_add(SignedDuration::from_secs(i64::from(min_ready_seconds)))
        .is_ok_and(|available_at| available_at <= now)
}

#[cfg(test)]
pub mod test_pods {
    use k8s_openapi::api::core::v1::Pod;

    /// A pod from a compact description for tests.
    pub fn pod(name: &str, node: &str, phase: &str, ready: Option<&str>, created: &str) -> Pod {
        let mut value = serde_json::json!({
            "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"),
                         "creationTimestamp": created, "labels": {"app": "web"}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": phase}
        });
        if let Some(since) = ready {
            value["status"]["conditions"] = serde_json::json!([
                {"type": "Ready", "status": "True", "lastTransitionTime": since}
            ]);
        }
        serde_json::from_value(value).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::test_pods::pod;
    use super::*;

    #[test]
    fn availability_waits_for_min_ready_seconds() {
        let ready = pod(
            "a",
            "n",
            "Running",
            Some("2024-01-01T00:00:00Z"),
            "2024-01-01T00:00:00Z",
        );
        let now: Timestamp = "2024-01-01T00:00:05Z".parse().unwrap();
        assert!(is_pod_available(&ready, 5, now));
        assert!(!is_pod_available(&ready, 6, now));
        let pending = pod("b", "", "Pending", None, "2024-01-01T00:00:00Z");
        assert!(!is_pod_available(&pending, 0, now));
        assert!(is_pod_active(&pending));
    }
}
