//! Protobuf message bytes → the JSON object Go's encoding/json writes for the same Go object.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::descriptor::{message, FieldDescriptor, FieldKind, MapValue, MessageDescriptor, Scalar};
use crate::wire::{self, Reader};
use crate::{special_types, value_fields, ProtobufError};

/// Deepest nesting of messages accepted.
pub(crate) const MAX_DEPTH: usize = 100;

/// The JSON value of one message of type `descriptor`.
pub(crate) fn decode_message(
    descriptor: &'static MessageDescriptor,
    bytes: &[u8],
    depth: usize,
) -> Result<Value, ProtobufError> {
    if depth > MAX_DEPTH {
        return Err(ProtobufError::TooDeep(MAX_DEPTH));
    }
    if let Some(special) = descriptor.special {
        let envelope = |raw: &[u8]| crate::envelope::decode_at(raw, depth + 1);
        return special_types::decode(special, descriptor, bytes, &envelope);
    }
    let mut object = Map::new();
    decode_fields(descriptor, bytes, depth, &mut object)?;
    Ok(Value::Object(object))
}

/// Decodes the fields of `bytes` into `object`; inline members add theirs to the same object.
fn decode_fields(
    descriptor: &'static MessageDescriptor,
    bytes: &[u8],
    depth: usize,
    object: &mut Map<String, Value>,
) -> Result<(), ProtobufError> {
    let mut reader = Reader::new(bytes);
    let mut seen: Vec<u32> = Vec::new();
    while !reader.at_end() {
        let (tag, wire_type) = reader.key()?;
        let field = descriptor
            .field_by_tag(tag)
            .ok_or(ProtobufError::UnknownField {
                message: descriptor.name,
                tag,
            })?;
        let singular = !field.repeated && !matches!(field.kind, FieldKind::Map(_));
        if singular {
            if seen.contains(&tag) {
                return Err(ProtobufError::DuplicateField {
                    message: descriptor.name,
                    tag,
                });
            }
            seen.push(tag);
        }
        let wire_error = ProtobufError::WireType {
            message: descriptor.name,
            tag,
            wire_type,
        };
        match field.kind {
            FieldKind::Scalar(scalar) if field.repeated => {
                let items = array_at(object, field)?;
                if wire_type == wire::LENGTH_DELIMITED && is_numeric(scalar) {
                    let mut packed = Reader::new(reader.length_delimited()?);
                    while !packed.at_end() {
                        items.push(read_scalar(
                            descriptor,
                            scalar,
                            wire_of(scalar),
                            &mut packed,
                        )?);
                    }
                } else if wire_type == wire_of(scalar) {
                    items.push(read_scalar(descriptor, scalar, wire_type, &mut reader)?);
                } else {
                    return Err(wire_error);
                }
            }
            FieldKind::Scalar(scalar) => {
                if wire_type != wire_of(scalar) {
                    return Err(wire_error);
                }
                let value = read_scalar(descriptor, scalar, wire_type, &mut reader)?;
                if !(is_zero(&value) && value_fields::omits_zero(descriptor.name, field.json_name))
                {
                    object.insert(field.json_name.to_string(), value);
                }
            }
            FieldKind::Message(index) => {
                if wire_type != wire::LENGTH_DELIMITED {
                    return Err(wire_error);
                }
                let bytes = reader.length_delimited()?;
                let child = message(index);
                if field.inline {
                    let mut members = Map::new();
                    decode_fields(child, bytes, depth + 1, &mut members)?;
                    for (key, value) in members {
                        if object.insert(key, value).is_some() {
                            return Err(ProtobufError::invalid(
                                descriptor.name,
                                "inline member repeats a field",
                            ));
                        }
                    }
                } else if field.repeated {
                    let value = decode_message(child, bytes, depth + 1)?;
                    array_at(object, field)?.push(value);
                } else {
                    let value = decode_message(child, bytes, depth + 1)?;
                    object.insert(field.json_name.to_string(), value);
                }
            }
            FieldKind::Map(value_kind) => {
                if wire_type != wire::LENGTH_DELIMITED {
                    return Err(wire_error);
                }
                let entry = reader.length_delimited()?;
                let (key, value) = decode_map_entry(descriptor, value_kind, entry, depth)?;
                let map = object
                    .entry(field.json_name.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(map) = map {
                    map.insert(key, value);
                }
            }
        }
    }
    Ok(())
}

fn array_at<'a>(
    object: &'a mut Map<String, Value>,
    field: &FieldDescriptor,
) -> Result<&'a mut Vec<Value>, ProtobufError> {
    match object
        .entry(field.json_name.to_string())
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(items) => Ok(items),
        _ => Err(ProtobufError::invalid("repeated field", field.json_name)),
    }
}

/// One `map<string, V>` entry: key (field 1) and value (field 2), each defaulting to zero.
fn decode_map_entry(
    descriptor: &'static MessageDescriptor,
    value_kind: MapValue,
    entry: &[u8],
    depth: usize,
) -> Result<(String, Value), ProtobufError> {
    let mut reader = Reader::new(entry);
    let mut key: Option<String> = None;
    let mut value: Option<Value> = None;
    while !reader.at_end() {
        let (tag, wire_type) = reader.key()?;
        let duplicate = ProtobufError::DuplicateField {
            message: descriptor.name,
            tag,
        };
        let wire_error = ProtobufError::WireType {
            message: descriptor.name,
            tag,
            wire_type,
        };
        match (tag, value_kind) {
            (1, _) => {
                if wire_type != wire::LENGTH_DELIMITED {
                    return Err(wire_error);
                }
                let read = read_scalar(descriptor, Scalar::String, wire_type, &mut reader)?;
                if key
                    .replace(read.as_str().unwrap_or_default().to_string())
                    .is_some()
                {
                    return Err(duplicate);
                }
            }
            (2, MapValue::Scalar(scalar)) => {
                if wire_type != wire_of(scalar) {
                    return Err(wire_error);
                }
                let read = read_scalar(descriptor, scalar, wire_type, &mut reader)?;
                if value.replace(read).is_some() {
                    return Err(duplicate);
                }
            }
            (2, MapValue::Message(index)) => {
                if wire_type != wire::LENGTH_DELIMITED {
                    return Err(wire_error);
                }
                let read = decode_message(message(index), reader.length_delimited()?, depth + 1)?;
                if value.replace(read).is_some() {
                    return Err(duplicate);
                }
            }
            _ => {
                return Err(ProtobufError::UnknownField {
                    message: descriptor.name,
                    tag,
                })
            }
        }
    }
    let value = match (value, value_kind) {
        (Some(value), _) => value,
        (None, MapValue::Scalar(scalar)) => zero(scalar),
        (None, MapValue::Message(index)) => decode_message(message(index), &[], depth + 1)?,
    };
    Ok((key.unwrap_or_default(), value))
}

fn is_numeric(scalar: Scalar) -> bool {
    matches!(scalar, Scalar::Bool | Scalar::Int32 | Scalar::Int64)
}

fn wire_of(scalar: Scalar) -> u8 {
    match scalar {
        Scalar::String | Scalar::Bytes => wire::LENGTH_DELIMITED,
        Scalar::Bool | Scalar::Int32 | Scalar::Int64 => wire::VARINT,
    }
}

fn zero(scalar: Scalar) -> Value {
    match scalar {
        Scalar::String | Scalar::Bytes => Value::from(""),
        Scalar::Bool => Value::Bool(false),
        Scalar::Int32 | Scalar::Int64 => Value::from(0),
    }
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0),
        _ => false,
    }
}

/// One scalar whose key (of the right wire type) was just read.
fn read_scalar(
    descriptor: &'static MessageDescriptor,
    scalar: Scalar,
    wire_type: u8,
    reader: &mut Reader<'_>,
) -> Result<Value, ProtobufError> {
    debug_assert_eq!(wire_type, wire_of(scalar));
    Ok(match scalar {
        Scalar::String => {
            let bytes = reader.length_delimited()?;
            let text = std::str::from_utf8(bytes)
                .map_err(|_| ProtobufError::invalid(descriptor.name, "string is not UTF-8"))?;
            Value::from(text)
        }
        Scalar::Bytes => {
            let bytes = reader.length_delimited()?;
            Value::from(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        Scalar::Bool => Value::Bool(reader.varint()? != 0),
        Scalar::Int32 => {
            let int = i32::try_from(reader.varint()? as i64)
                .map_err(|_| ProtobufError::invalid(descriptor.name, "int32 out of range"))?;
            Value::from(int)
        }
        Scalar::Int64 => Value::from(reader.varint()? as i64),
    })
}
