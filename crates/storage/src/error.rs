use crate::backend::{KeyValue, Revision};

/// Every way a storage operation can fail. The API server maps each to a Kubernetes `Status`.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// `Precondition::MustNotExist` failed: the key is already there.
    #[error("key {key} already exists")]
    AlreadyExists { key: String },
    /// The key does not exist (get, delete, or an update that required it).
    #[error("key {key} not found")]
    NotFound { key: String },
    /// `Precondition::ModRevision` failed; `current` is the object as it is now (None if deleted).
    #[error("key {key}: revision conflict")]
    Conflict {
        key: String,
        current: Option<Box<KeyValue>>,
    },
    /// The requested revision was compacted away (Kubernetes answers 410 Gone).
    #[error("required revision {requested} has been compacted (compacted up to {compacted})")]
    Compacted {
        requested: Revision,
        compacted: Revision,
    },
    /// The requested revision is newer than the store's current revision.
    #[error("required revision {requested} is a future revision (current {current})")]
    FutureRevision {
        requested: Revision,
        current: Revision,
    },
    /// The lease does not exist or has expired.
    #[error("lease {0} not found")]
    LeaseNotFound(i64),
    /// The backend itself failed (I/O, connection, corruption).
    #[error("storage backend: {0}")]
    Backend(String),
}

impl StorageError {
    /// Wraps a failure of the underlying engine or transport.
    pub(crate) fn backend(error: impl std::fmt::Display) -> Self {
        StorageError::Backend(error.to_string())
    }
}
