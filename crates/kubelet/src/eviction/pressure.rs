//! The node conditions the eviction manager decides: MemoryPressure and DiskPressure.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::NodeCondition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Which pressures the last eviction check found; shared with the node status loop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PressureState {
    pub memory: bool,
    pub disk: bool,
}

pub type PressureSender = std::sync::Arc<tokio::sync::watch::Sender<PressureState>>;

/// A sender no eviction manager writes: no pressure.
pub fn no_pressure() -> PressureSender {
    std::sync::Arc::new(tokio::sync::watch::Sender::new(PressureState::default()))
}

/// Sets MemoryPressure and DiskPressure in `conditions` (as computed without pressure) to what
/// `state` says, with upstream's reasons and messages; transition times come from `previous`.
pub fn apply_pressure(
    conditions: &mut [NodeCondition],
    state: PressureState,
    previous: &[NodeCondition],
    now: Timestamp,
) {
    let wanted = [
        (
            "MemoryPressure",
            state.memory,
            "KubeletHasInsufficientMemory",
            "kubelet has insufficient memory available",
        ),
        (
            "DiskPressure",
            state.disk,
            "KubeletHasDiskPressure",
            "kubelet has disk pressure",
        ),
    ];
    for (kind, pressure, reason, message) in wanted {
        if !pressure {
            continue;
        }
        let Some(condition) = conditions.iter_mut().find(|c| c.type_ == kind) else {
            continue;
        };
        let transition = previous
            .iter()
            .find(|c| c.type_ == kind && c.status == "True")
            .and_then(|c| c.last_transition_time.clone())
            .unwrap_or(Time(now));
        condition.status = "True".into();
        condition.reason = Some(reason.into());
        condition.message = Some(message.into());
        condition.last_transition_time = Some(transition);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::conditions::{node_conditions, RuntimeReadiness};

    #[test]
    fn pressure_turns_conditions_true() {
        let t0 = Timestamp::from_second(1_000).unwrap();
        let t1 = Timestamp::from_second(2_000).unwrap();
        let mut first = node_conditions(&RuntimeReadiness::Ready, &[], t0);
        let state = PressureState {
            memory: true,
            disk: false,
        };
        apply_pressure(&mut first, state, &[], t0);
        let memory = first.iter().find(|c| c.type_ == "MemoryPressure").unwrap();
        assert_eq!(memory.status, "True");
        assert_eq!(
            memory.reason.as_deref(),
            Some("KubeletHasInsufficientMemory")
        );
        let disk = first.iter().find(|c| c.type_ == "DiskPressure").unwrap();
        assert_eq!(disk.status, "False");
        let mut second = node_conditions(&RuntimeReadiness::Ready, &first, t1);
        apply_pressure(&mut second, state, &first, t1);
        let memory = second.iter().find(|c| c.type_ == "MemoryPressure").unwrap();
        assert_eq!(memory.last_transition_time, Some(Time(t0)));
    }
}
