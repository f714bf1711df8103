//! Upstream's container log manager: a running container's log file that grew past
//! `containerLogMaxSize` is renamed to `<n>.log.<timestamp>`, the runtime is asked to reopen it
//! (CRI ReopenContainerLog), older rotated files are gzip-compressed and only
//! `containerLogMaxFiles` files are kept.

mod manager;
pub mod rotation;

pub use manager::run_container_log_manager;
