//! The watch cache: every object under `/registry/` held in memory, fed by one storage watch, so a
//! thousand watchers cost one storage watch and a list never touches disk.
//!
//! One feeder task lists the whole keyspace once, then applies the storage watch's events in revision
//! order. Because every write produces exactly one event on that watch, the revision the feeder has
//! applied is a consistent point for every resource at once: a consistent list waits until the cache
//! has reached the store's current revision, then reads memory.

mod feeder;
mod resource_cache;

pub use feeder::{start_watch_cache, WatchCache};
#[cfg(test)]
pub(crate) use resource_cache::HISTORY_CAPACITY;
pub use resource_cache::{CacheEvent, CacheEventKind, CachedObject, ResourceCache, Subscription};
