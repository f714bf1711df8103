//! The Kubernetes protobuf wire format (`application/vnd.kubernetes.protobuf`) of the built-in
//! kinds, decoded into and encoded from the JSON objects the server stores.
//!
//! A body is the magic `k8s\0` and a `runtime.Unknown` whose `raw` holds the object's message,
//! the proto2 form of the Go type (upstream's `generated.proto`). The message layouts are built
//! at compile time from the `k8s-pb` crate's sources, the JSON names from `k8s-openapi`'s.
//! Anything that cannot be decoded exactly (an unknown field number, a wire type other than the
//! declared one, a repeated singular field, invalid UTF-8, a kind not served as protobuf) is an
//! error, never a guess.
#![forbid(unsafe_code)]

mod decode;
mod descriptor;
mod encode;
mod envelope;
mod error;
mod special_types;
mod type_map;
mod value_fields;
mod wire;

pub use envelope::MAGIC;
pub use error::ProtobufError;

/// The media type of Kubernetes protobuf bodies.
pub const PROTOBUF_CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Decodes a `k8s\0` envelope into the JSON object, `apiVersion` and `kind` set from the
/// envelope's type meta.
pub fn decode(body: &[u8]) -> Result<serde_json::Value, ProtobufError> {
    envelope::decode_at(body, 0)
}

/// Encodes a JSON object of a built-in kind (`apiVersion` and `kind` inside) into an envelope.
pub fn encode(object: &serde_json::Value) -> Result<Vec<u8>, ProtobufError> {
    envelope::encode_object(object)
}
