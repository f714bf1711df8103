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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_bodies_decode() {
        let v = decode_yaml(b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: \"1\"\n").unwrap();
        assert_eq!(v["data"]["a"], "1");
    }
}
