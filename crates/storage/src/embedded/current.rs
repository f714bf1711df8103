//! The latest version of a key: its `current` record resolved against the history table.
//!
//! A write stores its value once, in the history table under (key, revision); `current` holds only
//! that revision. Compaction never prunes a key's latest version (it is visible at every later
//! revision), so the reference always resolves. Stores written before this layout hold whole
//! values in `current`; those records are read as they are until the key is written again.

use redb::ReadableTable;

use super::record::{decode_current, decode_history, CurrentEntry, HistoryEntry};
use crate::{KeyValue, StorageError};

/// The key value a `current` record (`bytes`, for `key`) stands for.
pub(crate) fn resolve(
    key: &str,
    bytes: &[u8],
    history: &impl ReadableTable<(&'static str, i64), &'static [u8]>,
) -> Result<KeyValue, StorageError> {
    let revision = match decode_current(key, bytes)? {
        CurrentEntry::Whole(kv) => return Ok(kv),
        CurrentEntry::At(revision) => revision,
    };
    let missing = || {
        StorageError::Backend(format!(
            "corrupt embedded store: the latest version of {key} (revision {revision}) is not in its history"
        ))
    };
    let entry = history
        .get((key, revision))
        .map_err(StorageError::backend)?
        .ok_or_else(missing)?;
    match decode_history(key, entry.value())? {
        HistoryEntry::Put(kv) => Ok(kv),
        HistoryEntry::Tombstone => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use redb::{Database, ReadableDatabase};

    use super::super::record::{encode_current_reference, encode_history_put, encode_kv};
    use super::super::tables::{CURRENT, HISTORY};
    use super::*;

    fn kv(value: &[u8], mod_revision: i64) -> KeyValue {
        KeyValue {
            key: "/registry/pods/default/a".into(),
            value: value.to_vec(),
            create_revision: 2,
            mod_revision,
            version: 1,
            lease: 0,
        }
    }

    fn database() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Database::create(dir.path().join("store.redb")).expect("redb");
        (dir, db)
    }

    #[test]
    fn references_and_whole_records_resolve() {
        let (_dir, db) = database();
        let latest = kv(b"new", 5);
        let txn = db.begin_write().expect("write");
        {
            let mut current = txn.open_table(CURRENT).expect("current");
            let mut history = txn.open_table(HISTORY).expect("history");
            history
                .insert(
                    (latest.key.as_str(), 4),
                    encode_history_put(&kv(b"old", 4)).as_slice(),
                )
                .expect("insert");
            history
                .insert(
                    (latest.key.as_str(), 5),
                    encode_history_put(&latest).as_slice(),
                )
                .expect("insert");
            current
                .insert(latest.key.as_str(), encode_current_reference(5).as_slice())
                .expect("insert");
            current
                .insert(
                    "/registry/pods/default/old-format",
                    encode_kv(&kv(b"whole", 3)).as_slice(),
                )
                .expect("insert");
            current
                .insert(
                    "/registry/pods/default/dangling",
                    encode_current_reference(9).as_slice(),
                )
                .expect("insert");
        }
        txn.commit().expect("commit");

        let read = db.begin_read().expect("read");
        let current = read.open_table(CURRENT).expect("current");
        let history = read.open_table(HISTORY).expect("history");
        let resolve_key = |key: &str| {
            let bytes = current.get(key).expect("get").expect("present");
            resolve(key, bytes.value(), &history)
        };
        assert_eq!(resolve_key(&latest.key).expect("resolves"), latest);
        let whole = resolve_key("/registry/pods/default/old-format").expect("resolves");
        assert_eq!(whole.value, b"whole");
        let dangling = resolve_key("/registry/pods/default/dangling")
            .expect_err("no such version")
            .to_string();
        assert!(dangling.contains("revision 9"), "{dangling}");
    }
}
