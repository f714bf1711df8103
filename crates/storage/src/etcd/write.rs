//! Conditional puts and deletes as etcd transactions.
//!
//! The precondition is the txn's compare; the failure branch reads the key in the same
//! transaction, so the error (AlreadyExists / NotFound / Conflict with the current object) is
//! classified from the state that actually made the compare fail.

use etcd_client::{
    Client, Compare, CompareOp, DeleteOptions, PutOptions, Txn, TxnOp, TxnOpResponse, TxnResponse,
};

use super::convert::{header_revision, key_value, ErrorContext};
use crate::{KeyValue, LeaseId, Precondition, StorageError};

pub(super) async fn put(
    client: &Client,
    key: &str,
    value: Vec<u8>,
    precondition: Precondition,
    lease: LeaseId,
) -> Result<KeyValue, StorageError> {
    let context = ErrorContext {
        lease,
        ..ErrorContext::default()
    };
    let mut options = PutOptions::new().with_prev_key();
    if lease != 0 {
        options = options.with_lease(lease);
    }
    let txn = Txn::new()
        .when(compares(key, precondition))
        .and_then([TxnOp::put(key, value.clone(), Some(options))])
        .or_else([TxnOp::get(key, None)]);
    let response = client
        .clone()
        .txn(txn)
        .await
        .map_err(|error| context.map(error))?;
    let revision = header_revision(response.header())?;
    if !response.succeeded() {
        return Err(refusal(key, precondition, &response)?);
    }
    let previous = match response.op_responses().into_iter().next() {
        Some(TxnOpResponse::Put(put)) => put.prev_key().map(key_value).transpose()?,
        _ => return Err(unexpected(key)),
    };
    // etcd answers a put with only the new revision; the rest follows from the previous version.
    Ok(KeyValue {
        key: key.to_owned(),
        value,
        create_revision: previous.as_ref().map_or(revision, |kv| kv.create_revision),
        mod_revision: revision,
        version: previous.as_ref().map_or(1, |kv| kv.version + 1),
        lease,
    })
}

pub(super) async fn delete(
    client: &Client,
    key: &str,
    precondition: Precondition,
) -> Result<KeyValue, StorageError> {
    let txn = Txn::new()
        .when(compares(key, precondition))
        .and_then([TxnOp::delete(
            key,
            Some(DeleteOptions::new().with_prev_key()),
        )])
        .or_else([TxnOp::get(key, None)]);
    let response = client
        .clone()
        .txn(txn)
        .await
        .map_err(|error| ErrorContext::default().map(error))?;
    let revision = header_revision(response.header())?;
    if !response.succeeded() {
        return Err(refusal(key, precondition, &response)?);
    }
    let deleted = match response.op_responses().into_iter().next() {
        Some(TxnOpResponse::Delete(delete)) => {
            delete.prev_kvs().first().map(key_value).transpose()?
        }
        _ => return Err(unexpected(key)),
    };
    match deleted {
        Some(kv) => Ok(KeyValue {
            mod_revision: revision,
            ..kv
        }),
        None => Err(StorageError::NotFound {
            key: key.to_owned(),
        }),
    }
}

/// The compare of a precondition. `ModRevision` also requires the key to exist, because etcd
/// reports mod_revision 0 for a missing key and `ModRevision(0)` must not match it.
fn compares(key: &str, precondition: Precondition) -> Vec<Compare> {
    match precondition {
        Precondition::None => Vec::new(),
        Precondition::MustNotExist => vec![Compare::create_revision(key, CompareOp::Equal, 0)],
        Precondition::ModRevision(revision) => vec![
            Compare::create_revision(key, CompareOp::Greater, 0),
            Compare::mod_revision(key, CompareOp::Equal, revision),
        ],
    }
}

/// Why the compare failed, from the key as read by the failure branch.
fn refusal(
    key: &str,
    precondition: Precondition,
    response: &TxnResponse,
) -> Result<StorageError, StorageError> {
    let current = match response.op_responses().into_iter().next() {
        Some(TxnOpResponse::Get(get)) => get.kvs().first().map(key_value).transpose()?,
        _ => return Err(unexpected(key)),
    };
    let key = key.to_owned();
    Ok(match (precondition, current) {
        (Precondition::MustNotExist, Some(_)) => StorageError::AlreadyExists { key },
        (_, None) => StorageError::NotFound { key },
        (_, Some(current)) => StorageError::Conflict {
            key,
            current: Some(Box::new(current)),
        },
    })
}

fn unexpected(key: &str) -> StorageError {
    StorageError::Backend(format!("etcd txn on {key} returned an unexpected response"))
}
