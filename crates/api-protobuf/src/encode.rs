//! JSON objects → protobuf message bytes, the inverse of `decode`.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::descriptor::{message, FieldDescriptor, FieldKind, MapValue, MessageDescriptor, Scalar};
use crate::wire;
use crate::{special_types, ProtobufError};

/// Encodes a top-level object, whose `apiVersion` and `kind` travel in the envelope.
pub(crate) fn encode_top_level(
    descriptor: &'static MessageDescriptor,
    object: &Value,
) -> Result<Vec<u8>, ProtobufError> {
    let Value::Object(fields) = object else {
        return Err(ProtobufError::invalid(descriptor.name, "not an object"));
    };
    let mut out = Vec::new();
    encode_object(descriptor, fields, &["apiVersion", "kind"], &mut out, 0)?;
    Ok(out)
}

fn encode_message(
    descriptor: &'static MessageDescriptor,
    value: &Value,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), ProtobufError> {
    if depth > crate::decode::MAX_DEPTH {
        return Err(ProtobufError::TooDeep(crate::decode::MAX_DEPTH));
    }
    if let Some(special) = descriptor.special {
        return special_types::encode(special, descriptor, value, out);
    }
    let Value::Object(fields) = value else {
        return Err(ProtobufError::invalid(descriptor.name, "not an object"));
    };
    encode_object(descriptor, fields, &[], out, depth)
}

/// Encodes the fields of `object` in field-number order; every key must be a field (or one of
/// an inline member's), except the `ignored` ones.
fn encode_object(
    descriptor: &'static MessageDescriptor,
    object: &Map<String, Value>,
    ignored: &[&str],
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), ProtobufError> {
    if let Some(key) = object
        .keys()
        .find(|k| !ignored.contains(&k.as_str()) && !accepts(descriptor, k))
    {
        return Err(ProtobufError::invalid(
            descriptor.name,
            format!("no protobuf field for {key:?}"),
        ));
    }
    encode_fields(descriptor, object, out, depth)
}

/// Whether the JSON key `key` belongs to `descriptor` or one of its inline members.
fn accepts(descriptor: &'static MessageDescriptor, key: &str) -> bool {
    descriptor.fields.iter().any(|f| match f.kind {
        FieldKind::Message(index) if f.inline => accepts(message(index), key),
        _ => f.json_name == key,
    })
}

fn encode_fields(
    descriptor: &'static MessageDescriptor,
    object: &Map<String, Value>,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), ProtobufError> {
    for field in descriptor.fields {
        if field.inline {
            if let FieldKind::Message(index) = field.kind {
                let mut inner = Vec::new();
                encode_fields(message(index), object, &mut inner, depth + 1)?;
                wire::put_length_delimited(out, field.tag, &inner);
            }
            continue;
        }
        let Some(value) = object.get(field.json_name).filter(|v| !v.is_null()) else {
            continue;
        };
        encode_field(descriptor, field, value, out, depth)?;
    }
    Ok(())
}

fn encode_field(
    descriptor: &'static MessageDescriptor,
    field: &FieldDescriptor,
    value: &Value,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), ProtobufError> {
    let single = |item: &Value, out: &mut Vec<u8>| -> Result<(), ProtobufError> {
        match field.kind {
            FieldKind::Scalar(scalar) => put_scalar(descriptor, field, scalar, item, out),
            FieldKind::Message(index) => {
                let mut inner = Vec::new();
                encode_message(message(index), item, &mut inner, depth + 1)?;
                wire::put_length_delimited(out, field.tag, &inner);
                Ok(())
            }
            FieldKind::Map(value_kind) => put_map(descriptor, field, value_kind, item, out, depth),
        }
    };
    if field.repeated {
        let Value::Array(items) = value else {
            return Err(ProtobufError::invalid(
                descriptor.name,
                format!("{} is not an array", field.json_name),
            ));
        };
        for item in items {
            single(item, out)?;
        }
        Ok(())
    } else {
        single(value, out)
    }
}

fn put_map(
    descriptor: &'static MessageDescriptor,
    field: &FieldDescriptor,
    value_kind: MapValue,
    value: &Value,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), ProtobufError> {
    let Value::Object(entries) = value else {
        return Err(ProtobufError::invalid(
            descriptor.name,
            format!("{} is not an object", field.json_name),
        ));
    };
    let mut keys: Vec<&String> = entries.keys().collect();
    keys.sort();
    for key in keys {
        let mut entry = Vec::new();
        wire::put_length_delimited(&mut entry, 1, key.as_bytes());
        let item = &entries[key.as_str()];
        match value_kind {
            _ if item.is_null() => {}
            MapValue::Scalar(scalar) => {
                let value_field = FieldDescriptor {
                    tag: 2,
                    json_name: field.json_name,
                    inline: false,
                    repeated: false,
                    kind: FieldKind::Scalar(scalar),
                };
                put_scalar(descriptor, &value_field, scalar, item, &mut entry)?;
            }
            MapValue::Message(index) => {
                let mut inner = Vec::new();
                encode_message(message(index), item, &mut inner, depth + 1)?;
                wire::put_length_delimited(&mut entry, 2, &inner);
            }
        }
        wire::put_length_delimited(out, field.tag, &entry);
    }
    Ok(())
}

fn put_scalar(
    descriptor: &'static MessageDescriptor,
    field: &FieldDescriptor,
    scalar: Scalar,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<(), ProtobufError> {
    let wrong = |what: &str| {
        ProtobufError::invalid(
            descriptor.name,
            format!("{} is not {what}", field.json_name),
        )
    };
    let tag = field.tag;
    match scalar {
        Scalar::String => {
            let s = value.as_str().ok_or_else(|| wrong("a string"))?;
            wire::put_length_delimited(out, tag, s.as_bytes());
        }
        Scalar::Bytes => {
            let s = value.as_str().ok_or_else(|| wrong("a base64 string"))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| wrong("valid base64"))?;
            wire::put_length_delimited(out, tag, &bytes);
        }
        Scalar::Bool => {
            let b = value.as_bool().ok_or_else(|| wrong("a boolean"))?;
            wire::put_varint_field(out, tag, u64::from(b));
        }
        Scalar::Int32 => {
            let i = value
                .as_i64()
                .and_then(|i| i32::try_from(i).ok())
                .ok_or_else(|| wrong("an int32"))?;
            wire::put_varint_field(out, tag, i64::from(i) as u64);
        }
        Scalar::Int64 => {
            let i = value.as_i64().ok_or_else(|| wrong("an int64"))?;
            wire::put_varint_field(out, tag, i as u64);
        }
    }
    Ok(())
}
