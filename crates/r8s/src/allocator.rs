//! The process's memory allocator: jemalloc (default `jemalloc` feature), with the options in
//! `.cargo/config.toml` (`dirty_decay_ms:1000,muzzy_decay_ms:0`).
//!
//! Measured with `r8s bench scale --nodes 1000` on the 2-core VM against mimalloc v2 (the
//! previous allocator): a loaded server's RSS was 657 MiB instead of 730–739 MiB at 10,000 pods
//! (and 1,316 instead of 1,625 MiB at 30,000, jemalloc preloaded with these options), and after
//! the benchmark's cleanup it fell to 527 MiB where mimalloc kept 1,248 MiB — with the same
//! throughput. glibc's arenas fragment far worse and cost a third of
//! the CPU profile. `--no-default-features` builds with the system allocator for heap profilers
//! (heaptrack), which see only malloc.

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Lets jemalloc return freed memory to the kernel from a background thread on its decay
/// schedule; without one it purges only while the process allocates, so an idle server keeps
/// its peak. Long-running processes (server, agent) turn this on; the per-container shim and the
/// pause process never call it and stay one thread.
pub fn purge_freed_memory_in_background() {
    #[cfg(feature = "jemalloc")]
    if let Err(error) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!(%error, "jemalloc background purging is not available");
    }
}
