//! Recognizing and answering the upgrades the streaming server accepts: WebSocket (RFC 6455,
//! with a subprotocol) and SPDY/3.1.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

pub type Body = Full<Bytes>;

/// The header Kubernetes' SPDY upgrades negotiate their protocol with.
pub const STREAM_PROTOCOL_HEADER: &str = "X-Stream-Protocol-Version";

fn upgrade_is(headers: &HeaderMap, wanted: &str) -> bool {
    headers
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(wanted))
}

pub fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    upgrade_is(headers, "websocket") && headers.contains_key(header::SEC_WEBSOCKET_KEY)
}

pub fn is_spdy_upgrade(headers: &HeaderMap) -> bool {
    upgrade_is(headers, "SPDY/3.1")
}

/// The subprotocols the client offers, in its order.
pub fn offered_subprotocols(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The values of `X-Stream-Protocol-Version` the client offers.
pub fn offered_stream_protocols(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(STREAM_PROTOCOL_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .collect()
}

/// `101 Switching Protocols` for a WebSocket with `subprotocol`.
pub fn websocket_accepted(headers: &HeaderMap, subprotocol: &str) -> Response<Body> {
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|k| k.as_bytes())
        .unwrap_or_default();
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let out = response.headers_mut();
    out.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    out.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key)) {
        out.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Ok(protocol) = HeaderValue::from_str(subprotocol) {
        out.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    response
}

/// `101 Switching Protocols` to SPDY/3.1 speaking `stream_protocol`.
pub fn spdy_accepted(stream_protocol: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let out = response.headers_mut();
    out.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    out.insert(header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
    out.insert(
        STREAM_PROTOCOL_HEADER,
        HeaderValue::from_static(stream_protocol),
    );
    response
}

/// A plain-text error answer.
pub fn refused(status: StatusCode, message: impl Into<String>) -> Response<Body> {
    let mut response = Response::new(Body::from(message.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn recognizes_websocket_and_its_subprotocols() {
        let request = headers(&[
            ("upgrade", "websocket"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            (
                "sec-websocket-protocol",
                "v5.channel.k8s.io, v4.channel.k8s.io",
            ),
            ("sec-websocket-protocol", "channel.k8s.io"),
        ]);
        assert!(is_websocket_upgrade(&request));
        assert!(!is_spdy_upgrade(&request));
        assert_eq!(
            offered_subprotocols(&request),
            ["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"]
        );
        let response = websocket_accepted(&request, "v5.channel.k8s.io");
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        // RFC 6455's own example.
        assert_eq!(
            response.headers()[header::SEC_WEBSOCKET_ACCEPT],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            response.headers()[header::SEC_WEBSOCKET_PROTOCOL],
            "v5.channel.k8s.io"
        );
    }

    #[test]
    fn recognizes_spdy() {
        let request = headers(&[
            ("connection", "Upgrade"),
            ("upgrade", "SPDY/3.1"),
            ("x-stream-protocol-version", "portforward.k8s.io"),
        ]);
        assert!(is_spdy_upgrade(&request));
        assert_eq!(offered_stream_protocols(&request), ["portforward.k8s.io"]);
        let response = spdy_accepted("portforward.k8s.io");
        assert_eq!(
            response.headers()[STREAM_PROTOCOL_HEADER],
            "portforward.k8s.io"
        );
    }
}
