//! PrioritySort: higher priority first, then the earlier queue timestamp.

use crate::framework::{Plugin, QueueSortPlugin};
use crate::queue::QueuedPodInfo;

pub const NAME: &str = "PrioritySort";

pub struct PrioritySort;

impl Plugin for PrioritySort {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl QueueSortPlugin for PrioritySort {
    fn less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool {
        let (pa, pb) = (a.pod.priority, b.pod.priority);
        pa > pb || (pa == pb && a.timestamp < b.timestamp)
    }
}
