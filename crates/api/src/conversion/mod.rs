//! Conversion between the group-versions that serve one stored resource: autoscaling/v1 and
//! autoscaling/v2 HorizontalPodAutoscalers (stored as v2), core/v1 and events.k8s.io/v1 Events
//! (stored as core/v1). Every object is written in its resource's `storage_version` and converted
//! on the way in and out, so an object written through one version reads back through the other,
//! as upstream's conversion functions make it.

mod events;
mod hpa;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::ResourceInfo;

const HPA: &str = "HorizontalPodAutoscaler";
const EVENT: &str = "Event";

/// Why an object could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    #[error("the object to convert is not a JSON object")]
    NotAnObject,
    #[error("the object to convert has no apiVersion")]
    MissingApiVersion,
    #[error("invalid apiVersion {0:?}")]
    InvalidApiVersion(String),
    #[error("no conversion of {kind} from {from} to {to}")]
    Unsupported {
        kind: String,
        from: String,
        to: String,
    },
}

/// Converts `object` from the group-version its `apiVersion` names to `to_group`/`to_version`
/// (`""` for the core group). The same group-version gives an unchanged copy; otherwise the result
/// carries the target `apiVersion` and the object's `kind` (inferred when the object has none,
/// since each pair of group-versions converts exactly one kind).
pub fn convert(object: &Value, to_group: &str, to_version: &str) -> Result<Value, ConversionError> {
    let fields = object.as_object().ok_or(ConversionError::NotAnObject)?;
    let (from_group, from_version) = group_version(fields)?;
    if (from_group, from_version) == (to_group, to_version) {
        return Ok(object.clone());
    }
    let kind = fields
        .get("kind")
        .and_then(Value::as_str)
        .filter(|kind| !kind.is_empty());
    let is = |expected: &str| kind.is_none_or(|kind| kind == expected);
    let (kind, body) = match (from_group, from_version, to_group, to_version) {
        ("autoscaling", "v1", "autoscaling", "v2") if is(HPA) => (HPA, hpa::v1_to_v2(fields)),
        ("autoscaling", "v2", "autoscaling", "v1") if is(HPA) => (HPA, hpa::v2_to_v1(fields)),
        ("", "v1", "events.k8s.io", "v1") if is(EVENT) => (EVENT, events::core_to_events(fields)),
        ("events.k8s.io", "v1", "", "v1") if is(EVENT) => (EVENT, events::events_to_core(fields)),
        _ => {
            return Err(ConversionError::Unsupported {
                kind: kind.unwrap_or("object").to_string(),
                from: api_version(from_group, from_version),
                to: api_version(to_group, to_version),
            })
        }
    };
    let mut out = Map::with_capacity(body.len() + 2);
    out.insert(
        "apiVersion".into(),
        api_version(to_group, to_version).into(),
    );
    out.insert("kind".into(), kind.into());
    out.extend(body);
    Ok(Value::Object(out))
}

/// An object received through `info`'s group-version, in the representation that is stored.
/// An object without `apiVersion` is taken to be in `info`'s group-version.
pub fn to_storage(info: &ResourceInfo, object: &Value) -> Result<Value, ConversionError> {
    let (group, version) = info.storage_version;
    convert(
        &assume_version(object, info.group, info.version),
        group,
        version,
    )
}

/// A stored object, in `info`'s group-version. An object without `apiVersion` is taken to be in
/// the storage version.
pub fn from_storage(info: &ResourceInfo, stored: &Value) -> Result<Value, ConversionError> {
    let (group, version) = info.storage_version;
    convert(
        &assume_version(stored, group, version),
        info.group,
        info.version,
    )
}

/// The group and version an object's `apiVersion` names: "apps/v1", or "v1" for the core group.
fn group_version(object: &Map<String, Value>) -> Result<(&str, &str), ConversionError> {
    let value = object
        .get("apiVersion")
        .filter(|value| !value.is_null())
        .ok_or(ConversionError::MissingApiVersion)?;
    let text = value
        .as_str()
        .ok_or_else(|| ConversionError::InvalidApiVersion(value.to_string()))?;
    let (group, version) = text.split_once('/').unwrap_or(("", text));
    if version.is_empty() || version.contains('/') || text.starts_with('/') {
        return Err(ConversionError::InvalidApiVersion(text.to_string()));
    }
    Ok((group, version))
}

fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// `object`, with `apiVersion` set to `group`/`version` when it has none.
fn assume_version<'a>(object: &'a Value, group: &str, version: &str) -> Cow<'a, Value> {
    match object.as_object() {
        Some(fields) if fields.get("apiVersion").is_none_or(Value::is_null) => {
            let mut fields = fields.clone();
            fields.insert("apiVersion".into(), api_version(group, version).into());
            Cow::Owned(Value::Object(fields))
        }
        _ => Cow::Borrowed(object),
    }
}
