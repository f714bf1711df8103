//! Translation between etcd's protobuf types and errors and this crate's.

use crate::{KeyValue, LeaseId, Revision, StorageError};

/// What a request asked for, so that etcd's textual errors become precise [`StorageError`]s.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct ErrorContext {
    /// The revision the request read at or compacted to, 0 if none.
    pub revision: Revision,
    /// The lease the request attached, 0 if none.
    pub lease: LeaseId,
    /// Best known compacted revision (etcd does not say in range errors).
    pub compacted: Revision,
}

impl ErrorContext {
    pub(super) fn map(self, error: etcd_client::Error) -> StorageError {
        let message = match &error {
            etcd_client::Error::GRpcStatus(status) => status.message().to_owned(),
            other => other.to_string(),
        };
        if message.contains("required revision has been compacted") {
            StorageError::Compacted {
                requested: self.revision,
                compacted: self.compacted,
            }
        } else if message.contains("required revision is a future revision") {
            // etcd does not report its current revision here; the caller may fill it in.
            StorageError::FutureRevision {
                requested: self.revision,
                current: 0,
            }
        } else if message.contains("requested lease not found") {
            StorageError::LeaseNotFound(self.lease)
        } else {
            StorageError::Backend(format!("etcd: {error}"))
        }
    }
}

pub(super) fn key_value(kv: &etcd_client::KeyValue) -> Result<KeyValue, StorageError> {
    let key = std::str::from_utf8(kv.key())
        .map_err(|_| StorageError::Backend("etcd returned a key that is not UTF-8".into()))?;
    Ok(KeyValue {
        key: key.to_owned(),
        value: kv.value().to_vec(),
        create_revision: kv.create_revision(),
        mod_revision: kv.mod_revision(),
        version: kv.version(),
        lease: kv.lease(),
    })
}

pub(super) fn header_revision(
    header: Option<&etcd_client::ResponseHeader>,
) -> Result<Revision, StorageError> {
    header
        .map(|header| header.revision())
        .ok_or_else(|| StorageError::Backend("etcd response without header".into()))
}
