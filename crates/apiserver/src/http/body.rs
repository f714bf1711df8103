//! Reading and decoding request bodies.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use serde_json::Value;

use crate::status::ApiError;

/// Upstream's limit on request bodies (3 MiB).
pub const MAX_REQUEST_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Read the whole body, refusing more than the limit with 413.
pub async fn read_body<B>(body: B) -> Result<Bytes, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, MAX_REQUEST_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(ApiError::too_large(
            format!("Request entity too large: limit is {MAX_REQUEST_BODY_BYTES}"),
        )),
        Err(error) => Err(ApiError::bad_request(format!(
            "error reading request body: {error}"
        ))),
    }
}

/// Decode a JSON body; errors carry the position.
pub fn decode_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "error decoding JSON body: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

/// Decode a Kubernetes protobuf body; anything that cannot be decoded exactly is refused with 415.
pub fn decode_protobuf(bytes: &[u8]) -> Result<Value, ApiError> {
    api_protobuf::decode(bytes).map_err(|e| {
        let mut error = ApiError::unsupported_media_type(api_protobuf::PROTOBUF_CONTENT_TYPE);
        error.message = format!("cannot decode the protobuf body: {e}");
        error
    })
}

/// Decode a YAML body (one document).
pub fn decode_yaml(bytes: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML body: {e}")))?;
    serde_saphyr::from_str::<Value>(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML body: {e}")))
}

/// JSON objects may not repeat a key: kubectl's strict validation reports duplicates. Returns the
/// paths of repeated fields.
pub fn duplicate_fields(bytes: &[u8]) -> Vec<String> {
    use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    struct Walk<'a> {
        path: String,
        found: &'a mut Vec<String>,
    }
    impl<'de> DeserializeSeed<'de> for Walk<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Walk<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let path = if self.path.is_empty() {
                    key.clone()
                } else {
                    format!("{}.{key}", self.path)
                };
                if !seen.insert(key) {
                    self.found.push(path.clone());
                }
                map.next_value_seed(Walk {
                    path,
                    found: self.found,
                })?;
            }
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut index = 0;
            while seq
                .next_element_seed(Walk {
                    path: format!("{}[{index}]", self.path),
                    found: self.found,
                })?
                .is_some()
            {
                index += 1;
            }
            Ok(())
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
    }
    let mut found = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let _ = Walk {
        path: String::new(),
        found: &mut found,
    }
    .deserialize(&mut de);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_duplicate_keys() {
        let dups = duplicate_fields(br#"{"metadata":{"name":"a","name":"b"},"data":{"x":"1"}}"#);
        assert_eq!(dups, vec!["metadata.name"]);
    }

    #[test]
    fn yaml_bodies_decode() {
        let v = decode_yaml(b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: \"1\"\n").unwrap();
        assert_eq!(v["data"]["a"], "1");
    }
}
