//! Storage failures as API errors.

use api::ResourceInfo;
use storage::StorageError;

use crate::status::ApiError;

pub fn api_error(info: &ResourceInfo, name: &str, error: StorageError) -> ApiError {
    match error {
        StorageError::AlreadyExists { .. } => {
            ApiError::already_exists(info.group, info.plural, name)
        }
        StorageError::NotFound { .. } => ApiError::not_found(info.group, info.plural, name),
        StorageError::Conflict { .. } => ApiError::modified(info.group, info.plural, name),
        StorageError::Compacted {
            requested,
            compacted,
        } => ApiError::gone(format!(
            "too old resource version: {requested} ({compacted})"
        )),
        StorageError::FutureRevision { requested, current } => ApiError::timeout(format!(
            "Too large resource version: {requested}, current: {current}"
        )),
        other => ApiError::internal(other.to_string()),
    }
}
