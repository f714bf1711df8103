//! The redb tables of the embedded store and the small bookkeeping values kept in `meta`.
//!
//! - `current`: key -> revision of its latest version, which `history` holds (stores written
//!   before that layout hold the whole latest KeyValue; see `current.rs`).
//! - `history`: (key, revision) -> put or tombstone, for reads at past revisions.
//! - `events`: revision -> full watch event, for watch replay. One write = one revision, so the
//!   revision alone identifies an event.
//! - `leases`: lease id -> (ttl seconds, expiry as unix millis).
//! - `lease_expiry`: (expiry unix millis, lease id) -> (), so expiry checks read only due leases.
//! - `lease_keys`: (lease id, key) -> (), to find the keys of an expiring lease.
//! - `meta`: named counters (current revision, compacted revision, next lease id).

use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use crate::{Revision, StorageError};

pub(crate) const CURRENT: TableDefinition<&str, &[u8]> = TableDefinition::new("current");
pub(crate) const HISTORY: TableDefinition<(&str, i64), &[u8]> = TableDefinition::new("history");
pub(crate) const EVENTS: TableDefinition<i64, &[u8]> = TableDefinition::new("events");
pub(crate) const LEASES: TableDefinition<i64, (i64, i64)> = TableDefinition::new("leases");
pub(crate) const LEASE_EXPIRY: TableDefinition<(i64, i64), ()> =
    TableDefinition::new("lease_expiry");
pub(crate) const LEASE_KEYS: TableDefinition<(i64, &str), ()> = TableDefinition::new("lease_keys");
pub(crate) const META: TableDefinition<&str, i64> = TableDefinition::new("meta");

pub(crate) const META_REVISION: &str = "revision";
pub(crate) const META_COMPACTED: &str = "compacted";
pub(crate) const META_NEXT_LEASE: &str = "next_lease";

/// Like etcd, an empty store is at revision 1 so that revision 0 can mean "latest".
pub(crate) const INITIAL_REVISION: Revision = 1;

/// The store-wide counters, read together from one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counters {
    pub revision: Revision,
    pub compacted: Revision,
    pub next_lease: i64,
}

pub(crate) fn read_counters(
    meta: &impl ReadableTable<&'static str, i64>,
) -> Result<Counters, StorageError> {
    let read = |name: &str, default: i64| -> Result<i64, StorageError> {
        Ok(meta
            .get(name)
            .map_err(StorageError::backend)?
            .map_or(default, |guard| guard.value()))
    };
    Ok(Counters {
        revision: read(META_REVISION, INITIAL_REVISION)?,
        compacted: read(META_COMPACTED, 0)?,
        next_lease: read(META_NEXT_LEASE, 1)?,
    })
}

/// Counters as of a fresh read transaction.
pub(crate) fn snapshot_counters(db: &redb::Database) -> Result<Counters, StorageError> {
    let txn = db.begin_read().map_err(StorageError::backend)?;
    let meta = txn.open_table(META).map_err(StorageError::backend)?;
    read_counters(&meta)
}

/// Creates every table so read transactions never meet a missing one.
pub(crate) fn create_all(db: &redb::Database) -> Result<(), StorageError> {
    let txn = db.begin_write().map_err(StorageError::backend)?;
    {
        txn.open_table(CURRENT).map_err(StorageError::backend)?;
        txn.open_table(HISTORY).map_err(StorageError::backend)?;
        txn.open_table(EVENTS).map_err(StorageError::backend)?;
        txn.open_table(LEASES).map_err(StorageError::backend)?;
        txn.open_table(LEASE_EXPIRY)
            .map_err(StorageError::backend)?;
        txn.open_table(LEASE_KEYS).map_err(StorageError::backend)?;
        txn.open_table(META).map_err(StorageError::backend)?;
    }
    txn.commit().map_err(StorageError::backend)
}
