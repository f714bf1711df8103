//! The `k8s\0` + `runtime.Unknown` envelope around every protobuf body.

use serde_json::{Map, Value};

use crate::wire::{self, Reader};
use crate::{decode, encode, type_map, ProtobufError};

/// The four bytes every Kubernetes protobuf body starts with.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// The fields of a `runtime.Unknown`.
struct Unknown<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
}

fn string(bytes: &[u8]) -> Result<String, ProtobufError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ProtobufError::Envelope("string is not UTF-8".into()))
}

fn read_unknown(body: &[u8]) -> Result<Unknown<'_>, ProtobufError> {
    let rest = body.strip_prefix(MAGIC).ok_or(ProtobufError::BadMagic)?;
    let mut reader = Reader::new(rest);
    let mut type_meta: Option<&[u8]> = None;
    let mut raw: Option<&[u8]> = None;
    let mut seen: Vec<u32> = Vec::new();
    while !reader.at_end() {
        let (tag, wire_type) = reader.key()?;
        if wire_type != wire::LENGTH_DELIMITED || !(1..=4).contains(&tag) {
            return Err(ProtobufError::UnknownField {
                message: "runtime.Unknown",
                tag,
            });
        }
        if seen.contains(&tag) {
            return Err(ProtobufError::DuplicateField {
                message: "runtime.Unknown",
                tag,
            });
        }
        seen.push(tag);
        let value = reader.length_delimited()?;
        match tag {
            1 => type_meta = Some(value),
            2 => raw = Some(value),
            3 if !value.is_empty() => {
                return Err(ProtobufError::Envelope(format!(
                    "content encoding {:?}",
                    String::from_utf8_lossy(value)
                )))
            }
            4 if !value.is_empty() && value != crate::PROTOBUF_CONTENT_TYPE.as_bytes() => {
                return Err(ProtobufError::Envelope(format!(
                    "content type {:?}",
                    String::from_utf8_lossy(value)
                )))
            }
            _ => {}
        }
    }
    let (api_version, kind) = read_type_meta(type_meta.unwrap_or_default())?;
    Ok(Unknown {
        api_version,
        kind,
        raw: raw.unwrap_or_default(),
    })
}

fn read_type_meta(bytes: &[u8]) -> Result<(String, String), ProtobufError> {
    let mut reader = Reader::new(bytes);
    let mut api_version: Option<String> = None;
    let mut kind: Option<String> = None;
    while !reader.at_end() {
        let (tag, wire_type) = reader.key()?;
        let slot = match (tag, wire_type) {
            (1, wire::LENGTH_DELIMITED) => &mut api_version,
            (2, wire::LENGTH_DELIMITED) => &mut kind,
            _ => {
                return Err(ProtobufError::UnknownField {
                    message: "runtime.TypeMeta",
                    tag,
                })
            }
        };
        if slot.replace(string(reader.length_delimited()?)?).is_some() {
            return Err(ProtobufError::DuplicateField {
                message: "runtime.TypeMeta",
                tag,
            });
        }
    }
    match (api_version, kind) {
        (Some(v), Some(k)) if !v.is_empty() && !k.is_empty() => Ok((v, k)),
        _ => Err(ProtobufError::MissingTypeMeta),
    }
}

/// Decodes an envelope found `depth` messages deep.
pub(crate) fn decode_at(body: &[u8], depth: usize) -> Result<Value, ProtobufError> {
    let unknown = read_unknown(body)?;
    let descriptor = type_map::lookup(&unknown.api_version, &unknown.kind)?;
    let Value::Object(fields) = decode::decode_message(descriptor, unknown.raw, depth)? else {
        return Err(ProtobufError::invalid(descriptor.name, "kind is no object"));
    };
    let mut object = Map::new();
    object.insert("apiVersion".into(), Value::from(unknown.api_version));
    object.insert("kind".into(), Value::from(unknown.kind));
    for (key, value) in fields {
        if object.insert(key, value).is_some() {
            return Err(ProtobufError::invalid(
                descriptor.name,
                "field named like TypeMeta",
            ));
        }
    }
    Ok(Value::Object(object))
}

/// Encodes `object` (apiVersion and kind inside) into an envelope.
pub(crate) fn encode_object(object: &Value) -> Result<Vec<u8>, ProtobufError> {
    let api_version = object.get("apiVersion").and_then(Value::as_str);
    let kind = object.get("kind").and_then(Value::as_str);
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        return Err(ProtobufError::MissingTypeMeta);
    };
    let descriptor = type_map::lookup(api_version, kind)?;
    let raw = encode::encode_top_level(descriptor, object)?;
    let mut type_meta = Vec::new();
    wire::put_length_delimited(&mut type_meta, 1, api_version.as_bytes());
    wire::put_length_delimited(&mut type_meta, 2, kind.as_bytes());
    let mut out = MAGIC.to_vec();
    wire::put_length_delimited(&mut out, 1, &type_meta);
    wire::put_length_delimited(&mut out, 2, &raw);
    wire::put_length_delimited(&mut out, 3, b"");
    wire::put_length_delimited(&mut out, 4, b"");
    Ok(out)
}
