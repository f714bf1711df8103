use std::pin::Pin;

use futures::Stream;

use crate::StorageError;

/// A global, monotonically increasing store revision (etcd's `revision`). Kubernetes exposes it as
/// `resourceVersion`.
pub type Revision = i64;

/// A lease identifier; keys attached to a lease are deleted when it expires.
pub type LeaseId = i64;

/// One stored key with its etcd metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Vec<u8>,
    /// Revision of the put that created the key (reset when the key is deleted and created again).
    pub create_revision: Revision,
    /// Revision of the last modification of the key.
    pub mod_revision: Revision,
    /// Number of puts since the key was created (1 after the first put).
    pub version: i64,
    /// Lease the key is attached to, 0 for none.
    pub lease: LeaseId,
}

/// Condition a write checks atomically before it is applied (etcd txn compare).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Write unconditionally.
    None,
    /// The key must not exist (create).
    MustNotExist,
    /// The key must exist with exactly this mod_revision (compare-and-swap).
    ModRevision(Revision),
}

/// A range over all keys starting with `prefix`, in key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeRequest {
    pub prefix: String,
    /// First key to return (inclusive), used for pagination; must start with `prefix`. None = from the start.
    pub start_key: Option<String>,
    /// Maximum keys to return; 0 = no limit.
    pub limit: i64,
    /// Read the state as of this revision; 0 = latest. Compacted revisions fail with `Compacted`.
    pub revision: Revision,
    /// Only count, return no kvs.
    pub count_only: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeResponse {
    pub kvs: Vec<KeyValue>,
    /// True when more keys match after the last one returned.
    pub more: bool,
    /// Number of keys matching the whole range (ignoring `start_key` and `limit`).
    pub count: i64,
    /// The revision the range was served at.
    pub revision: Revision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Put,
    Delete,
}

/// One change, delivered in revision order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent {
    pub kind: EventKind,
    /// For `Put`: the key as written. For `Delete`: key, `mod_revision` = the deletion revision, and
    /// `value` = the value just before deletion (etcd's prev_kv), so deleted objects can be reported.
    pub kv: KeyValue,
    /// The previous state of the key, if it existed before this event.
    pub prev_kv: Option<KeyValue>,
}

/// A stream of events; an `Err(Compacted)` item ends it when the start revision is too old.
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchEvent, StorageError>> + Send>>;

/// Storage with etcd semantics. Every successful write is durable when the call returns.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The current revision of the whole store.
    async fn current_revision(&self) -> Result<Revision, StorageError>;

    /// The key at the latest revision, with the store revision it was read at.
    async fn get(&self, key: &str) -> Result<(Option<KeyValue>, Revision), StorageError>;

    /// Keys with a prefix, paginated, optionally at a past revision.
    async fn range(&self, request: RangeRequest) -> Result<RangeResponse, StorageError>;

    /// Write `value` under `key` if `precondition` holds; returns the key as written.
    /// `MustNotExist` failing gives `AlreadyExists`; `ModRevision` failing gives `Conflict`
    /// (or `NotFound` when the key is gone).
    async fn put(
        &self,
        key: &str,
        value: Vec<u8>,
        precondition: Precondition,
        lease: Option<LeaseId>,
    ) -> Result<KeyValue, StorageError>;

    /// Delete `key` if `precondition` holds; returns the deleted key as it was, with `mod_revision`
    /// set to the deletion revision.
    async fn delete(&self, key: &str, precondition: Precondition)
        -> Result<KeyValue, StorageError>;

    /// Every change to keys under `prefix` with revision > `after_revision`, then live changes.
    /// `after_revision` older than the compacted revision fails with `Compacted`.
    async fn watch(
        &self,
        prefix: &str,
        after_revision: Revision,
    ) -> Result<WatchStream, StorageError>;

    /// Discard history older than `revision`.
    async fn compact(&self, revision: Revision) -> Result<(), StorageError>;

    /// A lease that expires `ttl_seconds` from now unless kept alive.
    async fn grant_lease(&self, ttl_seconds: i64) -> Result<LeaseId, StorageError>;
}
