//! `r8s pause`: the process that holds a sandbox's network, IPC and UTS namespaces.

/// Entry point of `r8s pause`; returns the process exit code. Runs without an async runtime.
pub fn main() -> i32 {
    1
}
