//! Decoding an object without parsing its `metadata.managedFields`.
//!
//! Only the API server and server-side apply read managed fields, yet a watcher that decodes a
//! pod into typed values spends about half its time on them: each entry's `fieldsV1` becomes a
//! tree of JSON values. [`deserialize`] hands the target type a view of the document in which
//! the top-level `metadata` object has no `managedFields` key; the skipped value is scanned
//! without building anything. Upstream's controllers and scheduler drop the field from their
//! informers' objects too (after decoding).
//!
//! [`WithoutManagedFields`] wraps a resource type so a typed client (kube's `Api`) decodes lists
//! and watch events this way. [`WithoutManagedFieldsOrVolumes`] also skips a pod's `spec.volumes`,
//! for watchers that never read them (the scheduler): the service account token volume alone is
//! a good part of what decoding a pod costs.

use std::borrow::Cow;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::Deserialize;

use crate::json_key::JsonKey;

const METADATA: &str = "metadata";
const MANAGED_FIELDS: &str = "managedFields";
const SPEC: &str = "spec";
const VOLUMES: &str = "volumes";

/// Deserializes a `T` from `deserializer` as if the document's `metadata.managedFields` were absent.
pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(Filtered {
        inner: deserializer,
        depth: Depth::Object {
            skip_volumes: false,
        },
    })
}

/// [`deserialize`], also as if the document's `spec.volumes` were absent.
pub fn deserialize_without_volumes<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(Filtered {
        inner: deserializer,
        depth: Depth::Object { skip_volumes: true },
    })
}

/// A wrapper a typed client decodes into, and the object it holds.
pub trait Decoded {
    type Object;
    fn into_object(self) -> Self::Object;
}

/// Declares a resource wrapper that decodes through `$decode` and is otherwise its object: it
/// derefs to it, serializes as it (clients that create through the wrapper send it unchanged),
/// and has its kind and metadata.
macro_rules! decoding_wrapper {
    ($(#[$doc:meta])* $name:ident, $decode:path) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name<K>(pub K);

        impl<K> $name<K> {
            pub fn into_inner(self) -> K {
                self.0
            }
        }

        impl<K> Decoded for $name<K> {
            type Object = K;
            fn into_object(self) -> K {
                self.0
            }
        }

        impl<K> std::ops::Deref for $name<K> {
            type Target = K;

            fn deref(&self) -> &K {
                &self.0
            }
        }

        impl<'de, K: Deserialize<'de>> Deserialize<'de> for $name<K> {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $decode(deserializer).map(Self)
            }
        }

        impl<K: serde::Serialize> serde::Serialize for $name<K> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(serializer)
            }
        }

        impl<K: k8s_openapi::Resource> k8s_openapi::Resource for $name<K> {
            const API_VERSION: &'static str = K::API_VERSION;
            const GROUP: &'static str = K::GROUP;
            const KIND: &'static str = K::KIND;
            const VERSION: &'static str = K::VERSION;
            const URL_PATH_SEGMENT: &'static str = K::URL_PATH_SEGMENT;
            type Scope = K::Scope;
        }

        impl<K: k8s_openapi::Metadata> k8s_openapi::Metadata for $name<K> {
            type Ty = K::Ty;

            fn metadata(&self) -> &Self::Ty {
                self.0.metadata()
            }

            fn metadata_mut(&mut self) -> &mut Self::Ty {
                self.0.metadata_mut()
            }
        }
    };
}

decoding_wrapper!(
    /// A resource decoded by [`deserialize`]; the wrapped object has `managed_fields: None`.
    WithoutManagedFields,
    deserialize
);

decoding_wrapper!(
    /// A resource decoded by [`deserialize_without_volumes`]: no `managed_fields`, and for a pod
    /// no `spec.volumes`.
    WithoutManagedFieldsOrVolumes,
    deserialize_without_volumes
);

/// Where in the document a map is: the object itself (whose `spec.volumes` may be skipped too),
/// its `metadata`, or its `spec`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Depth {
    Object { skip_volumes: bool },
    Metadata,
    Spec,
}

/// The deserializer of a value at `depth`: maps it yields are filtered.
struct Filtered<D> {
    inner: D,
    depth: Depth,
}

/// Forwards `deserialize_*` methods that can yield a map, wrapping the visitor so the map is
/// filtered.
macro_rules! forward_filtered {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
                self.inner.$method($($arg,)* FilteringVisitor { inner: visitor, depth: self.depth })
            }
        )*
    };
}

/// Forwards `deserialize_*` methods that cannot yield a map as they are. (An object inside a
/// newtype or a sequence is not filtered: resources are structs whose `metadata` field is read
/// as an `Option`. Not wrapping these keeps the instantiations, and the binary, small.)
macro_rules! forward_plain {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
                self.inner.$method($($arg,)* visitor)
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Filtered<D> {
    type Error = D::Error;

    forward_filtered!(
        deserialize_any(),
        deserialize_option(),
        deserialize_map(),
        deserialize_struct(name: &'static str, fields: &'static [&'static str]),
    );

    forward_plain!(
        deserialize_bool(),
        deserialize_i8(),
        deserialize_i16(),
        deserialize_i32(),
        deserialize_i64(),
        deserialize_i128(),
        deserialize_u8(),
        deserialize_u16(),
        deserialize_u32(),
        deserialize_u64(),
        deserialize_u128(),
        deserialize_f32(),
        deserialize_f64(),
        deserialize_char(),
        deserialize_str(),
        deserialize_string(),
        deserialize_bytes(),
        deserialize_byte_buf(),
        deserialize_unit(),
        deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str),
        deserialize_seq(),
        deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
        deserialize_identifier(),
        deserialize_ignored_any(),
    );

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A visitor that hands maps on as [`FilteredMap`]s and everything else through unchanged.
struct FilteringVisitor<V> {
    inner: V,
    depth: Depth,
}

/// Forwards `visit_*` methods that take one plain value.
macro_rules! forward_values {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, value: $ty) -> Result<Self::Value, E> {
                self.inner.$method(value)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for FilteringVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(formatter)
    }

    forward_values!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_some(Filtered {
            inner: deserializer,
            depth: self.depth,
        })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        self.inner.visit_newtype_struct(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(FilteredMap {
            inner: map,
            depth: self.depth,
            next_depth: None,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

/// A map at `depth`: in the object, the `metadata` (and maybe `spec`) value is filtered in turn;
/// in the metadata the `managedFields` entry is skipped, in the spec the `volumes` entry.
struct FilteredMap<A> {
    inner: A,
    depth: Depth,
    /// Where the value of the key just returned is, when it is filtered in turn.
    next_depth: Option<Depth>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for FilteredMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        loop {
            let Some(JsonKey(key)) = self.inner.next_key::<JsonKey<'de>>()? else {
                return Ok(None);
            };
            let skipped = match self.depth {
                Depth::Metadata => key == MANAGED_FIELDS,
                Depth::Spec => key == VOLUMES,
                Depth::Object { .. } => false,
            };
            if skipped {
                self.inner.next_value::<IgnoredAny>()?;
                continue;
            }
            self.next_depth = match self.depth {
                Depth::Object { .. } if key == METADATA => Some(Depth::Metadata),
                Depth::Object { skip_volumes: true } if key == SPEC => Some(Depth::Spec),
                _ => None,
            };
            return match key {
                Cow::Borrowed(text) => seed
                    .deserialize(de::value::BorrowedStrDeserializer::<A::Error>::new(text))
                    .map(Some),
                Cow::Owned(text) => seed
                    .deserialize(de::value::StringDeserializer::<A::Error>::new(text))
                    .map(Some),
            };
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, Self::Error> {
        if let Some(depth) = self.next_depth.take() {
            self.inner
                .next_value_seed(FilteredSeed { inner: seed, depth })
        } else {
            self.inner.next_value_seed(seed)
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// A seed whose deserializer filters maps at `depth`.
struct FilteredSeed<S> {
    inner: S,
    depth: Depth,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for FilteredSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.inner.deserialize(Filtered {
            inner: deserializer,
            depth: self.depth,
        })
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Pod;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    use super::*;

    fn pod_json() -> serde_json::Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "web",
                "namespace": "default",
                "labels": {"app": "web", "managedFields": "a label, kept"},
                "managedFields": [{
                    "manager": "kubectl",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}
                }],
                "annotations": {"note": "after the skipped key"}
            },
            "spec": {
                "containers": [{"name": "main", "image": "busybox"}],
                "nodeSelector": {"metadata": "not the object's", "managedFields": "kept"}
            },
            "status": {"phase": "Pending"}
        })
    }

    #[test]
    fn the_object_decodes_as_before_without_managed_fields() {
        let text = pod_json().to_string();
        let trimmed: WithoutManagedFields<Pod> = serde_json::from_str(&text).unwrap();
        let mut whole: Pod = serde_json::from_str(&text).unwrap();
        assert!(whole.metadata.managed_fields.is_some());
        whole.metadata.managed_fields = None;
        assert_eq!(trimmed.0, whole);
    }

    #[test]
    fn the_volumes_are_skipped_only_when_asked_for() {
        let mut json = pod_json();
        json["spec"]["volumes"] = json!([{"name": "token", "projected": {"sources": []}}]);
        json["spec"]["containers"][0]["volumeMounts"] =
            json!([{"name": "token", "mountPath": "/t"}]);
        let text = json.to_string();
        let kept = serde_json::from_str::<WithoutManagedFields<Pod>>(&text)
            .unwrap()
            .0;
        assert_eq!(kept.spec.unwrap().volumes.unwrap().len(), 1);
        let slim = serde_json::from_str::<WithoutManagedFieldsOrVolumes<Pod>>(&text)
            .unwrap()
            .into_inner();
        let mut whole: Pod = serde_json::from_str(&text).unwrap();
        whole.metadata.managed_fields = None;
        if let Some(spec) = whole.spec.as_mut() {
            spec.volumes = None;
        }
        assert_eq!(slim, whole);
        assert!(slim.metadata.annotations.is_some());
        assert_eq!(
            slim.spec.unwrap().containers[0]
                .volume_mounts
                .as_ref()
                .map(Vec::len),
            Some(1)
        );
    }

    #[test]
    fn only_the_top_level_metadata_is_filtered() {
        let text = pod_json().to_string();
        let pod = serde_json::from_str::<WithoutManagedFields<Pod>>(&text)
            .unwrap()
            .into_inner();
        let labels = pod.metadata.labels.unwrap();
        assert_eq!(labels["managedFields"], "a label, kept");
        let selector = pod.spec.unwrap().node_selector.unwrap();
        assert_eq!(selector["metadata"], "not the object's");
        assert_eq!(selector["managedFields"], "kept");
    }

    #[test]
    fn escaped_keys_are_read_as_owned_text() {
        // "\u006d" is "m": the key is still "managedFields" once unescaped.
        let text = r#"{"metadata":{"name":"a","\u006danagedFields":[{"manager":"x"}],"uid":"u"}}"#;
        let meta: WithoutManagedFields<WrappedMeta> = serde_json::from_str(text).unwrap();
        assert_eq!(meta.0.metadata.name.as_deref(), Some("a"));
        assert_eq!(meta.0.metadata.uid.as_deref(), Some("u"));
        assert_eq!(meta.0.metadata.managed_fields, None);
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct WrappedMeta {
        metadata: ObjectMeta,
    }

    #[test]
    fn flattened_and_buffered_types_are_filtered_too() {
        // serde buffers every entry of a struct with a flattened field before decoding it.
        #[derive(Deserialize)]
        struct WithFlatten {
            #[serde(flatten)]
            _rest: std::collections::BTreeMap<String, serde_json::Value>,
            metadata: ObjectMeta,
        }
        let text = pod_json().to_string();
        let object: WithFlatten =
            deserialize(&mut serde_json::Deserializer::from_str(&text)).unwrap();
        assert_eq!(object.metadata.managed_fields, None);
        assert_eq!(object.metadata.name.as_deref(), Some("web"));
    }

    #[test]
    fn lists_and_values_pass_through() {
        let text = json!({"metadata": {"managedFields": 1}, "items": [1, 2]}).to_string();
        let value: serde_json::Value =
            deserialize(&mut serde_json::Deserializer::from_str(&text)).unwrap();
        assert_eq!(value, json!({"metadata": {}, "items": [1, 2]}));
        let list: Vec<WithoutManagedFields<WrappedMeta>> = serde_json::from_str(
            r#"[{"metadata":{"name":"a","managedFields":[]}},{"metadata":{"name":"b"}}]"#,
        )
        .unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].0.metadata.name.as_deref(), Some("b"));
    }

    #[test]
    fn errors_in_the_skipped_value_are_still_errors() {
        let text = r#"{"metadata":{"managedFields":[1,}}"#;
        assert!(serde_json::from_str::<WithoutManagedFields<WrappedMeta>>(text).is_err());
    }
}
