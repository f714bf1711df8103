//! Relaying an HTTP upgrade (WebSocket or SPDY) to the runtime's streaming server: forward the
//! request with its upgrade headers, answer the client with the runtime's 101, then copy bytes both
//! ways between the two upgraded connections.

use http::{header, HeaderValue, Request, Uri};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use super::body::{full_body, relayed_body, KubeletResponse};
use super::http_error::HttpError;

/// Headers that describe one hop only; the rest of the request goes to the runtime as it came.
fn is_hop_header(name: &header::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host" | "keep-alive" | "proxy-connection" | "te" | "trailer" | "transfer-encoding"
    )
}

/// The runtime URL's scheme, authority and path with the client's query, as upstream's
/// upgrade-aware proxy does.
fn target_uri(location: &str, query: Option<&str>) -> Result<(Uri, String), HttpError> {
    let uri: Uri = location
        .parse()
        .map_err(|e| HttpError::internal(format!("the runtime's stream URL {location:?}: {e}")))?;
    let authority = uri
        .authority()
        .ok_or_else(|| {
            HttpError::internal(format!("the runtime's stream URL {location:?} has no host"))
        })?
        .to_string();
    let path_and_query = match query.filter(|q| !q.is_empty()) {
        Some(query) => format!("{}?{query}", uri.path()),
        None => uri
            .path_and_query()
            .map_or_else(|| uri.path().to_string(), ToString::to_string),
    };
    let uri = path_and_query
        .parse()
        .map_err(|e| HttpError::internal(format!("stream path: {e}")))?;
    Ok((uri, authority))
}

/// Send `request` to `location` (an `http://` URL) and relay the answer, splicing upgrades.
pub async fn proxy_to_stream_server(
    mut request: Request<Incoming>,
    location: &str,
) -> Result<KubeletResponse, HttpError> {
    if location.starts_with("https://") {
        return Err(HttpError::internal(
            "stream URLs over https are not supported; the runtime must serve plain http",
        ));
    }
    let (uri, authority) = target_uri(location, request.uri().query())?;
    let address = if authority.contains(':') {
        authority.clone()
    } else {
        format!("{authority}:80")
    };
    let stream = tokio::net::TcpStream::connect(&address)
        .await
        .map_err(|e| {
            HttpError::internal(format!("connecting to the stream server {address}: {e}"))
        })?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| HttpError::internal(format!("stream server handshake: {e}")))?;
    tokio::spawn(async move {
        if let Err(error) = connection.with_upgrades().await {
            tracing::debug!(%error, "stream server connection ended");
        }
    });
    let client_upgrade = hyper::upgrade::on(&mut request);
    let mut forwarded = Request::builder().method(request.method().clone()).uri(uri);
    for (name, value) in request.headers() {
        if !is_hop_header(name) {
            forwarded = forwarded.header(name, value);
        }
    }
    if let Ok(host) = HeaderValue::from_str(&authority) {
        forwarded = forwarded.header(header::HOST, host);
    }
    let forwarded = forwarded
        .body(full_body(bytes::Bytes::new()))
        .map_err(|e| HttpError::internal(e.to_string()))?;
    let mut answer = sender
        .send_request(forwarded)
        .await
        .map_err(|e| HttpError::internal(format!("stream server request: {e}")))?;
    if answer.status() != http::StatusCode::SWITCHING_PROTOCOLS {
        let (parts, body) = answer.into_parts();
        return Ok(http::Response::from_parts(parts, relayed_body(body)));
    }
    let runtime_upgrade = hyper::upgrade::on(&mut answer);
    tokio::spawn(async move {
        let (client, runtime) = match tokio::try_join!(client_upgrade, runtime_upgrade) {
            Ok(pair) => pair,
            Err(error) => {
                tracing::debug!(%error, "stream upgrade failed");
                return;
            }
        };
        let mut client = TokioIo::new(client);
        let mut runtime = TokioIo::new(runtime);
        if let Err(error) = tokio::io::copy_bidirectional(&mut client, &mut runtime).await {
            tracing::debug!(%error, "stream relay ended");
        }
    });
    let (parts, _) = answer.into_parts();
    Ok(http::Response::from_parts(
        parts,
        full_body(bytes::Bytes::new()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_runtime_path_and_the_client_query() {
        let (uri, authority) = target_uri(
            "http://127.0.0.1:3456/exec/tok",
            Some("command=ls&output=1"),
        )
        .unwrap();
        assert_eq!(authority, "127.0.0.1:3456");
        assert_eq!(uri.to_string(), "/exec/tok?command=ls&output=1");
        let (uri, _) = target_uri("http://127.0.0.1:3456/portforward/tok?x=1", None).unwrap();
        assert_eq!(uri.to_string(), "/portforward/tok?x=1");
        assert!(target_uri("/relative", None).is_err());
    }
}
