//! Header rewriting between client and backend: hop-by-hop headers stay on their hop, the
//! backend learns the client through `X-Forwarded-*`.

use std::net::IpAddr;

use http::header::{
    HeaderName, HeaderValue, CONNECTION, PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, TE, TRAILER,
    TRANSFER_ENCODING, UPGRADE,
};
use http::HeaderMap;

const KEEP_ALIVE: &str = "keep-alive";
const PROXY_CONNECTION: &str = "proxy-connection";
const X_FORWARDED_FOR: &str = "x-forwarded-for";
const X_FORWARDED_PROTO: &str = "x-forwarded-proto";
const X_FORWARDED_HOST: &str = "x-forwarded-host";

/// Removes the headers RFC 9110 §7.6.1 reserves to one connection, and those `Connection` names.
pub fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        CONNECTION,
        TE,
        TRAILER,
        TRANSFER_ENCODING,
        UPGRADE,
        PROXY_AUTHENTICATE,
        PROXY_AUTHORIZATION,
        HeaderName::from_static(KEEP_ALIVE),
        HeaderName::from_static(PROXY_CONNECTION),
    ] {
        headers.remove(name);
    }
}

/// Appends the client to `X-Forwarded-For` and sets `X-Forwarded-Proto` and `X-Forwarded-Host`.
pub fn add_forwarded(headers: &mut HeaderMap, client: IpAddr, scheme: &str, host: &str) {
    let forwarded_for = match headers
        .get(X_FORWARDED_FOR)
        .and_then(|value| value.to_str().ok())
    {
        Some(earlier) if !earlier.trim().is_empty() => format!("{earlier}, {client}"),
        _ => client.to_string(),
    };
    let pairs = [
        (X_FORWARDED_FOR, forwarded_for.as_str()),
        (X_FORWARDED_PROTO, scheme),
        (X_FORWARDED_HOST, host),
    ];
    for (name, value) in pairs {
        match HeaderValue::from_str(value) {
            Ok(value) => {
                headers.insert(HeaderName::from_static(name), value);
            }
            Err(_) => {
                headers.remove(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_hop_by_hop_headers_and_those_connection_names() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONNECTION,
            HeaderValue::from_static("keep-alive, x-private"),
        );
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert("x-private", HeaderValue::from_static("1"));
        headers.insert(TE, HeaderValue::from_static("trailers"));
        headers.insert("accept", HeaderValue::from_static("*/*"));
        remove_hop_by_hop(&mut headers);
        let left: Vec<_> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(left, ["accept"]);
    }

    #[test]
    fn appends_forwarded_for_and_sets_proto_and_host() {
        let mut headers = HeaderMap::new();
        headers.insert(X_FORWARDED_FOR, HeaderValue::from_static("192.0.2.1"));
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("ftp"));
        add_forwarded(
            &mut headers,
            "10.0.0.9".parse().unwrap(),
            "https",
            "a.example",
        );
        assert_eq!(headers[X_FORWARDED_FOR], "192.0.2.1, 10.0.0.9");
        assert_eq!(headers[X_FORWARDED_PROTO], "https");
        assert_eq!(headers[X_FORWARDED_HOST], "a.example");
    }
}
