//! The generic store: reads and compare-and-swap writes of one resource's objects, as upstream's
//! genericregistry.Store, without per-kind knowledge (that is the strategy's).

use std::sync::Arc;
use std::time::Duration;

use api::ResourceInfo;
use serde_json::Value;
use storage::{Backend, Precondition, StorageError};

use super::keys::object_key;
use super::storage_errors::api_error;
use super::versions::{from_storage, to_storage};
use crate::status::ApiError;
use crate::watch_cache::CachedObject;

/// How long a consistent read waits for the watch cache to catch up before reading storage.
const CACHE_CATCH_UP: Duration = Duration::from_secs(3);

pub struct Store {
    pub backend: Arc<dyn Backend>,
}

/// One object read from storage, with its revision.
#[derive(Debug, Clone)]
pub struct Stored {
    pub object: Value,
    pub revision: i64,
}

/// An object just written: as a value (with its resourceVersion) and as the bytes storage holds
/// (in the storage version, without resourceVersion).
pub struct Written {
    pub object: Value,
    pub stored: Vec<u8>,
    pub revision: i64,
}

/// The storage key segment of a resource that is stored.
pub fn storage_resource(info: &ResourceInfo) -> Result<&'static str, ApiError> {
    info.storage_resource
        .ok_or_else(ApiError::method_not_allowed)
}

pub fn with_resource_version(mut object: Value, revision: i64) -> Value {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert(
            "resourceVersion".into(),
            Value::String(revision.to_string()),
        );
    }
    object
}

/// The largest object storage accepts (etcd's default request limit).
const MAX_OBJECT_BYTES: usize = 1536 * 1024;

/// The bytes storage keeps for an object given in `info`'s version: converted to the storage
/// version where that differs, without `metadata.resourceVersion` (storage's revision is the
/// truth). Serialized straight from the caller's object, which is not copied.
fn encode(info: &ResourceInfo, object: &Value) -> Result<Vec<u8>, ApiError> {
    let converted;
    let stored = if info.is_storage_version() {
        object
    } else {
        converted = to_storage(info, object.clone())?;
        &converted
    };
    let bytes = serde_json::to_vec(&WithoutResourceVersion(stored))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    check_size(&bytes)?;
    Ok(bytes)
}

/// Refuses what storage would refuse as too large.
fn check_size(bytes: &[u8]) -> Result<(), ApiError> {
    if bytes.len() > MAX_OBJECT_BYTES {
        return Err(ApiError::too_large(
            "Request entity too large: etcdserver: request is too large",
        ));
    }
    Ok(())
}

/// Serializes an object as it is, leaving out `metadata.resourceVersion`.
struct WithoutResourceVersion<'a>(&'a Value);

/// Serializes a metadata map as it is, leaving out `resourceVersion`.
struct MetadataWithoutResourceVersion<'a>(&'a serde_json::Map<String, Value>);

impl serde::Serialize for WithoutResourceVersion<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Value::Object(fields) = self.0 else {
            return self.0.serialize(serializer);
        };
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        for (key, value) in fields {
            match value {
                Value::Object(meta) if key == "metadata" => {
                    map.serialize_entry(key, &MetadataWithoutResourceVersion(meta))?
                }
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

impl serde::Serialize for MetadataWithoutResourceVersion<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let fields = self.0.iter().filter(|(key, _)| *key != "resourceVersion");
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in fields {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

fn decode(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::internal(format!("stored object: {e}")))
}

impl Store {
    pub fn key(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<String, ApiError> {
        Ok(object_key(storage_resource(info)?, namespace, name))
    }

    /// The object as it is now (a linearizable read of storage).
    pub async fn get(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Stored, ApiError> {
        let kv = self.read(info, namespace, name).await?;
        Ok(Stored {
            object: with_resource_version(from_storage(info, decode(&kv.value)?)?, kv.mod_revision),
            revision: kv.mod_revision,
        })
    }

    /// The object's bytes as storage holds them (no `metadata.resourceVersion`) and its
    /// revision, for writers that change a few fields without parsing the rest. Only for
    /// resources served in their storage version.
    pub async fn get_stored(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(Vec<u8>, i64), ApiError> {
        if !info.is_storage_version() {
            return Err(ApiError::internal(format!(
                "{} {} is not stored in the version it is served in",
                info.group, info.plural
            )));
        }
        let kv = self.read(info, namespace, name).await?;
        Ok((kv.value, kv.mod_revision))
    }

    /// The object's key-value as storage holds it now; NotFound when there is none.
    async fn read(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<storage::KeyValue, ApiError> {
        let key = self.key(info, namespace, name)?;
        let (kv, _) = self
            .backend
            .get(&key)
            .await
            .map_err(|e| api_error(info, name, e))?;
        kv.ok_or_else(|| ApiError::not_found(info.group, info.plural, name))
    }

    /// Writes bytes read by [`Store::get_stored`] and changed, if the object is still at
    /// `revision`; returns the new revision.
    pub async fn replace_stored(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        bytes: Vec<u8>,
        revision: i64,
    ) -> Result<i64, ApiError> {
        check_size(&bytes)?;
        let key = self.key(info, namespace, name)?;
        let kv = self
            .backend
            .put(&key, bytes, Precondition::ModRevision(revision), None)
            .await
            .map_err(|e| api_error(info, name, e))?;
        Ok(kv.mod_revision)
    }

    /// Write a new object; fails with AlreadyExists. Gives back the bytes written too.
    pub async fn create(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        object: Value,
        lease: Option<i64>,
    ) -> Result<Written, ApiError> {
        let key = self.key(info, namespace, name)?;
        let bytes = encode(info, &object)?;
        let kv = self
            .backend
            .put(&key, bytes.clone(), Precondition::MustNotExist, lease)
            .await
            .map_err(|e| api_error(info, name, e))?;
        Ok(Written {
            object: with_resource_version(object, kv.mod_revision),
            stored: bytes,
            revision: kv.mod_revision,
        })
    }

    /// Replace the object stored at `revision`; fails with Conflict when it moved on.
    pub async fn replace(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        object: Value,
        revision: i64,
    ) -> Result<Value, ApiError> {
        let bytes = encode(info, &object)?;
        let revision = self
            .replace_stored(info, namespace, name, bytes, revision)
            .await?;
        Ok(with_resource_version(object, revision))
    }

    /// Delete the object stored at `revision`; returns its last state at the deletion revision.
    pub async fn delete(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        revision: i64,
    ) -> Result<Value, ApiError> {
        let key = self.key(info, namespace, name)?;
        let deleted = self
            .backend
            .delete(&key, Precondition::ModRevision(revision))
            .await
            .map_err(|e| api_error(info, name, e))?;
        Ok(with_resource_version(
            from_storage(info, decode(&deleted.value)?)?,
            deleted.mod_revision,
        ))
    }

    /// Read the store's current revision (for consistent reads from the cache).
    pub async fn current_revision(&self) -> Result<i64, ApiError> {
        self.backend
            .current_revision()
            .await
            .map_err(|e| ApiError::internal(e.to_string()))
    }

    /// Raw range of storage at a revision (for paginated and exact-revision lists).
    pub async fn range(
        &self,
        info: &ResourceInfo,
        prefix: &str,
        start_key: Option<String>,
        limit: i64,
        revision: i64,
    ) -> Result<(Vec<CachedObject>, bool, i64), ApiError> {
        let response = self
            .backend
            .range(storage::RangeRequest {
                prefix: prefix.to_string(),
                start_key,
                limit,
                revision,
                count_only: false,
            })
            .await
            .map_err(|e| match e {
                StorageError::Compacted { .. } => ApiError::gone(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                ),
                other => api_error(info, "", other),
            })?;
        let mut objects = Vec::with_capacity(response.kvs.len());
        for kv in response.kvs {
            if info.is_storage_version() {
                let object = CachedObject::from_stored(kv.key, kv.mod_revision, &kv.value)
                    .map_err(|e| ApiError::internal(format!("stored object: {e}")))?;
                objects.push(object);
                continue;
            }
            let object = from_storage(info, decode(&kv.value)?)?;
            objects.push(CachedObject::new(kv.key, kv.mod_revision, object));
        }
        Ok((objects, response.more, response.revision))
    }

    pub fn catch_up_timeout(&self) -> Duration {
        CACHE_CATCH_UP
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encoding_leaves_out_the_resource_version_and_keeps_the_order() {
        let pods = api::catalog::find("", "v1", "pods").expect("pods");
        let object = json!({"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "p", "resourceVersion": "12", "uid": "u"},
            "spec": {"containers": []}});
        let bytes = encode(pods, &object).expect("encoded");
        assert_eq!(
            String::from_utf8(bytes).expect("utf-8"),
            r#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","uid":"u"},"spec":{"containers":[]}}"#
        );
        assert_eq!(object["metadata"]["resourceVersion"], "12");
    }

    #[test]
    fn encoding_converts_to_the_storage_version() {
        let hpa_v1 = api::catalog::find("autoscaling", "v1", "horizontalpodautoscalers")
            .expect("autoscaling/v1 HPAs");
        let object = json!({"kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v1",
            "metadata": {"name": "h", "resourceVersion": "3"},
            "spec": {"maxReplicas": 3, "scaleTargetRef": {"kind": "Deployment", "name": "d"}}});
        let stored: Value =
            serde_json::from_slice(&encode(hpa_v1, &object).expect("encoded")).expect("json");
        assert_eq!(stored["apiVersion"], "autoscaling/v2");
        assert!(stored["metadata"].get("resourceVersion").is_none());
    }
}
