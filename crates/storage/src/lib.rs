//! Revisioned key-value storage with etcd semantics.
//!
//! The API server is the only user of this crate. Everything above it sees only [`Backend`]: which
//! implementation runs (embedded redb or etcd) is chosen by configuration alone.
//!
//! - [`embedded::EmbeddedBackend::open`]: a single redb file with group commit, MVCC history,
//!   watches and leases, no external process.
//! - [`etcd::EtcdBackend::connect`]: an etcd v3 cluster (3.4 or newer).
//!
//! Both pass the same conformance suite (`tests/conformance.rs`). Known differences: the embedded
//! store gives every key deleted by an expiring lease its own revision (etcd uses one revision for
//! the whole revocation), numbers leases 1, 2, 3... instead of randomly, and reports its exact
//! compacted revision in `Compacted`, where etcd's is only known if this process compacted.
#![forbid(unsafe_code)]

mod backend;
pub mod embedded;
mod error;
pub mod etcd;

pub use backend::{
    Backend, EventKind, KeyValue, LeaseId, Precondition, RangeRequest, RangeResponse, Revision,
    WatchEvent, WatchStream,
};
pub use error::StorageError;
