//! What the watches and binding tasks tell the scheduling thread.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::scheduling::v1::PriorityClass;

use crate::framework::Status;
use crate::snapshot::PodInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Node,
    Pod,
    PriorityClass,
}

#[derive(Debug)]
pub enum Message {
    NodeApplied(Box<Node>),
    NodeDeleted(String),
    PodApplied(Box<Pod>),
    PodDeleted(Box<Pod>),
    PriorityClassApplied(Box<PriorityClass>),
    PriorityClassDeleted(String),
    /// A (re)list finished: objects of this kind not in `seen` (names of nodes and
    /// priority classes, uids of pods) are gone.
    Listed {
        kind: Kind,
        seen: HashSet<String>,
    },
    BindFinished {
        pod: Arc<PodInfo>,
        node: String,
        status: Status,
        attempts: u32,
    },
    Shutdown,
}
