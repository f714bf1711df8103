//! How many feasible nodes to find before scoring (upstream's `numFeasibleNodesToFind`).

/// Below this many nodes, or this many feasible nodes, every node is considered.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// The adaptive percentage never drops below this.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// `percentage` is `percentageOfNodesToScore`; `None` or 0 picks upstream's adaptive
/// default, 50% minus 1% per 125 nodes, at least 5%.
pub fn num_feasible_nodes_to_find(percentage: Option<u32>, num_all_nodes: usize) -> usize {
    let percentage = percentage.unwrap_or(0) as usize;
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND || percentage >= 100 {
        return num_all_nodes;
    }
    let adaptive = if percentage == 0 {
        50usize
            .saturating_sub(num_all_nodes / 125)
            .max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    } else {
        percentage
    };
    (num_all_nodes * adaptive / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_figures() {
        assert_eq!(num_feasible_nodes_to_find(None, 10), 10);
        assert_eq!(num_feasible_nodes_to_find(None, 99), 99);
        assert_eq!(num_feasible_nodes_to_find(None, 100), 100);
        // 50 - 1000/125 = 42%.
        assert_eq!(num_feasible_nodes_to_find(None, 1000), 420);
        // 50 - 40 = 10%.
        assert_eq!(num_feasible_nodes_to_find(None, 5000), 500);
        // Floor of 5%: 6000 nodes → 50 - 48 = 2% → 5%.
        assert_eq!(num_feasible_nodes_to_find(None, 6000), 300);
        assert_eq!(num_feasible_nodes_to_find(Some(40), 1000), 400);
        assert_eq!(num_feasible_nodes_to_find(Some(1), 1000), 100);
        assert_eq!(num_feasible_nodes_to_find(Some(100), 5000), 5000);
    }
}
