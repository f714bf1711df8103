//! Turning a request body into an object of the addressed kind, with strict field validation.

use serde_json::Value;

use api::ResourceInfo;

use crate::http::body::{decode_json, decode_protobuf, decode_yaml};
use crate::http::duplicate_fields::duplicate_fields;
use crate::http::negotiate::{body_format, BodyFormat};
use crate::server::RequestContext;
use crate::status::ApiError;

/// Decode an object body (JSON, YAML or protobuf, as Content-Type says).
pub fn decode_object(ctx: &RequestContext, body: &[u8]) -> Result<Value, ApiError> {
    let value = match body_format(ctx.content_type.as_deref())? {
        BodyFormat::Json => decode_json(body)?,
        BodyFormat::Yaml => decode_yaml(body)?,
        BodyFormat::Protobuf => decode_protobuf(body)?,
        _ => {
            return Err(ApiError::unsupported_media_type(
                ctx.content_type.as_deref().unwrap_or(""),
            ))
        }
    };
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    Ok(value)
}

/// Check apiVersion and kind against the endpoint, filling them in when absent.
pub fn check_type(info: &ResourceInfo, object: &mut Value) -> Result<(), ApiError> {
    let expected_version = info.api_version();
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    if !kind.is_empty() && kind != info.kind {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            info.kind
        )));
    }
    if !api_version.is_empty() && api_version != expected_version {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({expected_version})"
        )));
    }
    if let Some(fields) = object.as_object_mut() {
        fields.insert("apiVersion".into(), Value::String(expected_version));
        fields.insert("kind".into(), Value::String(info.kind.to_string()));
    }
    Ok(())
}

/// `fieldValidation`: Strict refuses unknown and duplicate fields, Warn (the default) reports them
/// as warnings, Ignore drops them silently. Returns the warnings.
pub fn check_fields(
    ctx: &RequestContext,
    info: &ResourceInfo,
    object: &Value,
    raw_json: Option<&[u8]>,
) -> Result<Vec<String>, ApiError> {
    let mode = ctx.query.get("fieldValidation").unwrap_or("Warn");
    if !matches!(mode, "Strict" | "Warn" | "Ignore") {
        return Err(ApiError::bad_request(format!(
            "fieldValidation parameter unsupported: {mode}"
        )));
    }
    if mode == "Ignore" {
        return Ok(Vec::new());
    }
    let mut problems: Vec<String> = raw_json
        .map(duplicate_fields)
        .unwrap_or_default()
        .into_iter()
        .map(|path| format!("duplicate field \"{path}\""))
        .collect();
    problems.extend(
        api::openapi::unknown_fields(info.group, info.version, info.kind, object)
            .into_iter()
            .map(|path| format!("unknown field \"{path}\"")),
    );
    if problems.is_empty() {
        return Ok(Vec::new());
    }
    if mode == "Strict" {
        return Err(ApiError::bad_request(format!(
            "strict decoding error: {}",
            problems.join(", ")
        )));
    }
    Ok(problems)
}

/// `dryRun=All`.
pub fn is_dry_run(ctx: &RequestContext) -> Result<bool, ApiError> {
    match ctx.query.get("dryRun") {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid dryRun value: \"{other}\". Supported values: \"All\""
        ))),
    }
}

/// The field manager of a write: `fieldManager`, else derived from the User-Agent as upstream.
pub fn field_manager(ctx: &RequestContext) -> String {
    match ctx.query.non_empty("fieldManager") {
        Some(manager) => manager.to_string(),
        None => patch::apply::default_manager_from_user_agent(&ctx.user_agent),
    }
}
