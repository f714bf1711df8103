//! The r8s API server: Kubernetes REST and watch over HTTPS, in front of revisioned storage.
//!
//! A request flows authentication → authorization → in-flight limits → routing → a handler that
//! decodes, defaults, validates and writes through the generic store; reads are served by the watch
//! cache. This crate is the only one that touches `storage`.
#![forbid(unsafe_code)]

pub mod authn;
pub mod authz;
mod bootstrap;
pub mod config;
mod discovery;
mod handlers;
pub mod http;
mod in_process;
pub mod inflight;
pub mod metrics;
pub mod pki;
pub mod registry;
pub mod request_info;
mod run;
pub mod server;
pub mod status;
pub mod watch_cache;

pub use in_process::InProcessTransport;
pub use run::{open_backend, run, RunError, ServeOptions, Started};
pub use server::ApiServer;
