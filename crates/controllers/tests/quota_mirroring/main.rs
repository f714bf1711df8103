//! The resource quota and EndpointSlice mirroring controllers against an in-process API server
//! running every controller.

#[path = "../integration/harness.rs"]
mod harness;

mod endpointslice_mirroring;
mod resourcequota;
