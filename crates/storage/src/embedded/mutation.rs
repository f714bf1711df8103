//! The effect of each write on the tables, inside the writer's batch transaction.
//!
//! Every method returns `Result<Answer<T>, StorageError>`: the outer error means the transaction
//! itself is broken (I/O, corruption) and the whole batch must be abandoned; the inner [`Answer`]
//! is what the caller of that single write gets, e.g. a failed precondition, which changes nothing.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{ReadableTable, Table, WriteTransaction};

use super::record::{
    decode_event, encode_current_reference, encode_event_reference, encode_history,
    encode_history_put, is_tombstone, HistoryEntry,
};
use super::tables::{
    read_counters, Counters, CURRENT, EVENTS, HISTORY, LEASES, LEASE_EXPIRY, LEASE_KEYS, META,
    META_COMPACTED, META_NEXT_LEASE, META_REVISION,
};
use crate::{EventKind, KeyValue, LeaseId, Precondition, Revision, StorageError, WatchEvent};

/// What one caller of a batched write receives.
pub(crate) type Answer<T> = Result<T, StorageError>;

/// The open tables of one batch transaction plus the counters advanced by its writes.
pub(crate) struct Mutation<'txn> {
    current: Table<'txn, &'static str, &'static [u8]>,
    history: Table<'txn, (&'static str, i64), &'static [u8]>,
    events_log: Table<'txn, i64, &'static [u8]>,
    leases: Table<'txn, i64, (i64, i64)>,
    lease_expiry: Table<'txn, (i64, i64), ()>,
    lease_keys: Table<'txn, (i64, &'static str), ()>,
    meta: Table<'txn, &'static str, i64>,
    counters: Counters,
    /// Events of this batch, in revision order, to fan out once the batch is committed.
    pub(crate) events: Vec<WatchEvent>,
}

impl<'txn> Mutation<'txn> {
    pub(crate) fn begin(txn: &'txn WriteTransaction) -> Result<Self, StorageError> {
        let meta = txn.open_table(META).map_err(StorageError::backend)?;
        let counters = read_counters(&meta)?;
        Ok(Self {
            current: txn.open_table(CURRENT).map_err(StorageError::backend)?,
            history: txn.open_table(HISTORY).map_err(StorageError::backend)?,
            events_log: txn.open_table(EVENTS).map_err(StorageError::backend)?,
            leases: txn.open_table(LEASES).map_err(StorageError::backend)?,
            lease_expiry: txn
                .open_table(LEASE_EXPIRY)
                .map_err(StorageError::backend)?,
            lease_keys: txn.open_table(LEASE_KEYS).map_err(StorageError::backend)?,
            meta,
            counters,
            events: Vec::new(),
        })
    }

    /// Persists the advanced counters; call once after the last write of the batch.
    pub(crate) fn finish(mut self) -> Result<Vec<WatchEvent>, StorageError> {
        let Counters {
            revision,
            compacted,
            next_lease,
        } = self.counters;
        for (name, value) in [
            (META_REVISION, revision),
            (META_COMPACTED, compacted),
            (META_NEXT_LEASE, next_lease),
        ] {
            self.meta
                .insert(name, value)
                .map_err(StorageError::backend)?;
        }
        Ok(self.events)
    }

    pub(crate) fn put(
        &mut self,
        key: &str,
        value: Vec<u8>,
        precondition: Precondition,
        lease: LeaseId,
    ) -> Result<Answer<KeyValue>, StorageError> {
        let existing = self.current_kv(key)?;
        if let Err(refused) = check_precondition(key, existing.as_ref(), precondition) {
            return Ok(Err(refused));
        }
        if lease != 0
            && self
                .leases
                .get(lease)
                .map_err(StorageError::backend)?
                .is_none()
        {
            return Ok(Err(StorageError::LeaseNotFound(lease)));
        }
        let revision = self.counters.revision + 1;
        let kv = KeyValue {
            key: key.to_owned(),
            value,
            create_revision: existing.as_ref().map_or(revision, |kv| kv.create_revision),
            mod_revision: revision,
            version: existing.as_ref().map_or(1, |kv| kv.version + 1),
            lease,
        };
        let old_lease = existing.as_ref().map_or(0, |kv| kv.lease);
        if old_lease != 0 && old_lease != lease {
            self.lease_keys
                .remove((old_lease, key))
                .map_err(StorageError::backend)?;
        }
        if lease != 0 {
            self.lease_keys
                .insert((lease, key), ())
                .map_err(StorageError::backend)?;
        }
        // The value goes into the history only; `current` names its revision (see `current`).
        self.current
            .insert(key, encode_current_reference(revision).as_slice())
            .map_err(StorageError::backend)?;
        let history = encode_history_put(&kv);
        self.record(
            WatchEvent {
                kind: EventKind::Put,
                kv: kv.clone(),
                prev_kv: existing,
            },
            &history,
        )?;
        Ok(Ok(kv))
    }

    pub(crate) fn delete(
        &mut self,
        key: &str,
        precondition: Precondition,
    ) -> Result<Answer<KeyValue>, StorageError> {
        let Some(existing) = self.current_kv(key)? else {
            return Ok(Err(StorageError::NotFound {
                key: key.to_owned(),
            }));
        };
        if let Err(refused) = check_precondition(key, Some(&existing), precondition) {
            return Ok(Err(refused));
        }
        let revision = self.counters.revision + 1;
        let deleted = KeyValue {
            mod_revision: revision,
            ..existing.clone()
        };
        if existing.lease != 0 {
            self.lease_keys
                .remove((existing.lease, key))
                .map_err(StorageError::backend)?;
        }
        self.current.remove(key).map_err(StorageError::backend)?;
        self.record(
            WatchEvent {
                kind: EventKind::Delete,
                kv: deleted.clone(),
                prev_kv: Some(existing),
            },
            &encode_history(&HistoryEntry::Tombstone),
        )?;
        Ok(Ok(deleted))
    }

    /// Drops history older than `revision`: events below it and every key version superseded at
    /// it. Reads at `revision` or later keep working; the revision is remembered as compacted.
    pub(crate) fn compact(&mut self, revision: Revision) -> Result<Answer<()>, StorageError> {
        let Counters {
            revision: current,
            compacted,
            ..
        } = self.counters;
        if revision <= compacted {
            return Ok(Err(StorageError::Compacted {
                requested: revision,
                compacted,
            }));
        }
        if revision > current {
            return Ok(Err(StorageError::FutureRevision {
                requested: revision,
                current,
            }));
        }
        // Only keys written since the previous compaction can have prunable versions: older ones
        // were pruned down to one entry then, and that entry's event is still in the log.
        let mut touched = BTreeSet::new();
        for entry in self
            .events_log
            .range(..revision)
            .map_err(StorageError::backend)?
        {
            let (_, event) = entry.map_err(StorageError::backend)?;
            touched.insert(decode_event(event.value())?.key().to_owned());
        }
        // The log keeps the event at `revision` itself, and the log names versions in the
        // history: the version just before that event (its previous value) must stay too.
        for key in &touched {
            self.prune_key_history(key, revision - 1)?;
        }
        self.events_log
            .retain_in(..revision, |_, _| false)
            .map_err(StorageError::backend)?;
        self.counters.compacted = revision;
        Ok(Ok(()))
    }

    pub(crate) fn grant_lease(
        &mut self,
        ttl_seconds: i64,
    ) -> Result<Answer<LeaseId>, StorageError> {
        if ttl_seconds <= 0 {
            return Ok(Err(StorageError::Backend(format!(
                "lease TTL must be positive, got {ttl_seconds}"
            ))));
        }
        let id = self.counters.next_lease;
        let expires_at = unix_millis().saturating_add(ttl_seconds.saturating_mul(1000));
        self.leases
            .insert(id, (ttl_seconds, expires_at))
            .map_err(StorageError::backend)?;
        self.lease_expiry
            .insert((expires_at, id), ())
            .map_err(StorageError::backend)?;
        self.counters.next_lease = id + 1;
        Ok(Ok(id))
    }

    /// Deletes every key attached to the lease (each with its own revision and Delete event), then
    /// the lease. An unknown lease is already gone, which is fine.
    pub(crate) fn expire_lease(&mut self, id: LeaseId) -> Result<Answer<()>, StorageError> {
        let mut keys = Vec::new();
        for entry in self
            .lease_keys
            .range((id, "")..)
            .map_err(StorageError::backend)?
        {
            let (attached, _) = entry.map_err(StorageError::backend)?;
            let (lease, key) = attached.value();
            if lease != id {
                break;
            }
            keys.push(key.to_owned());
        }
        for key in keys {
            match self.delete(&key, Precondition::None)? {
                Ok(_) | Err(StorageError::NotFound { .. }) => {}
                Err(other) => return Ok(Err(other)),
            }
        }
        let removed = self.leases.remove(id).map_err(StorageError::backend)?;
        if let Some(times) = removed {
            let (_ttl_seconds, expires_at) = times.value();
            self.lease_expiry
                .remove((expires_at, id))
                .map_err(StorageError::backend)?;
        }
        Ok(Ok(()))
    }

    fn current_kv(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        match self.current.get(key).map_err(StorageError::backend)? {
            Some(bytes) => Ok(Some(super::current::resolve(
                key,
                bytes.value(),
                &self.history,
            )?)),
            None => Ok(None),
        }
    }

    /// Appends one event at the next revision to the history (`history_entry`, encoded) and the
    /// event log (a reference to that history entry).
    fn record(&mut self, event: WatchEvent, history_entry: &[u8]) -> Result<(), StorageError> {
        let revision = event.kv.mod_revision;
        self.history
            .insert((event.kv.key.as_str(), revision), history_entry)
            .map_err(StorageError::backend)?;
        self.events_log
            .insert(
                revision,
                encode_event_reference(event.kind, &event.kv.key).as_slice(),
            )
            .map_err(StorageError::backend)?;
        self.counters.revision = revision;
        self.events.push(event);
        Ok(())
    }

    /// Keeps, of the versions of `key` at or below `revision`, only the one visible at `revision`
    /// (and not even that one when it is a deletion older than `revision`).
    fn prune_key_history(&mut self, key: &str, revision: Revision) -> Result<(), StorageError> {
        let mut versions = Vec::new();
        for entry in self
            .history
            .range((key, i64::MIN)..=(key, revision))
            .map_err(StorageError::backend)?
        {
            let (id, bytes) = entry.map_err(StorageError::backend)?;
            versions.push((id.value().1, is_tombstone(bytes.value())));
        }
        let Some(&(visible, visible_is_tombstone)) = versions.last() else {
            return Ok(());
        };
        for &(version_revision, _) in &versions {
            let superseded = version_revision < visible;
            let dead_tombstone =
                version_revision == visible && visible_is_tombstone && version_revision < revision;
            if superseded || dead_tombstone {
                self.history
                    .remove((key, version_revision))
                    .map_err(StorageError::backend)?;
            }
        }
        Ok(())
    }
}

/// `Ok` when the write may go ahead.
fn check_precondition(
    key: &str,
    existing: Option<&KeyValue>,
    precondition: Precondition,
) -> Result<(), StorageError> {
    match (precondition, existing) {
        (Precondition::None, _) => Ok(()),
        (Precondition::MustNotExist, None) => Ok(()),
        (Precondition::MustNotExist, Some(_)) => Err(StorageError::AlreadyExists {
            key: key.to_owned(),
        }),
        (Precondition::ModRevision(_), None) => Err(StorageError::NotFound {
            key: key.to_owned(),
        }),
        (Precondition::ModRevision(expected), Some(kv)) if kv.mod_revision == expected => Ok(()),
        (Precondition::ModRevision(_), Some(kv)) => Err(StorageError::Conflict {
            key: key.to_owned(),
            current: Some(Box::new(kv.clone())),
        }),
    }
}

pub(crate) fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
