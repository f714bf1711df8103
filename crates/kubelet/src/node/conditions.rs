//! The node conditions the kubelet owns, computed from the runtime's readiness.

use jiff::Timestamp;
use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::NodeCondition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Whether the runtime and its network are ready, with upstream's message when not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeReadiness {
    Ready,
    NotReady(String),
}

/// Upstream's reading of a CRI Status: both RuntimeReady and NetworkReady must be true.
pub fn runtime_readiness(status: Option<&cri::RuntimeStatus>) -> RuntimeReadiness {
    let Some(status) = status else {
        return RuntimeReadiness::NotReady(
            "container runtime status check may not have completed yet".into(),
        );
    };
    let mut errors = Vec::new();
    for (kind, what) in [
        ("RuntimeReady", "container runtime not ready"),
        ("NetworkReady", "container runtime network not ready"),
    ] {
        match status.conditions.iter().find(|c| c.r#type == kind) {
            Some(c) if c.status => {}
            Some(c) => errors.push(format!(
                "{what}: {kind}=false reason:{} message:{}",
                c.reason, c.message
            )),
            None => errors.push(format!("{what}: {kind} is missing")),
        }
    }
    if errors.is_empty() {
        RuntimeReadiness::Ready
    } else {
        RuntimeReadiness::NotReady(errors.join(", "))
    }
}

/// The four conditions, keeping each one's transition time from `previous` when its status holds.
pub fn node_conditions(
    readiness: &RuntimeReadiness,
    previous: &[NodeCondition],
    now: Timestamp,
) -> Vec<NodeCondition> {
    let (ready_status, ready_reason, ready_message) = match readiness {
        RuntimeReadiness::Ready => (
            "True",
            "KubeletReady",
            "kubelet is posting ready status".to_string(),
        ),
        RuntimeReadiness::NotReady(message) => ("False", "KubeletNotReady", message.clone()),
    };
    let wanted = [
        (
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available".to_string(),
        ),
        (
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure".to_string(),
        ),
        (
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available".to_string(),
        ),
        ("Ready", ready_status, ready_reason, ready_message),
    ];
    wanted
        .into_iter()
        .map(|(type_, status, reason, message)| {
            let transition = previous
                .iter()
                .find(|c| c.type_ == type_ && c.status == status)
                .and_then(|c| c.last_transition_time.clone())
                .unwrap_or(Time(now));
            NodeCondition {
                type_: type_.to_string(),
                status: status.to_string(),
                reason: Some(reason.to_string()),
                message: Some(message),
                last_heartbeat_time: Some(Time(now)),
                last_transition_time: Some(transition),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(kind: &str, status: bool) -> cri::RuntimeCondition {
        cri::RuntimeCondition {
            r#type: kind.into(),
            status,
            reason: if status {
                String::new()
            } else {
                "NetworkPluginNotReady".into()
            },
            message: if status {
                String::new()
            } else {
                "Network plugin returns error: cni plugin not initialized".into()
            },
        }
    }

    #[test]
    fn ready_needs_runtime_and_network() {
        let ready = cri::RuntimeStatus {
            conditions: vec![
                condition("RuntimeReady", true),
                condition("NetworkReady", true),
            ],
        };
        assert_eq!(runtime_readiness(Some(&ready)), RuntimeReadiness::Ready);
        let no_network = cri::RuntimeStatus {
            conditions: vec![
                condition("RuntimeReady", true),
                condition("NetworkReady", false),
            ],
        };
        assert_eq!(
            runtime_readiness(Some(&no_network)),
            RuntimeReadiness::NotReady(
                "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized".into()
            )
        );
    }

    #[test]
    fn transition_time_kept_while_status_holds() {
        let t0 = Timestamp::from_second(1_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let t1 = Timestamp::from_second(2_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let first = node_conditions(&RuntimeReadiness::Ready, &[], t0);
        let second = node_conditions(&RuntimeReadiness::Ready, &first, t1);
        let ready = second.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(ready.last_transition_time, Some(Time(t0)));
        assert_eq!(ready.last_heartbeat_time, Some(Time(t1)));
        let third = node_conditions(&RuntimeReadiness::NotReady("x".into()), &second, t1);
        let ready = third.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.last_transition_time.clone()),
            ("False", Some(Time(t1)))
        );
    }
}
