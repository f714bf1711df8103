//! Serving a resource in a version other than the one it is stored in (autoscaling/v1 HPAs are
//! stored as autoscaling/v2, events.k8s.io Events as core Events): convert on the way in and out.

use std::sync::Arc;

use api::ResourceInfo;
use serde_json::Value;

use crate::status::ApiError;
use crate::watch_cache::CachedObject;

fn conversion_error(error: api::conversion::ConversionError) -> ApiError {
    ApiError::internal(format!("converting between versions: {error}"))
}

/// The object as stored.
pub fn to_storage(info: &ResourceInfo, object: Value) -> Result<Value, ApiError> {
    if info.is_storage_version() {
        return Ok(object);
    }
    api::conversion::to_storage(info, &object).map_err(conversion_error)
}

/// The stored object as this resource's version serves it.
pub fn from_storage(info: &ResourceInfo, stored: Value) -> Result<Value, ApiError> {
    if info.is_storage_version() {
        return Ok(stored);
    }
    api::conversion::from_storage(info, &stored).map_err(conversion_error)
}

/// A cached object in this resource's version (the same one when no conversion is needed).
pub fn present(info: &ResourceInfo, cached: &Arc<CachedObject>) -> Arc<CachedObject> {
    if info.is_storage_version() {
        return cached.clone();
    }
    match api::conversion::from_storage(info, &cached.value()) {
        Ok(converted) => Arc::new(CachedObject::new(
            cached.key.clone(),
            cached.revision,
            converted,
        )),
        Err(error) => {
            tracing::warn!(key = %cached.key, %error, "cannot convert a cached object");
            cached.clone()
        }
    }
}
