//! etcd backend: every operation maps onto the etcd v3 API (etcd 3.4 or newer).

mod convert;
mod range;
mod watch;
mod write;

use std::sync::atomic::{AtomicI64, Ordering};

use etcd_client::{Client, CompactionOptions, GetOptions};

use self::convert::{header_revision, ErrorContext};
use crate::{
    Backend, KeyValue, LeaseId, Precondition, RangeRequest, RangeResponse, Revision, StorageError,
    WatchStream,
};

/// A client of an etcd cluster. Cheap to share: etcd-client multiplexes requests on one channel.
pub struct EtcdBackend {
    client: Client,
    /// The highest revision this process compacted to. etcd does not report its compacted
    /// revision in range errors, so `Compacted::compacted` is this lower bound (0 if unknown).
    compacted: AtomicI64,
}

impl EtcdBackend {
    /// Connects to etcd at `endpoints` (e.g. `http://127.0.0.1:2379`) and checks it answers.
    pub async fn connect(endpoints: Vec<String>) -> Result<Self, StorageError> {
        let client = Client::connect(endpoints, None)
            .await
            .map_err(|error| StorageError::Backend(format!("connecting to etcd: {error}")))?;
        let backend = Self {
            client,
            compacted: AtomicI64::new(0),
        };
        backend.current_revision().await?;
        Ok(backend)
    }

    fn compacted(&self) -> Revision {
        self.compacted.load(Ordering::Relaxed)
    }
}

#[async_trait::async_trait]
impl Backend for EtcdBackend {
    async fn current_revision(&self) -> Result<Revision, StorageError> {
        // Any read returns the store revision in its header; counting one key is the cheapest.
        let response = self
            .client
            .clone()
            .get("/", Some(GetOptions::new().with_count_only()))
            .await
            .map_err(|error| ErrorContext::default().map(error))?;
        header_revision(response.header())
    }

    async fn get(&self, key: &str) -> Result<(Option<KeyValue>, Revision), StorageError> {
        let response = self
            .client
            .clone()
            .get(key, None)
            .await
            .map_err(|error| ErrorContext::default().map(error))?;
        let kv = response.kvs().first().map(convert::key_value).transpose()?;
        Ok((kv, header_revision(response.header())?))
    }

    async fn range(&self, request: RangeRequest) -> Result<RangeResponse, StorageError> {
        match range::range(&self.client, &request, self.compacted()).await {
            Err(StorageError::FutureRevision { requested, .. }) => {
                Err(StorageError::FutureRevision {
                    requested,
                    current: self.current_revision().await?,
                })
            }
            other => other,
        }
    }

    async fn put(
        &self,
        key: &str,
        value: Vec<u8>,
        precondition: Precondition,
        lease: Option<LeaseId>,
    ) -> Result<KeyValue, StorageError> {
        write::put(&self.client, key, value, precondition, lease.unwrap_or(0)).await
    }

    async fn delete(
        &self,
        key: &str,
        precondition: Precondition,
    ) -> Result<KeyValue, StorageError> {
        write::delete(&self.client, key, precondition).await
    }

    async fn watch(
        &self,
        prefix: &str,
        after_revision: Revision,
    ) -> Result<WatchStream, StorageError> {
        watch::watch(&self.client, prefix, after_revision).await
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        let context = ErrorContext {
            revision,
            compacted: self.compacted(),
            ..ErrorContext::default()
        };
        let result = self
            .client
            .clone()
            .compact(revision, Some(CompactionOptions::new().with_physical()))
            .await;
        match result {
            Ok(_) => {
                self.compacted.fetch_max(revision, Ordering::Relaxed);
                Ok(())
            }
            Err(error) => match context.map(error) {
                StorageError::FutureRevision { requested, .. } => {
                    Err(StorageError::FutureRevision {
                        requested,
                        current: self.current_revision().await?,
                    })
                }
                other => Err(other),
            },
        }
    }

    async fn grant_lease(&self, ttl_seconds: i64) -> Result<LeaseId, StorageError> {
        let response = self
            .client
            .clone()
            .lease_grant(ttl_seconds, None)
            .await
            .map_err(|error| ErrorContext::default().map(error))?;
        Ok(response.id())
    }
}
