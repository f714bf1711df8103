//! Relaying a kubelet's answer to the client: streamed bodies, error statuses turned into
//! `Status` objects (upstream's GenericHttpResponseChecker), and upgraded connections spliced.

use axum::body::Body;
use http::{Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use crate::http::response::HttpResponse;
use crate::status::ApiError;

/// Bytes of an error body read into a message.
const MAX_ERROR_BODY: usize = 4096;

async fn error_from(response: Response<Incoming>) -> ApiError {
    let code = response.status().as_u16();
    let mut text = Vec::new();
    let mut body = response.into_body();
    while text.len() < MAX_ERROR_BODY {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    text.extend_from_slice(data);
                }
            }
            _ => break,
        }
    }
    text.truncate(MAX_ERROR_BODY);
    let message = String::from_utf8_lossy(&text).trim().to_string();
    match code {
        400 => ApiError::bad_request(message),
        500 => ApiError::internal(message),
        _ => {
            let mut error = ApiError::internal(message);
            error.code = code;
            error.reason = match code {
                401 => "Unauthorized",
                403 => "Forbidden",
                404 => "NotFound",
                503 => "ServiceUnavailable",
                _ => "InternalError",
            };
            error
        }
    }
}

/// A 2xx answer streamed through as it arrives; anything else as a `Status`.
pub async fn relay_response(response: Response<Incoming>) -> Result<HttpResponse, ApiError> {
    if !response.status().is_success() {
        return Err(error_from(response).await);
    }
    let (parts, body) = response.into_parts();
    let mut relayed = Response::new(Body::new(body));
    *relayed.status_mut() = parts.status;
    for name in [http::header::CONTENT_TYPE, http::header::CONTENT_LENGTH] {
        if let Some(value) = parts.headers.get(&name) {
            relayed.headers_mut().insert(name, value.clone());
        }
    }
    Ok(relayed)
}

/// Answer the client with the kubelet's response; on 101, splice the two upgraded connections.
pub async fn relay_upgrade(
    client_upgrade: Option<OnUpgrade>,
    mut response: Response<Incoming>,
) -> Result<HttpResponse, ApiError> {
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        return relay_response(response).await;
    }
    let Some(client_upgrade) = client_upgrade else {
        return Err(ApiError::bad_request(
            "the connection cannot be upgraded (HTTP/1.1 is required)",
        ));
    };
    let kubelet_upgrade = hyper::upgrade::on(&mut response);
    tokio::spawn(async move {
        let (client, kubelet) = match tokio::try_join!(client_upgrade, kubelet_upgrade) {
            Ok(pair) => pair,
            Err(error) => {
                tracing::debug!(%error, "upgrade towards the kubelet failed");
                return;
            }
        };
        let mut client = TokioIo::new(client);
        let mut kubelet = TokioIo::new(kubelet);
        if let Err(error) = tokio::io::copy_bidirectional(&mut client, &mut kubelet).await {
            tracing::debug!(%error, "kubelet stream ended");
        }
    });
    let (parts, _) = response.into_parts();
    let mut answer = Response::new(Body::empty());
    *answer.status_mut() = parts.status;
    *answer.headers_mut() = parts.headers;
    Ok(answer)
}
