//! Endpoints that are not resources: health checks, version, metrics and OpenAPI documents.

use bytes::Bytes;
use http::HeaderMap;
use serde_json::json;

use crate::http::negotiate::Encoding;
use crate::http::query::Query;
use crate::http::response::{
    bytes_response, error_response, json_bytes_response, text_response, value_response,
    HttpResponse,
};
use crate::server::{ApiServer, RequestContext};
use crate::status::ApiError;

/// The Kubernetes version this server speaks, with r8s's build metadata.
pub const GIT_VERSION: &str = "v1.33.0+r8s";

pub fn version_info() -> serde_json::Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": GIT_VERSION,
        "gitCommit": option_env!("R8S_GIT_COMMIT").unwrap_or("unknown"),
        "gitTreeState": "clean",
        "buildDate": "2026-11-22T00:00:00Z",
        "goVersion": "rust",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, if std::env::consts::ARCH == "x86_64" { "amd64" } else { std::env::consts::ARCH }),
    })
}

/// `/healthz`, `/livez`, `/readyz` with `?verbose`, `/version` and `/cacerts` (the cluster CA, which
/// a joining agent checks against its token's hash): open to anonymous callers.
pub fn handle(server: &ApiServer, path: &str, query: Option<&str>) -> HttpResponse {
    if path == "/cacerts" {
        return text_response(200, server.ca_cert_pem.clone());
    }
    if path == "/version" {
        return value_response(200, &version_info(), Encoding::Json);
    }
    let check = path.trim_start_matches('/');
    let (endpoint, _single) = check.split_once('/').unwrap_or((check, ""));
    let ready = endpoint != "readyz" || server.is_ready();
    let verbose = Query::parse(query).get("verbose").is_some();
    let checks: &[(&str, bool)] = &[
        ("ping", true),
        ("etcd", true),
        ("poststarthook/start-watch-cache", ready),
    ];
    if !verbose {
        return if ready {
            text_response(200, "ok")
        } else {
            text_response(500, format!("[-]poststarthook/start-watch-cache failed: not finished\n{endpoint} check failed"))
        };
    }
    let mut text = String::new();
    for (name, ok) in checks {
        if *ok {
            text.push_str(&format!("[+]{name} ok\n"));
        } else {
            text.push_str(&format!("[-]{name} failed: reason withheld\n"));
        }
    }
    if ready {
        text.push_str(&format!("{endpoint} check passed\n"));
        text_response(200, text)
    } else {
        text.push_str(&format!("{endpoint} check failed\n"));
        text_response(500, text)
    }
}

/// Endpoints that need an authenticated caller.
pub fn handle_authenticated(
    server: &ApiServer,
    ctx: &RequestContext,
    path: &str,
    headers: &HeaderMap,
) -> HttpResponse {
    match path {
        "/metrics" => {
            let objects: Vec<(String, usize)> = crate::registry::Registry::cached_resources()
                .into_iter()
                .filter_map(|r| {
                    let n = server.registry.cache.resource(&r)?.len();
                    Some((r, n))
                })
                .collect();
            let text = server
                .metrics
                .render(server.registry.cache.watcher_count(), &objects);
            bytes_response(
                200,
                "text/plain; version=0.0.4; charset=utf-8",
                Bytes::from(text),
            )
        }
        "/openapi/v2" | "/swagger.json" => {
            let accept = headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let wants_json =
                accept.is_empty() || accept.contains("application/json") || accept.contains("*/*");
            if !wants_json {
                return error_response(&ApiError::not_acceptable());
            }
            json_bytes_response(200, document_bytes(&api::openapi::v2()))
        }
        "/openapi/v3" | "/openapi/v3/" => {
            value_response(200, &api::openapi::v3_index("/openapi/v3"), Encoding::Json)
        }
        _ if path.starts_with("/openapi/v3/") => {
            let doc_path = path.trim_start_matches("/openapi/v3/");
            match api::openapi::v3_document(doc_path) {
                Some(document) => {
                    let mut response = json_bytes_response(200, document_bytes(&document));
                    if ctx.query.get("hash") == Some(document.hash.as_str()) {
                        response.headers_mut().insert(
                            http::header::CACHE_CONTROL,
                            http::HeaderValue::from_static("public, immutable"),
                        );
                    }
                    if let Ok(etag) = http::HeaderValue::from_str(&format!("\"{}\"", document.hash))
                    {
                        response.headers_mut().insert(http::header::ETAG, etag);
                    }
                    response
                }
                None => error_response(&not_found_path()),
            }
        }
        "/healthz" | "/livez" | "/readyz" | "/version" => handle(server, path, None),
        _ => error_response(&not_found_path()),
    }
}

/// A cached OpenAPI document as a body, without copying it.
fn document_bytes(document: &api::openapi::OpenApiDocument) -> Bytes {
    struct Shared(std::sync::Arc<Vec<u8>>);
    impl AsRef<[u8]> for Shared {
        fn as_ref(&self) -> &[u8] {
            self.0.as_slice()
        }
    }
    Bytes::from_owner(Shared(document.json.clone()))
}

fn not_found_path() -> ApiError {
    ApiError::resource_not_found()
}
