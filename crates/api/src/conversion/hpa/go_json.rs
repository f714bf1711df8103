//! The annotations hold JSON that Go's `encoding/json` writes and reads back into Go structs.
//! Writing: compact, with `<`, `>`, `&`, U+2028 and U+2029 escaped as Go does. Reading: a field
//! matches its name exactly or else case-insensitively, `null` leaves the field unset, and a value
//! of the wrong type fails the whole annotation, which upstream then ignores.

use serde_json::{Map, Value};

use crate::quantity::Quantity;

/// The annotation is not what Go would decode into the annotation's type.
#[derive(Debug)]
pub(super) struct Malformed;

pub(super) type Decoded<T> = Result<T, Malformed>;

/// `value` as `json.Marshal` writes it.
pub(super) fn encode(value: &Value) -> String {
    let compact = value.to_string();
    let mut out = String::with_capacity(compact.len());
    for c in compact.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Annotation `text` as a Go slice of structs, each read by `item`; `None` when Go would fail.
/// `null` is the empty slice.
pub(super) fn decode_list<T>(
    text: &str,
    item: impl Fn(Struct<'_>) -> Decoded<T>,
) -> Option<Vec<T>> {
    let value: Value = serde_json::from_str(text).ok()?;
    match &value {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|each| Struct::of(each).and_then(&item))
            .collect::<Decoded<Vec<T>>>()
            .ok(),
        _ => None,
    }
}

/// Annotation `text` as one Go struct read by `read`; `None` when Go would fail.
pub(super) fn decode_struct<T>(text: &str, read: impl Fn(Struct<'_>) -> Decoded<T>) -> Option<T> {
    let value: Value = serde_json::from_str(text).ok()?;
    Struct::of(&value).and_then(read).ok()
}

/// A JSON value being read into a Go struct; `null` reads as the zero struct.
#[derive(Clone, Copy)]
pub(super) struct Struct<'a>(Option<&'a Map<String, Value>>);

impl<'a> Struct<'a> {
    pub(super) fn of(value: &'a Value) -> Decoded<Self> {
        match value {
            Value::Object(fields) => Ok(Struct(Some(fields))),
            Value::Null => Ok(Struct(None)),
            _ => Err(Malformed),
        }
    }

    fn field(&self, name: &str) -> Option<&'a Value> {
        let fields = self.0?;
        fields
            .get(name)
            .or_else(|| {
                fields
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
                    .map(|(_, value)| value)
            })
            .filter(|value| !value.is_null())
    }

    pub(super) fn string(&self, name: &str) -> Decoded<Option<&'a str>> {
        self.field(name)
            .map(|value| value.as_str().ok_or(Malformed))
            .transpose()
    }

    /// An `int32`.
    pub(super) fn int(&self, name: &str) -> Decoded<Option<Value>> {
        self.field(name)
            .map(|value| {
                value
                    .as_i64()
                    .and_then(|number| i32::try_from(number).ok())
                    .map(Value::from)
                    .ok_or(Malformed)
            })
            .transpose()
    }

    /// A `resource.Quantity`: quoted or bare, and parseable. Kept as the text it was written in.
    pub(super) fn quantity(&self, name: &str) -> Decoded<Option<Value>> {
        self.field(name)
            .map(|value| match Quantity::from_json(value) {
                Ok(_) if value.is_string() => Ok(value.clone()),
                Ok(quantity) => Ok(Value::String(quantity.canonical())),
                Err(_) => Err(Malformed),
            })
            .transpose()
    }

    /// A nested struct; `None` for a nil pointer.
    pub(super) fn nested(&self, name: &str) -> Decoded<Option<Struct<'a>>> {
        self.field(name).map(Struct::of).transpose()
    }

    /// A field kept as it is (a label selector): any JSON object.
    pub(super) fn object(&self, name: &str) -> Decoded<Option<Value>> {
        self.field(name)
            .map(|value| value.is_object().then(|| value.clone()).ok_or(Malformed))
            .transpose()
    }

    /// A slice, each item read by `item`; `None` for a nil slice.
    pub(super) fn list<T>(
        &self,
        name: &str,
        item: impl Fn(Struct<'_>) -> Decoded<T>,
    ) -> Decoded<Option<Vec<T>>> {
        self.field(name)
            .map(|value| {
                value
                    .as_array()
                    .ok_or(Malformed)?
                    .iter()
                    .map(|each| Struct::of(each).and_then(&item))
                    .collect()
            })
            .transpose()
    }
}
