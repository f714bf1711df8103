//! Scenario tests of the workload and node controllers against an in-process API server.

mod cronjob;
mod daemonset;
mod harness;
mod job;
mod node_lifecycle;
#[path = "../integration/harness.rs"]
mod server;
mod statefulset;
