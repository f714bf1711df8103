//! NodeName: a pod that names its node fits only there.

use crate::framework::{CycleState, FilterPlugin, Plugin, Status};
use crate::snapshot::{NodeInfo, PodInfo};

pub const NAME: &str = "NodeName";
pub const REASON: &str = "node(s) didn't match the requested node name";

pub struct NodeName;

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl FilterPlugin for NodeName {
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        match pod.pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
            Some(wanted) if !wanted.is_empty() && wanted != node.name => {
                Status::unresolvable(REASON)
            }
            _ => Status::success(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod};

    #[test]
    fn only_the_named_node_fits() {
        let mut p = pod("p");
        p.spec.get_or_insert_default().node_name = Some("a".into());
        let p = PodInfo::new(p, 0);
        let state = CycleState::new();
        assert!(NodeName.filter(&state, &p, &node("a").build()).is_success());
        let status = NodeName.filter(&state, &p, &node("b").build());
        assert_eq!(status, Status::unresolvable(REASON));
    }
}
