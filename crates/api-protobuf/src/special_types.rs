//! Messages whose JSON form is not an object of their fields: `Time`, `MicroTime`,
//! `IntOrString`, `Quantity`, `RawExtension`, `FieldsV1` and the `[]string` wrappers.

use serde_json::Value;

use crate::descriptor::{MessageDescriptor, Special};
use crate::wire::{self, Reader};
use crate::ProtobufError;

/// Go's zero `time.Time` in Unix seconds (January 1, year 1, UTC).
const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

/// One field of a special message, as read off the wire.
enum Raw<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Reads the fields of a special message: `layout` lists (tag, wire type, repeated).
fn scan<'a>(
    message: &'static MessageDescriptor,
    bytes: &'a [u8],
    layout: &[(u32, u8, bool)],
) -> Result<Vec<(u32, Raw<'a>)>, ProtobufError> {
    let mut reader = Reader::new(bytes);
    let mut fields: Vec<(u32, Raw<'a>)> = Vec::new();
    while !reader.at_end() {
        let (tag, wire_type) = reader.key()?;
        let Some(&(_, expected, repeated)) = layout.iter().find(|(t, _, _)| *t == tag) else {
            return Err(ProtobufError::UnknownField {
                message: message.name,
                tag,
            });
        };
        if wire_type != expected {
            return Err(ProtobufError::WireType {
                message: message.name,
                tag,
                wire_type,
            });
        }
        if !repeated && fields.iter().any(|(t, _)| *t == tag) {
            return Err(ProtobufError::DuplicateField {
                message: message.name,
                tag,
            });
        }
        let raw = if wire_type == wire::VARINT {
            Raw::Varint(reader.varint()?)
        } else {
            Raw::Bytes(reader.length_delimited()?)
        };
        fields.push((tag, raw));
    }
    Ok(fields)
}

fn varint(fields: &[(u32, Raw<'_>)], tag: u32) -> u64 {
    fields
        .iter()
        .find_map(|(t, raw)| match raw {
            Raw::Varint(v) if *t == tag => Some(*v),
            _ => None,
        })
        .unwrap_or(0)
}

fn length_delimited<'a>(fields: &[(u32, Raw<'a>)], tag: u32) -> Option<&'a [u8]> {
    fields.iter().find_map(|(t, raw)| match raw {
        Raw::Bytes(b) if *t == tag => Some(*b),
        _ => None,
    })
}

fn text<'a>(message: &'static MessageDescriptor, raw: &'a [u8]) -> Result<&'a str, ProtobufError> {
    std::str::from_utf8(raw)
        .map_err(|_| ProtobufError::invalid(message.name, "string is not UTF-8"))
}

fn int32(message: &'static MessageDescriptor, value: u64) -> Result<i32, ProtobufError> {
    i32::try_from(value as i64)
        .map_err(|_| ProtobufError::invalid(message.name, "int32 out of range"))
}

/// The JSON form of a special message's bytes; `decode_envelope` decodes an embedded
/// `k8s\0` object inside a RawExtension.
pub(crate) fn decode(
    special: Special,
    message: &'static MessageDescriptor,
    bytes: &[u8],
    decode_envelope: &dyn Fn(&[u8]) -> Result<Value, ProtobufError>,
) -> Result<Value, ProtobufError> {
    use wire::{LENGTH_DELIMITED as LD, VARINT};
    match special {
        // Go's Time.Unmarshal: no bytes at all is the zero time.
        Special::Time | Special::MicroTime if bytes.is_empty() => Ok(Value::Null),
        Special::Time | Special::MicroTime => {
            let fields = scan(message, bytes, &[(1, VARINT, false), (2, VARINT, false)])?;
            let seconds = varint(&fields, 1) as i64;
            let nanos = int32(message, varint(&fields, 2))?;
            format_time(message, seconds, nanos, special == Special::MicroTime)
        }
        Special::IntOrString => {
            let layout = [(1, VARINT, false), (2, VARINT, false), (3, LD, false)];
            let fields = scan(message, bytes, &layout)?;
            match varint(&fields, 1) {
                0 => Ok(Value::from(int32(message, varint(&fields, 2))?)),
                1 => {
                    let s = length_delimited(&fields, 3)
                        .map(|b| text(message, b))
                        .transpose()?;
                    Ok(Value::from(s.unwrap_or("")))
                }
                other => Err(ProtobufError::invalid(
                    message.name,
                    format!("IntOrString type {other}"),
                )),
            }
        }
        Special::Quantity => {
            let fields = scan(message, bytes, &[(1, LD, false)])?;
            match length_delimited(&fields, 1) {
                None => Ok(Value::from("0")),
                Some([]) => Err(ProtobufError::invalid(message.name, "empty quantity")),
                Some(raw) => Ok(Value::from(text(message, raw)?)),
            }
        }
        Special::RawExtension | Special::FieldsV1 => {
            let fields = scan(message, bytes, &[(1, LD, false)])?;
            match length_delimited(&fields, 1) {
                None => Ok(Value::Null),
                Some(raw) if special == Special::RawExtension && raw.starts_with(b"k8s\0") => {
                    decode_envelope(raw)
                }
                Some(raw) => serde_json::from_slice(raw).map_err(|e| {
                    ProtobufError::invalid(message.name, format!("raw bytes are no JSON: {e}"))
                }),
            }
        }
        Special::StringList => {
            let fields = scan(message, bytes, &[(1, LD, true)])?;
            let mut items = Vec::with_capacity(fields.len());
            for (_, raw) in &fields {
                if let Raw::Bytes(b) = raw {
                    items.push(Value::from(text(message, b)?));
                }
            }
            Ok(Value::Array(items))
        }
    }
}

/// `Time` → `2006-01-02T15:04:05Z`, `MicroTime` → `2006-01-02T15:04:05.000000Z`, as Go's
/// MarshalJSON writes them; Go's zero time → `null`.
fn format_time(
    message: &'static MessageDescriptor,
    seconds: i64,
    nanos: i32,
    micro: bool,
) -> Result<Value, ProtobufError> {
    if seconds == GO_ZERO_TIME_SECONDS && nanos == 0 {
        return Ok(Value::Null);
    }
    if !(0..1_000_000_000).contains(&nanos) {
        return Err(ProtobufError::invalid(message.name, "nanos out of range"));
    }
    let timestamp = jiff::Timestamp::new(seconds, nanos)
        .map_err(|e| ProtobufError::invalid(message.name, e.to_string()))?;
    let utc = timestamp.to_zoned(jiff::tz::TimeZone::UTC);
    if !(0..=9999).contains(&utc.year()) {
        return Err(ProtobufError::invalid(
            message.name,
            "year outside 0000-9999",
        ));
    }
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        utc.year(),
        utc.month(),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    );
    if micro {
        out.push_str(&format!(".{:06}", nanos / 1000));
    }
    out.push('Z');
    Ok(Value::from(out))
}

/// The bytes of a special message for its JSON form. A RawExtension holds its value as JSON
/// bytes, as Go holds one it read from JSON.
pub(crate) fn encode(
    special: Special,
    message: &'static MessageDescriptor,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<(), ProtobufError> {
    match special {
        Special::Time | Special::MicroTime => {
            let Some(s) = value.as_str() else {
                return Err(ProtobufError::invalid(message.name, "time is no string"));
            };
            let timestamp: jiff::Timestamp = s
                .parse()
                .map_err(|e| ProtobufError::invalid(message.name, format!("time {s:?}: {e}")))?;
            wire::put_varint_field(out, 1, timestamp.as_second() as u64);
            wire::put_varint_field(out, 2, i64::from(timestamp.subsec_nanosecond()) as u64);
        }
        Special::IntOrString => match value {
            Value::Number(n) => {
                let int = n
                    .as_i64()
                    .and_then(|i| i32::try_from(i).ok())
                    .ok_or_else(|| {
                        ProtobufError::invalid(message.name, "int out of int32 range")
                    })?;
                wire::put_varint_field(out, 1, 0);
                wire::put_varint_field(out, 2, i64::from(int) as u64);
                wire::put_length_delimited(out, 3, b"");
            }
            Value::String(s) => {
                wire::put_varint_field(out, 1, 1);
                wire::put_varint_field(out, 2, 0);
                wire::put_length_delimited(out, 3, s.as_bytes());
            }
            _ => {
                return Err(ProtobufError::invalid(
                    message.name,
                    "neither int nor string",
                ))
            }
        },
        Special::Quantity => {
            let text = match value {
                Value::String(s) if !s.is_empty() => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => {
                    return Err(ProtobufError::invalid(
                        message.name,
                        "quantity is no string",
                    ))
                }
            };
            wire::put_length_delimited(out, 1, text.as_bytes());
        }
        Special::RawExtension | Special::FieldsV1 => {
            let raw = serde_json::to_vec(value)
                .map_err(|e| ProtobufError::invalid(message.name, e.to_string()))?;
            wire::put_length_delimited(out, 1, &raw);
        }
        Special::StringList => {
            let Some(items) = value.as_array() else {
                return Err(ProtobufError::invalid(message.name, "not an array"));
            };
            for item in items {
                let Some(s) = item.as_str() else {
                    return Err(ProtobufError::invalid(message.name, "item is no string"));
                };
                wire::put_length_delimited(out, 1, s.as_bytes());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::message_by_name;

    fn time() -> &'static MessageDescriptor {
        message_by_name("apimachinery.pkg.apis.meta.v1.Time").unwrap()
    }

    #[test]
    fn times_format_like_go() {
        let m = time();
        assert_eq!(
            format_time(m, 1_795_384_696, 999, false).unwrap(),
            "2026-11-22T21:58:16Z"
        );
        assert_eq!(
            format_time(m, 1_795_384_696, 123_456_789, true).unwrap(),
            "2026-11-22T21:58:16.123456Z"
        );
        assert_eq!(format_time(m, 0, 0, false).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_time(m, GO_ZERO_TIME_SECONDS, 0, false).unwrap(),
            Value::Null
        );
        assert!(format_time(m, 0, -1, false).is_err());
        assert!(format_time(m, i64::MAX, 0, false).is_err());
    }

    #[test]
    fn special_layouts_match_the_descriptors() {
        let check = |name: &str, expected: &[(u32, &str)]| {
            let m = message_by_name(name).unwrap();
            let got: Vec<(u32, &str)> = m.fields.iter().map(|f| (f.tag, f.json_name)).collect();
            assert_eq!(got, expected, "{name}");
        };
        check(
            "apimachinery.pkg.apis.meta.v1.Time",
            &[(1, "seconds"), (2, "nanos")],
        );
        check(
            "apimachinery.pkg.apis.meta.v1.MicroTime",
            &[(1, "seconds"), (2, "nanos")],
        );
        check(
            "apimachinery.pkg.util.intstr.IntOrString",
            &[(1, "type"), (2, "intVal"), (3, "strVal")],
        );
        check("apimachinery.pkg.api.resource.Quantity", &[(1, "string")]);
        check("apimachinery.pkg.runtime.RawExtension", &[(1, "raw")]);
        check("apimachinery.pkg.apis.meta.v1.FieldsV1", &[(1, "raw")]);
        check("apimachinery.pkg.apis.meta.v1.Verbs", &[(1, "items")]);
    }
}
