//! Pods take turns to start: at most `parallel` pod workers create sandboxes and containers at
//! once, first come first served.
//!
//! Starting a pod is CPU work outside the kubelet (the OCI runtime, CNI plugins, the shim), and a
//! burst of pods started all at once shares the CPU until every one of them is nearly done: each
//! pod then waits about as long as the whole burst, and the many runtimes at once cost more CPU
//! in all. Taking turns in arrival order lets the first pods run as soon as their own work is
//! done. A turn is given up while an image is pulled (network, not CPU), and when the sync ends.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The node's pod-start turns.
#[derive(Debug, Clone)]
pub struct StartGate {
    turns: Arc<Semaphore>,
}

impl StartGate {
    /// `parallel` pods may start at once (at least one).
    pub fn new(parallel: usize) -> Self {
        Self {
            turns: Arc::new(Semaphore::new(parallel.max(1))),
        }
    }

    /// One pod worker's place at the gate, not holding a turn yet.
    pub fn slot(&self) -> StartSlot {
        StartSlot {
            turns: self.turns.clone(),
            held: None,
        }
    }
}

/// A pod worker's turn, held from [`StartSlot::hold`] until [`StartSlot::release`] or drop.
#[derive(Debug)]
pub struct StartSlot {
    turns: Arc<Semaphore>,
    held: Option<OwnedSemaphorePermit>,
}

impl StartSlot {
    /// Waits for a turn (tokio's semaphore queues waiters in order); at once if one is held.
    pub async fn hold(&mut self) {
        if self.held.is_none() {
            // The gate is never closed; were it, the pod would start without a turn.
            self.held = self.turns.clone().acquire_owned().await.ok();
        }
    }

    /// Gives the turn to the next pod.
    pub fn release(&mut self) {
        self.held = None;
    }

    pub fn is_held(&self) -> bool {
        self.held.is_some()
    }
}

/// The default number of pods that start at once: the machine's CPUs, at least two.
pub fn default_parallel_starts() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(2)
        .max(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn turns_are_limited_and_given_in_arrival_order() {
        let gate = StartGate::new(1);
        let mut first = gate.slot();
        first.hold().await;
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for name in ["second", "third"] {
            let mut slot = gate.slot();
            let order = order.clone();
            waiters.push(tokio::spawn(async move {
                slot.hold().await;
                order.lock().unwrap().push(name);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }));
            // The second queues before the third.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(
            order.lock().unwrap().is_empty(),
            "a turn was given while held"
        );
        first.release();
        assert!(!first.is_held());
        for waiter in waiters {
            waiter.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["second", "third"]);
    }

    #[tokio::test]
    async fn holding_twice_takes_one_turn() {
        let gate = StartGate::new(2);
        let mut slot = gate.slot();
        slot.hold().await;
        slot.hold().await;
        let mut other = gate.slot();
        tokio::time::timeout(Duration::from_secs(1), other.hold())
            .await
            .expect("the second turn is free");
        drop(slot);
        let mut third = gate.slot();
        tokio::time::timeout(Duration::from_secs(1), third.hold())
            .await
            .expect("a dropped slot gives its turn back");
    }
}
