//! What the collector's watches decode: an object's metadata, without its managedFields.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{ApiResource, DynamicObject, PartialObjectMeta};
use kube::Resource;
use serde::{Deserialize, Deserializer};

/// A metadata-only watch's object. The graph reads uids, owner references, finalizers and
/// deletion state; managedFields, the bulk of most objects' metadata, are skipped while decoding
/// (see [`api::without_managed_fields`]).
#[derive(Clone, Debug)]
pub(super) struct WatchedMetadata(pub PartialObjectMeta<DynamicObject>);

impl<'de> Deserialize<'de> for WatchedMetadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        api::without_managed_fields::deserialize(deserializer).map(Self)
    }
}

/// The same requests as `PartialObjectMeta<DynamicObject>`: metadata-only lists and watches.
impl Resource for WatchedMetadata {
    type DynamicType = ApiResource;
    type Scope = <PartialObjectMeta<DynamicObject> as Resource>::Scope;

    fn kind(resource: &ApiResource) -> Cow<'_, str> {
        PartialObjectMeta::<DynamicObject>::kind(resource)
    }

    fn group(resource: &ApiResource) -> Cow<'_, str> {
        PartialObjectMeta::<DynamicObject>::group(resource)
    }

    fn version(resource: &ApiResource) -> Cow<'_, str> {
        PartialObjectMeta::<DynamicObject>::version(resource)
    }

    fn api_version(resource: &ApiResource) -> Cow<'_, str> {
        PartialObjectMeta::<DynamicObject>::api_version(resource)
    }

    fn plural(resource: &ApiResource) -> Cow<'_, str> {
        PartialObjectMeta::<DynamicObject>::plural(resource)
    }

    fn metadata_api() -> bool {
        PartialObjectMeta::<DynamicObject>::metadata_api()
    }

    fn url_path(resource: &ApiResource, namespace: Option<&str>) -> String {
        PartialObjectMeta::<DynamicObject>::url_path(resource, namespace)
    }

    fn meta(&self) -> &ObjectMeta {
        &self.0.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.0.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_metadata_only_and_managed_fields_are_skipped() {
        assert!(WatchedMetadata::metadata_api());
        let resource = ApiResource::erase::<k8s_openapi::api::core::v1::Pod>(&());
        assert_eq!(
            WatchedMetadata::url_path(&resource, Some("ns")),
            "/api/v1/namespaces/ns/pods"
        );
        let object: WatchedMetadata = serde_json::from_str(
            r#"{"apiVersion":"meta.k8s.io/v1","kind":"PartialObjectMetadata",
                "metadata":{"name":"a","uid":"u1","managedFields":[{"manager":"m"}],
                            "ownerReferences":[{"apiVersion":"v1","kind":"X","name":"o","uid":"u0"}]}}"#,
        )
        .unwrap();
        assert_eq!(object.0.metadata.uid.as_deref(), Some("u1"));
        assert_eq!(
            object.0.metadata.owner_references.map(|refs| refs.len()),
            Some(1)
        );
        assert!(object.0.metadata.managed_fields.is_none());
        assert_eq!(
            object.0.types.map(|types| types.kind).as_deref(),
            Some("PartialObjectMetadata")
        );
    }
}
