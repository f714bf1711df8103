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

use redb::{Database, ReadableDatabase};
use tokio::sync::broadcast;

use super::record::decode_event;
use super::tables::{read_counters, EVENTS, META};
use super::writer::CommittedEvents;
use crate::{Revision, StorageError, WatchEvent, WatchStream};

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
    let mut events = Vec::new();
    for entry in log
        .range(after.saturating_add(1)..)
        .map_err(StorageError::backend)?
        .take(REPLAY_CHUNK)
    {
        let (_, bytes) = entry.map_err(StorageError::backend)?;
        events.push(decode_event(bytes.value())?);
    }
    Ok(events)
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
