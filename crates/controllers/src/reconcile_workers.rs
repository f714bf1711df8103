//! How many reconciles one controller runs at once.
//!
//! kube-runtime runs reconciles with no limit by default and, on every wake-up, polls each one
//! still in flight (its `FutureHashMap` scans them all): with thousands of objects changing at
//! once (5,000 nodes heartbeating, 150,000 pods appearing) that scan took a tenth of the server's
//! CPU in `JoinHandle::poll` alone. Upstream's controllers run a few workers each
//! (`--concurrent-*-syncs`, 5 for most); ours are async, so a few more keep the API busy while
//! the rest of the work waits, deduplicated, in the controller's queue.

use kube::runtime::controller::Config;

/// Reconciles in flight per controller.
pub const RECONCILE_WORKERS: u16 = 16;

/// The configuration every controller runs with.
pub fn controller_config() -> Config {
    Config::default().concurrency(RECONCILE_WORKERS)
}
