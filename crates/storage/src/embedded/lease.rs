//! Lease expiry: a background task revokes expired leases through the writer, so the deletion of
//! their keys is an ordinary write with revisions and Delete watch events.

use std::sync::Arc;
use std::time::Duration;

use redb::{Database, ReadableDatabase};
use tokio::sync::{mpsc, oneshot};

use super::mutation::unix_millis;
use super::tables::LEASE_EXPIRY;
use super::writer::WriteRequest;
use crate::{LeaseId, StorageError};

/// How often expiry is checked; a key outlives its lease by at most this much (plus a commit).
const CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// Runs until `stop` fires or its sender is dropped (the backend went away).
pub(crate) async fn expire_leases(
    db: Arc<Database>,
    writer: mpsc::Sender<WriteRequest>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut ticks = tokio::time::interval(CHECK_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = ticks.tick() => {}
        }
        let expired = match expired_leases(&db, unix_millis()) {
            Ok(expired) => expired,
            Err(error) => {
                tracing::warn!(%error, "reading leases failed");
                continue;
            }
        };
        for id in expired {
            let (reply, answer) = oneshot::channel();
            if writer
                .send(WriteRequest::ExpireLease { id, reply })
                .await
                .is_err()
            {
                return;
            }
            match answer.await {
                Ok(Ok(())) => tracing::debug!(lease = id, "lease expired"),
                Ok(Err(error)) => tracing::warn!(lease = id, %error, "expiring lease failed"),
                Err(_) => return,
            }
        }
    }
}

fn expired_leases(db: &Database, now_millis: i64) -> Result<Vec<LeaseId>, StorageError> {
    let txn = db.begin_read().map_err(StorageError::backend)?;
    let due = txn
        .open_table(LEASE_EXPIRY)
        .map_err(StorageError::backend)?;
    let mut expired = Vec::new();
    for entry in due
        .range(..=(now_millis, i64::MAX))
        .map_err(StorageError::backend)?
    {
        let (deadline, _) = entry.map_err(StorageError::backend)?;
        let (_expires_at, id) = deadline.value();
        expired.push(id);
    }
    Ok(expired)
}
