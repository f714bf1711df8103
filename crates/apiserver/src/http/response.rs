//! Building responses: JSON or YAML bodies, Status errors.

use axum::body::Body;
use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use serde_json::Value;

use super::negotiate::Encoding;
use crate::status::ApiError;

pub type HttpResponse = Response<Body>;

pub fn bytes_response(code: u16, content_type: &'static str, bytes: Bytes) -> HttpResponse {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    response
}

pub fn json_bytes_response(code: u16, bytes: Bytes) -> HttpResponse {
    bytes_response(code, "application/json", bytes)
}

/// A value in the negotiated encoding.
pub fn value_response(code: u16, value: &Value, encoding: Encoding) -> HttpResponse {
    match encoding {
        Encoding::Json => json_bytes_response(
            code,
            Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
        ),
        Encoding::Protobuf => match api_protobuf::encode(value) {
            Ok(bytes) => bytes_response(
                code,
                api_protobuf::PROTOBUF_CONTENT_TYPE,
                Bytes::from(bytes),
            ),
            Err(e) => error_response(&ApiError::internal(format!("encoding protobuf: {e}"))),
        },
        Encoding::Yaml => match serde_saphyr::to_string(value) {
            Ok(text) => bytes_response(code, "application/yaml", Bytes::from(text)),
            Err(e) => error_response(&ApiError::internal(format!("encoding YAML: {e}"))),
        },
    }
}

pub fn error_response(error: &ApiError) -> HttpResponse {
    let mut response = json_bytes_response(
        error.code,
        Bytes::from(serde_json::to_vec(&error.to_status()).unwrap_or_default()),
    );
    if let Some(seconds) = error.details.retry_after_seconds {
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

pub fn text_response(code: u16, text: impl Into<String>) -> HttpResponse {
    bytes_response(code, "text/plain; charset=utf-8", Bytes::from(text.into()))
}

/// Add upstream's `Warning: 299 - "..."` headers.
pub fn add_warnings(response: &mut HttpResponse, warnings: &[String]) {
    for warning in warnings {
        let escaped = warning.replace('\\', "\\\\").replace('"', "\\\"");
        if let Ok(value) = HeaderValue::from_str(&format!("299 - \"{escaped}\"")) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
}
