//! Which blocks of the cluster CIDR are taken, and by which node: an index kept in step with the
//! nodes the controller sees, so that handing out a block scans a bitmap instead of reading every
//! node (which made registering 5,000 nodes cost 25 million copies of their CIDRs).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::cidr::ClusterCidr;

/// How often nodes that went away are looked for, freeing their blocks.
const PRUNE_INTERVAL: Duration = Duration::from_secs(5);
/// A node refused a block asks again after this, doubling on every refusal up to
/// [`MAX_RETRY_WAIT`]: upstream's default per-item back-off for its CIDR allocator's queue. The
/// controller reconciles a node on every Lease renewal; without the back-off a full range meant
/// a refusal and an Event write per node every 10 s (5,000 nodes: 500 writes a second).
const FIRST_RETRY_WAIT: Duration = Duration::from_millis(5);
const MAX_RETRY_WAIT: Duration = Duration::from_secs(1000);

/// What [`PodCidrs::allocate`] decided for a node.
#[derive(Debug, PartialEq, Eq)]
pub enum Allocation {
    /// A new block, taken now: write it to the node (and [`PodCidrs::release`] it if that fails).
    New(String),
    /// The node was given a block already (its update may not have been seen yet).
    Held,
    /// Every block is taken.
    Exhausted,
    /// The node was refused a block lately and may ask again later.
    RetryLater,
}

/// When a refused node may ask again, and how long it waits after its next refusal.
struct Refusal {
    retry_at: Instant,
    next_wait: Duration,
}

pub struct PodCidrs {
    range: ClusterCidr,
    taken: Vec<bool>,
    by_node: HashMap<String, u32>,
    seeded: bool,
    pruned_at: Option<Instant>,
    refused: HashMap<String, Refusal>,
}

impl PodCidrs {
    pub fn new(range: ClusterCidr) -> Self {
        Self {
            range,
            taken: vec![false; range.block_count() as usize],
            by_node: HashMap::new(),
            seeded: false,
            pruned_at: None,
            refused: HashMap::new(),
        }
    }

    /// The node holds `block` (read from its spec); a block outside the range is ignored.
    pub fn observe(&mut self, node: &str, block: &str) {
        let Some(index) = self.range.index_of(block) else {
            return;
        };
        if self.by_node.get(node) == Some(&index) {
            return;
        }
        self.release(node);
        self.taken[index as usize] = true;
        self.by_node.insert(node.to_string(), index);
    }

    /// Frees the node's block.
    pub fn release(&mut self, node: &str) {
        if let Some(index) = self.by_node.remove(node) {
            self.taken[index as usize] = false;
        }
    }

    /// The lowest free block for `node`. `held` lists every node's current block; it is read the
    /// first time. `exists` says whether a node is still there, to free the blocks of nodes that
    /// went away (at most every few seconds).
    pub fn allocate(
        &mut self,
        node: &str,
        held: impl FnOnce() -> Vec<(String, String)>,
        exists: impl Fn(&str) -> bool,
        now: Instant,
    ) -> Allocation {
        if !self.seeded {
            for (name, block) in held() {
                self.observe(&name, &block);
            }
            self.seeded = true;
        }
        if self.by_node.contains_key(node) {
            return Allocation::Held;
        }
        if self
            .refused
            .get(node)
            .is_some_and(|refusal| now < refusal.retry_at)
        {
            return Allocation::RetryLater;
        }
        let due = self
            .pruned_at
            .is_none_or(|at| now.saturating_duration_since(at) >= PRUNE_INTERVAL);
        if due {
            self.pruned_at = Some(now);
            let gone: Vec<String> = self
                .by_node
                .keys()
                .filter(|name| !exists(name))
                .cloned()
                .collect();
            for name in gone {
                self.release(&name);
            }
            self.refused.retain(|name, _| exists(name));
        }
        let Some(index) = self.taken.iter().position(|taken| !taken) else {
            self.refuse(node, now);
            return Allocation::Exhausted;
        };
        self.refused.remove(node);
        self.taken[index] = true;
        self.by_node.insert(node.to_string(), index as u32);
        Allocation::New(self.range.block(index as u32))
    }

    fn refuse(&mut self, node: &str, now: Instant) {
        let refusal = self.refused.entry(node.to_string()).or_insert(Refusal {
            retry_at: now,
            next_wait: FIRST_RETRY_WAIT,
        });
        refusal.retry_at = now + refusal.next_wait;
        refusal.next_wait = (refusal.next_wait * 2).min(MAX_RETRY_WAIT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(range: &str) -> PodCidrs {
        PodCidrs::new(ClusterCidr::parse(range, 24).unwrap())
    }

    #[test]
    fn blocks_go_lowest_first_and_skip_those_nodes_hold() {
        let mut cidrs = set("10.42.0.0/16");
        let now = Instant::now();
        let held = || vec![("a".to_string(), "10.42.0.0/24".to_string())];
        assert_eq!(
            cidrs.allocate("b", held, |_| true, now),
            Allocation::New("10.42.1.0/24".into())
        );
        assert_eq!(
            cidrs.allocate("b", Vec::new, |_| true, now),
            Allocation::Held
        );
        cidrs.observe("c", "10.42.2.0/24");
        assert_eq!(
            cidrs.allocate("d", Vec::new, |_| true, now),
            Allocation::New("10.42.3.0/24".into())
        );
        // A node whose write failed gives its block back.
        cidrs.release("d");
        assert_eq!(
            cidrs.allocate("e", Vec::new, |_| true, now),
            Allocation::New("10.42.3.0/24".into())
        );
    }

    #[test]
    fn a_full_range_frees_the_blocks_of_nodes_that_went_away() {
        let mut cidrs = set("10.0.0.0/23");
        let start = Instant::now();
        assert_eq!(
            cidrs.allocate("a", Vec::new, |_| true, start),
            Allocation::New("10.0.0.0/24".into())
        );
        assert_eq!(
            cidrs.allocate("b", Vec::new, |_| true, start),
            Allocation::New("10.0.1.0/24".into())
        );
        assert_eq!(
            cidrs.allocate("c", Vec::new, |n| n != "a", start),
            Allocation::Exhausted
        );
        let later = start + PRUNE_INTERVAL;
        assert_eq!(
            cidrs.allocate("c", Vec::new, |n| n != "a", later),
            Allocation::New("10.0.0.0/24".into())
        );
    }

    #[test]
    fn a_refused_node_asks_again_after_a_doubling_wait() {
        let mut cidrs = set("10.0.0.0/24");
        let start = Instant::now();
        assert_eq!(
            cidrs.allocate("a", Vec::new, |_| true, start),
            Allocation::New("10.0.0.0/24".into())
        );
        let mut at = start;
        let mut wait = FIRST_RETRY_WAIT;
        for _ in 0..25 {
            assert_eq!(
                cidrs.allocate("b", Vec::new, |_| true, at),
                Allocation::Exhausted
            );
            let almost = at + wait - Duration::from_millis(1);
            assert_eq!(
                cidrs.allocate("b", Vec::new, |_| true, almost),
                Allocation::RetryLater
            );
            at += wait;
            wait = (wait * 2).min(MAX_RETRY_WAIT);
        }
        assert_eq!(wait, MAX_RETRY_WAIT);
        // Another node is not held back by b's refusals.
        assert_eq!(
            cidrs.allocate("c", Vec::new, |_| true, at),
            Allocation::Exhausted
        );
        // Once a's block is free (a went away), b gets it at its next try, and a refusal
        // later starts from the first wait again.
        let later = at + PRUNE_INTERVAL;
        assert_eq!(
            cidrs.allocate("b", Vec::new, |n| n != "a", later),
            Allocation::New("10.0.0.0/24".into())
        );
        cidrs.release("b");
        cidrs.observe("d", "10.0.0.0/24");
        assert_eq!(
            cidrs.allocate("b", Vec::new, |_| true, later),
            Allocation::Exhausted
        );
        assert_eq!(
            cidrs.allocate("b", Vec::new, |_| true, later + FIRST_RETRY_WAIT),
            Allocation::Exhausted
        );
    }
}
