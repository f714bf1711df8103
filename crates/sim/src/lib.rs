//! Simulated nodes (kwok-like): register Nodes, keep them alive, and drive the pods bound to them.
#![forbid(unsafe_code)]
