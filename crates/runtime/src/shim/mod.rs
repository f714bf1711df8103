//! `r8s shim`: one process per container that runs it through the OCI runtime, holds its stdio,
//! writes the CRI log, records its exit status, and outlives a restart of r8s.

/// Entry point of `r8s shim`; returns the process exit code. Runs without an async runtime.
pub fn main(_args: &[String]) -> i32 {
    1
}
