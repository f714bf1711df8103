//! The single writer thread and its group commit.
//!
//! Callers queue [`WriteRequest`]s on a channel. The writer takes everything queued (up to
//! [`MAX_BATCH`]), applies the writes in arrival order inside one redb transaction (each still gets
//! its own revision and its own precondition check against the state left by the earlier ones),
//! commits with an fsync, publishes the batch's watch events, and only then answers the callers.
//! Concurrent writers therefore share one fsync instead of paying one each; while writes keep
//! arriving concurrently, the writer waits up to [`GATHER_WINDOW`] for more to join each commit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redb::{Database, Durability};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::mutation::{Answer, Mutation};
use crate::{KeyValue, LeaseId, Precondition, Revision, StorageError, WatchEvent};

/// Upper bound on writes per transaction, so one commit never holds callers for too long.
const MAX_BATCH: usize = 1024;

/// The longest the writer waits for more requests before committing, when the previous commit
/// held more than one write. Under concurrent load a commit (page writes and an fsync) costs
/// about the same for 10 writes as for 40: gathering cut the writer's CPU per write by about a
/// third in `r8s bench scheduler` (1,000 commits a second became about 350). A lone writer never
/// waits.
const GATHER_WINDOW: Duration = Duration::from_millis(1);

/// How long the writer waits for the next request while gathering: a step in which none arrives
/// ends the wait, so writers that all wait on the next commit (a closed loop, as a namespace
/// deleting its pods) lose at most this much per commit, not the whole window.
const GATHER_STEP: Duration = Duration::from_micros(200);

/// The watch events of one committed batch, in revision order.
pub(crate) type CommittedEvents = Arc<[WatchEvent]>;

pub(crate) enum WriteRequest {
    Put {
        key: String,
        value: Vec<u8>,
        precondition: Precondition,
        lease: LeaseId,
        reply: oneshot::Sender<Answer<KeyValue>>,
    },
    Delete {
        key: String,
        precondition: Precondition,
        reply: oneshot::Sender<Answer<KeyValue>>,
    },
    Compact {
        revision: Revision,
        reply: oneshot::Sender<Answer<()>>,
    },
    GrantLease {
        ttl_seconds: i64,
        reply: oneshot::Sender<Answer<LeaseId>>,
    },
    ExpireLease {
        id: LeaseId,
        reply: oneshot::Sender<Answer<()>>,
    },
}

/// Sends an answer once the batch's fate is known: the prepared answer if the commit succeeded,
/// the commit failure otherwise (then nothing of the batch was written).
type Completion = Box<dyn FnOnce(Option<&StorageError>) + Send>;

fn completion<T: Send + 'static>(
    reply: oneshot::Sender<Answer<T>>,
    answer: Answer<T>,
) -> Completion {
    Box::new(move |commit_failure| {
        let answer = match commit_failure {
            Some(failure) => Err(StorageError::Backend(failure.to_string())),
            None => answer,
        };
        // The caller may have given up waiting; its write is committed regardless.
        let _ = reply.send(answer);
    })
}

/// Runs until every sender of `requests` is dropped, then returns (dropping its `Database` handle).
pub(crate) fn run(
    db: Arc<Database>,
    mut requests: mpsc::Receiver<WriteRequest>,
    committed: broadcast::Sender<CommittedEvents>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut previous_batch = 0;
    while let Some(first) = requests.blocking_recv() {
        batch.push(first);
        drain_queued(&mut requests, &mut batch);
        if previous_batch > 1 {
            gather(&mut requests, &mut batch);
        }
        previous_batch = batch.len();
        commit_batch(&db, batch.drain(..), &committed);
    }
}

/// Writers are arriving concurrently: let more of them join this commit, for as long as they keep
/// coming (a step without a new request ends the wait: writers that all wait on this commit send
/// nothing more) and at most [`GATHER_WINDOW`].
fn gather(requests: &mut mpsc::Receiver<WriteRequest>, batch: &mut Vec<WriteRequest>) {
    let started = Instant::now();
    while batch.len() < MAX_BATCH && started.elapsed() < GATHER_WINDOW {
        std::thread::sleep(GATHER_STEP);
        let before = batch.len();
        drain_queued(requests, batch);
        if batch.len() == before {
            return;
        }
    }
}

/// Moves what is queued into `batch`, up to [`MAX_BATCH`].
fn drain_queued(requests: &mut mpsc::Receiver<WriteRequest>, batch: &mut Vec<WriteRequest>) {
    while batch.len() < MAX_BATCH {
        match requests.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
}

fn commit_batch(
    db: &Database,
    batch: impl Iterator<Item = WriteRequest>,
    committed: &broadcast::Sender<CommittedEvents>,
) {
    let mut completions: Vec<Completion> = Vec::new();
    let outcome = apply_and_commit(db, batch, &mut completions);
    match outcome {
        Ok(events) => {
            if !events.is_empty() {
                // No receivers just means nobody watches right now.
                let _ = committed.send(events.into());
            }
            for complete in completions {
                complete(None);
            }
        }
        Err(failure) => {
            tracing::error!(error = %failure, "embedded storage batch commit failed");
            for complete in completions {
                complete(Some(&failure));
            }
        }
    }
}

/// Applies the batch in one transaction and commits it durably. Every request ends up with a
/// completion, even when the transaction fails half way, so each caller learns why.
fn apply_and_commit(
    db: &Database,
    batch: impl Iterator<Item = WriteRequest>,
    completions: &mut Vec<Completion>,
) -> Result<Vec<WatchEvent>, StorageError> {
    let mut requests = batch;
    let applied = db
        .begin_write()
        .map_err(StorageError::backend)
        .and_then(|mut txn| {
            txn.set_durability(Durability::Immediate)
                .map_err(StorageError::backend)?;
            let events = apply_all(&txn, &mut requests, completions)?;
            txn.commit().map_err(StorageError::backend)?;
            Ok(events)
        });
    if let Err(failure) = &applied {
        completions.extend(requests.map(|request| fail(request, failure)));
    }
    applied
}

fn apply_all(
    txn: &redb::WriteTransaction,
    requests: &mut impl Iterator<Item = WriteRequest>,
    completions: &mut Vec<Completion>,
) -> Result<Vec<WatchEvent>, StorageError> {
    let mut mutation = Mutation::begin(txn)?;
    for request in requests {
        completions.push(apply(&mut mutation, request)?);
    }
    mutation.finish()
}

/// A request whose own application broke the transaction loses its reply channel with it; its
/// caller then sees the writer hang up and the reason is in the log.
fn apply(mutation: &mut Mutation<'_>, request: WriteRequest) -> Result<Completion, StorageError> {
    Ok(match request {
        WriteRequest::Put {
            key,
            value,
            precondition,
            lease,
            reply,
        } => completion(reply, mutation.put(&key, value, precondition, lease)?),
        WriteRequest::Delete {
            key,
            precondition,
            reply,
        } => completion(reply, mutation.delete(&key, precondition)?),
        WriteRequest::Compact { revision, reply } => completion(reply, mutation.compact(revision)?),
        WriteRequest::GrantLease { ttl_seconds, reply } => {
            completion(reply, mutation.grant_lease(ttl_seconds)?)
        }
        WriteRequest::ExpireLease { id, reply } => completion(reply, mutation.expire_lease(id)?),
    })
}

fn fail(request: WriteRequest, failure: &StorageError) -> Completion {
    match request {
        WriteRequest::Put { reply, .. } | WriteRequest::Delete { reply, .. } => {
            completion(reply, failed(failure))
        }
        WriteRequest::Compact { reply, .. } | WriteRequest::ExpireLease { reply, .. } => {
            completion(reply, failed(failure))
        }
        WriteRequest::GrantLease { reply, .. } => completion(reply, failed(failure)),
    }
}

fn failed<T>(failure: &StorageError) -> Answer<T> {
    Err(StorageError::Backend(failure.to_string()))
}
