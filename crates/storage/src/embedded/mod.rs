//! Embedded backend: a single redb file, no external process.
//!
//! Writes go through one writer thread that group-commits them (see [`writer`]); reads open their
//! own redb read transactions. History is kept per key and as an event log until [`compact`] is
//! called, which the API server does periodically.
//!
//! [`compact`]: crate::Backend::compact

mod current;
mod lease;
mod mutation;
mod range;
mod record;
mod tables;
mod watch;
mod writer;

use std::path::Path;
use std::sync::Arc;

use redb::Database;
use tokio::sync::{broadcast, mpsc, oneshot};

use self::mutation::Answer;
use self::writer::{CommittedEvents, WriteRequest};
use crate::{
    Backend, KeyValue, LeaseId, Precondition, RangeRequest, RangeResponse, Revision, StorageError,
    WatchStream,
};

/// Writes waiting for the writer; senders wait beyond this, which bounds memory under overload.
const WRITE_QUEUE: usize = 8192;

/// Tuning of an [`EmbeddedBackend`]; `Default` suits the API server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedOptions {
    /// Committed write batches buffered for live watchers. A watcher further behind than this
    /// re-reads the history from disk until it has caught up (it loses no event).
    pub watch_buffer: usize,
    /// redb's page cache (its default is 1 GiB). The API server answers most reads from its watch
    /// cache, so storage reads are mostly single keys before a compare-and-swap; pages beyond this
    /// come from the kernel's page cache.
    pub cache_bytes: usize,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self {
            watch_buffer: 4096,
            cache_bytes: 128 << 20,
        }
    }
}

/// The embedded store. Dropping it stops the lease task and the writer thread (after the writer
/// finishes the writes already queued); [`EmbeddedBackend::close`] does the same and waits.
pub struct EmbeddedBackend {
    db: Arc<Database>,
    writer: mpsc::Sender<WriteRequest>,
    committed: broadcast::Sender<CommittedEvents>,
    writer_thread: std::thread::JoinHandle<()>,
    lease_task: tokio::task::JoinHandle<()>,
    stop_leases: oneshot::Sender<()>,
}

impl EmbeddedBackend {
    /// Opens (or creates) the store at `path`. Must be called inside a Tokio runtime: it spawns the
    /// lease-expiry task there, and the writer on a dedicated thread. A store that was killed
    /// mid-write is recovered by redb; every acknowledged write is there and the revision continues.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StorageError> {
        Self::open_with(path, EmbeddedOptions::default()).await
    }

    /// [`EmbeddedBackend::open`] with explicit tuning.
    pub async fn open_with(
        path: impl AsRef<Path>,
        options: EmbeddedOptions,
    ) -> Result<Self, StorageError> {
        let path = path.as_ref().to_owned();
        let db = tokio::task::spawn_blocking(move || -> Result<Database, StorageError> {
            let db = Database::builder()
                .set_cache_size(options.cache_bytes)
                .create(&path)
                .map_err(StorageError::backend)?;
            tables::create_all(&db)?;
            Ok(db)
        })
        .await
        .map_err(StorageError::backend)??;
        let db = Arc::new(db);
        let (writer, requests) = mpsc::channel(WRITE_QUEUE);
        let (committed, _) = broadcast::channel(options.watch_buffer.max(1));
        let writer_thread = std::thread::Builder::new()
            .name("storage-writer".into())
            .spawn({
                let db = Arc::clone(&db);
                let committed = committed.clone();
                move || writer::run(db, requests, committed)
            })
            .map_err(StorageError::backend)?;
        let (stop_leases, stop) = oneshot::channel();
        let lease_task = tokio::spawn(lease::expire_leases(Arc::clone(&db), writer.clone(), stop));
        Ok(Self {
            db,
            writer,
            committed,
            writer_thread,
            lease_task,
            stop_leases,
        })
    }

    /// Stops the background work, waits for queued writes to commit and releases the file, so the
    /// same path can be opened again. Watch streams still alive keep the file open until dropped.
    pub async fn close(self) -> Result<(), StorageError> {
        let Self {
            db,
            writer,
            committed,
            writer_thread,
            lease_task,
            stop_leases,
        } = self;
        // The lease task holds a writer sender; it must be gone before the writer can finish.
        let _ = stop_leases.send(());
        lease_task.await.map_err(StorageError::backend)?;
        drop(writer);
        drop(committed);
        tokio::task::spawn_blocking(move || writer_thread.join())
            .await
            .map_err(StorageError::backend)?
            .map_err(|_| StorageError::Backend("storage writer thread panicked".into()))?;
        drop(db);
        Ok(())
    }

    async fn submit<T>(
        &self,
        request: impl FnOnce(oneshot::Sender<Answer<T>>) -> WriteRequest,
    ) -> Result<T, StorageError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(request(reply))
            .await
            .map_err(|_| StorageError::Backend("storage writer has stopped".into()))?;
        answer.await.map_err(|_| {
            StorageError::Backend("storage writer dropped the write; see its log".into())
        })?
    }

    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Database) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || read(&db))
            .await
            .map_err(StorageError::backend)?
    }
}

#[async_trait::async_trait]
impl Backend for EmbeddedBackend {
    async fn current_revision(&self) -> Result<Revision, StorageError> {
        Ok(tables::snapshot_counters(&self.db)?.revision)
    }

    async fn get(&self, key: &str) -> Result<(Option<KeyValue>, Revision), StorageError> {
        // A point lookup is a few B-tree pages, cheaper than a hop to the blocking pool.
        range::get(&self.db, key)
    }

    async fn range(&self, request: RangeRequest) -> Result<RangeResponse, StorageError> {
        self.read(move |db| range::range(db, &request)).await
    }

    async fn put(
        &self,
        key: &str,
        value: Vec<u8>,
        precondition: Precondition,
        lease: Option<LeaseId>,
    ) -> Result<KeyValue, StorageError> {
        let key = key.to_owned();
        self.submit(|reply| WriteRequest::Put {
            key,
            value,
            precondition,
            lease: lease.unwrap_or(0),
            reply,
        })
        .await
    }

    async fn delete(
        &self,
        key: &str,
        precondition: Precondition,
    ) -> Result<KeyValue, StorageError> {
        let key = key.to_owned();
        self.submit(|reply| WriteRequest::Delete {
            key,
            precondition,
            reply,
        })
        .await
    }

    async fn watch(
        &self,
        prefix: &str,
        after_revision: Revision,
    ) -> Result<WatchStream, StorageError> {
        // Subscribe before checking anything so no commit can slip between history and live.
        let live = self.committed.subscribe();
        let compacted = tables::snapshot_counters(&self.db)?.compacted;
        watch::check_not_compacted(after_revision, compacted)?;
        Ok(watch::stream(
            Arc::clone(&self.db),
            live,
            prefix.to_owned(),
            after_revision,
        ))
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        self.submit(|reply| WriteRequest::Compact { revision, reply })
            .await
    }

    async fn grant_lease(&self, ttl_seconds: i64) -> Result<LeaseId, StorageError> {
        self.submit(|reply| WriteRequest::GrantLease { ttl_seconds, reply })
            .await
    }
}
