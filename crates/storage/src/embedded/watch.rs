//! Watch streams: replay of the event log, then live events from the writer's broadcast.
//!
//! The broadcast receiver is subscribed *before* the first replay read. Anything committed before
//! the subscription is therefore in the log the replay reads, anything after it arrives on the
//! receiver, and events that are in both are dropped by revision (`seen`), so there is neither a
//! gap nor a duplicate.
//!
//! A watcher that falls more than the broadcast buffer behind loses its place in the broadcast,
//! not events: it goes back to replaying the durable log from the last revision it saw (as etcd
//! does for slow watchers), then rejoins the broadcast. Only compaction of that history ends it,
//! with `Compacted`, like any watch from a compacted revision.

use std::collections::VecDeque;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable};
use tokio::sync::broadcast;

use super::record::{decode_event, decode_history, HistoryEntry, LoggedEvent};
use super::tables::{read_counters, EVENTS, HISTORY, META};
use super::writer::CommittedEvents;
use crate::{EventKind, KeyValue, Revision, StorageError, WatchEvent, WatchStream};

/// Events read per replay transaction, bounding memory for watches from far back.
const REPLAY_CHUNK: usize = 512;

enum Phase {
    Replaying,
    Live,
    Ended,
}

struct Watch {
    db: Arc<Database>,
    live: broadcast::Receiver<CommittedEvents>,
    prefix: String,
    /// Highest revision already considered (delivered or filtered out by prefix).
    seen: Revision,
    phase: Phase,
    ready: VecDeque<WatchEvent>,
}

pub(crate) fn stream(
    db: Arc<Database>,
    live: broadcast::Receiver<CommittedEvents>,
    prefix: String,
    after_revision: Revision,
) -> WatchStream {
    let watch = Watch {
        db,
        live,
        prefix,
        seen: after_revision,
        phase: Phase::Replaying,
        ready: VecDeque::new(),
    };
    Box::pin(futures::stream::unfold(watch, |mut watch| async move {
        let item = watch.next().await?;
        Some((item, watch))
    }))
}

impl Watch {
    async fn next(&mut self) -> Option<Result<WatchEvent, StorageError>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(Ok(event));
            }
            let step = match self.phase {
                Phase::Ended => return None,
                Phase::Replaying => self.replay_chunk().await,
                Phase::Live => self.receive_live().await,
            };
            if let Err(error) = step {
                self.phase = Phase::Ended;
                return Some(Err(error));
            }
        }
    }

    async fn replay_chunk(&mut self) -> Result<(), StorageError> {
        let db = Arc::clone(&self.db);
        let after = self.seen;
        let chunk = tokio::task::spawn_blocking(move || read_log(&db, after))
            .await
            .map_err(StorageError::backend)??;
        if chunk.len() < REPLAY_CHUNK {
            self.phase = Phase::Live;
        }
        for event in chunk {
            self.accept(event);
        }
        Ok(())
    }

    async fn receive_live(&mut self) -> Result<(), StorageError> {
        match self.live.recv().await {
            Ok(batch) => {
                for event in batch.iter() {
                    self.accept(event.clone());
                }
                Ok(())
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::debug!(
                    missed,
                    seen = self.seen,
                    "slow watcher catches up from the log"
                );
                self.phase = Phase::Replaying;
                Ok(())
            }
            // The backend was dropped: the stream simply ends.
            Err(broadcast::error::RecvError::Closed) => {
                self.phase = Phase::Ended;
                Ok(())
            }
        }
    }

    fn accept(&mut self, event: WatchEvent) {
        let revision = event.kv.mod_revision;
        if revision <= self.seen {
            return;
        }
        self.seen = revision;
        if event.kv.key.starts_with(&self.prefix) {
            self.ready.push_back(event);
        }
    }
}

/// Up to [`REPLAY_CHUNK`] logged events after `after`, failing if compaction removed some of them.
fn read_log(db: &Database, after: Revision) -> Result<Vec<WatchEvent>, StorageError> {
    let txn = db.begin_read().map_err(StorageError::backend)?;
    let counters = read_counters(&txn.open_table(META).map_err(StorageError::backend)?)?;
    check_not_compacted(after, counters.compacted)?;
    let log = txn.open_table(EVENTS).map_err(StorageError::backend)?;
    let history = txn.open_table(HISTORY).map_err(StorageError::backend)?;
    let mut events = Vec::new();
    for entry in log
        .range(after.saturating_add(1)..)
        .map_err(StorageError::backend)?
        .take(REPLAY_CHUNK)
    {
        let (revision, bytes) = entry.map_err(StorageError::backend)?;
        let event = match decode_event(bytes.value())? {
            LoggedEvent::Whole(event) => event,
            LoggedEvent::Reference { kind, key } => resolve(&history, revision.value(), kind, key)?,
        };
        events.push(event);
    }
    Ok(events)
}

/// The whole event of a logged reference: the key's version at `revision` and the one before.
fn resolve(
    history: &impl ReadableTable<(&'static str, i64), &'static [u8]>,
    revision: Revision,
    kind: EventKind,
    key: String,
) -> Result<WatchEvent, StorageError> {
    let previous = {
        let mut earlier = history
            .range((key.as_str(), i64::MIN)..(key.as_str(), revision))
            .map_err(StorageError::backend)?;
        match earlier.next_back() {
            Some(entry) => {
                let (_, bytes) = entry.map_err(StorageError::backend)?;
                match decode_history(&key, bytes.value())? {
                    HistoryEntry::Put(kv) => Some(kv),
                    HistoryEntry::Tombstone => None,
                }
            }
            None => None,
        }
    };
    match kind {
        EventKind::Put => {
            let written = history
                .get((key.as_str(), revision))
                .map_err(StorageError::backend)?
                .ok_or_else(|| missing_version(&key, revision))?;
            let HistoryEntry::Put(kv) = decode_history(&key, written.value())? else {
                return Err(missing_version(&key, revision));
            };
            Ok(WatchEvent {
                kind,
                kv,
                prev_kv: previous,
            })
        }
        EventKind::Delete => {
            let deleted = previous.ok_or_else(|| missing_version(&key, revision - 1))?;
            Ok(WatchEvent {
                kind,
                kv: KeyValue {
                    mod_revision: revision,
                    ..deleted.clone()
                },
                prev_kv: Some(deleted),
            })
        }
    }
}

fn missing_version(key: &str, revision: Revision) -> StorageError {
    StorageError::Backend(format!(
        "embedded store: the event log names a version of {key} at revision {revision} that \
         the history does not hold"
    ))
}

/// Events from `after + 1` on are still logged only if compaction kept that revision.
pub(crate) fn check_not_compacted(
    after: Revision,
    compacted: Revision,
) -> Result<(), StorageError> {
    let first_needed = after.saturating_add(1);
    if first_needed < compacted {
        return Err(StorageError::Compacted {
            requested: first_needed,
            compacted,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use redb::Database;

    use super::*;
    use crate::embedded::record::{
        encode_event_reference, encode_history, encode_history_put, encode_whole_event,
    };
    use crate::embedded::tables::create_all;

    const KEY: &str = "/registry/configmaps/default/a";

    fn kv(value: &str, create_revision: i64, mod_revision: i64, version: i64) -> KeyValue {
        KeyValue {
            key: KEY.into(),
            value: value.as_bytes().to_vec(),
            create_revision,
            mod_revision,
            version,
            lease: 0,
        }
    }

    /// A log written partly by the first format (whole events, revisions 2 and 3) and partly
    /// by the current one (references, revisions 4 and 5) replays as one sequence.
    #[test]
    fn whole_and_referenced_events_replay_alike() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("db")).unwrap();
        create_all(&db).unwrap();
        let v2 = kv("one", 2, 2, 1);
        let v3 = kv("two", 2, 3, 2);
        let v4 = kv("three", 2, 4, 3);
        let old_events = [
            WatchEvent {
                kind: EventKind::Put,
                kv: v2.clone(),
                prev_kv: None,
            },
            WatchEvent {
                kind: EventKind::Put,
                kv: v3.clone(),
                prev_kv: Some(v2.clone()),
            },
        ];
        let txn = db.begin_write().unwrap();
        {
            let mut history = txn.open_table(HISTORY).unwrap();
            let mut log = txn.open_table(EVENTS).unwrap();
            for (version, event) in [&v2, &v3].into_iter().zip(&old_events) {
                history
                    .insert(
                        (KEY, version.mod_revision),
                        encode_history_put(version).as_slice(),
                    )
                    .unwrap();
                log.insert(version.mod_revision, encode_whole_event(event).as_slice())
                    .unwrap();
            }
            history
                .insert((KEY, 4), encode_history_put(&v4).as_slice())
                .unwrap();
            log.insert(4, encode_event_reference(EventKind::Put, KEY).as_slice())
                .unwrap();
            history
                .insert(
                    (KEY, 5),
                    encode_history(&HistoryEntry::Tombstone).as_slice(),
                )
                .unwrap();
            log.insert(5, encode_event_reference(EventKind::Delete, KEY).as_slice())
                .unwrap();
        }
        txn.commit().unwrap();

        let events = read_log(&db, 0).unwrap();
        let expected = vec![
            old_events[0].clone(),
            old_events[1].clone(),
            WatchEvent {
                kind: EventKind::Put,
                kv: v4.clone(),
                prev_kv: Some(v3),
            },
            WatchEvent {
                kind: EventKind::Delete,
                kv: KeyValue {
                    mod_revision: 5,
                    ..v4.clone()
                },
                prev_kv: Some(v4),
            },
        ];
        assert_eq!(events, expected);
        assert_eq!(read_log(&db, 3).unwrap(), expected[2..]);
    }

    #[test]
    fn a_reference_to_a_missing_version_is_an_error_not_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("db")).unwrap();
        create_all(&db).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(EVENTS)
            .unwrap()
            .insert(2, encode_event_reference(EventKind::Put, KEY).as_slice())
            .unwrap();
        txn.commit().unwrap();
        assert!(matches!(read_log(&db, 0), Err(StorageError::Backend(_))));
    }
}
