//! One request: route it, pick an endpoint, forward it, answer 404/502/503 where that fails.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::HOST;
use http::uri::{PathAndQuery, Uri};
use http::{HeaderValue, Request, Response, StatusCode, Version};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::headers::{add_forwarded, remove_hop_by_hop};
use crate::routing::{normalize_request_host, RoutingTable};
use crate::SwapCell;

pub type ProxyBody = BoxBody<Bytes, hyper::Error>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The protocol a client reached the proxy with, for `X-Forwarded-Proto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Https,
}

impl Protocol {
    fn scheme(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

pub struct Proxy {
    routes: Arc<SwapCell<RoutingTable>>,
    client: Client<HttpConnector, Incoming>,
}

impl Proxy {
    /// A proxy routing by whatever table `routes` holds at each request.
    pub fn new(routes: Arc<SwapCell<RoutingTable>>) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .build(connector);
        Self { routes, client }
    }

    pub async fn handle(
        &self,
        mut request: Request<Incoming>,
        client: SocketAddr,
        protocol: Protocol,
    ) -> Response<ProxyBody> {
        let Some(authority) = request_authority(&request) else {
            return text(StatusCode::BAD_REQUEST, "missing Host\n");
        };
        let host = normalize_request_host(&authority);
        let backend = self
            .routes
            .load()
            .route(&host, request.uri().path())
            .cloned();
        let Some(backend) = backend else {
            return text(StatusCode::NOT_FOUND, "default backend - 404\n");
        };
        let Some(endpoint) = backend.pick() else {
            tracing::debug!(backend = %backend.name(), "no ready endpoints");
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "503 Service Unavailable: no ready endpoints\n",
            );
        };
        let Ok(uri) = backend_uri(endpoint, request.uri().path_and_query()) else {
            return text(StatusCode::BAD_REQUEST, "bad request target\n");
        };
        *request.uri_mut() = uri;
        *request.version_mut() = Version::HTTP_11;
        let headers = request.headers_mut();
        remove_hop_by_hop(headers);
        if !headers.contains_key(HOST) {
            if let Ok(value) = HeaderValue::from_str(&authority) {
                headers.insert(HOST, value);
            }
        }
        add_forwarded(headers, client.ip(), protocol.scheme(), &authority);

        match self.client.request(request).await {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                remove_hop_by_hop(&mut parts.headers);
                Response::from_parts(parts, body.boxed())
            }
            Err(error) => {
                tracing::warn!(backend = %backend.name(), %endpoint, %error, "backend failed");
                text(StatusCode::BAD_GATEWAY, "502 Bad Gateway\n")
            }
        }
    }
}

/// `:authority` for HTTP/2 (and absolute-form HTTP/1.1 targets), else the `Host` header.
fn request_authority<B>(request: &Request<B>) -> Option<String> {
    if let Some(authority) = request.uri().authority() {
        return Some(authority.as_str().to_owned());
    }
    let host = request.headers().get(HOST)?.to_str().ok()?;
    (!host.is_empty()).then(|| host.to_owned())
}

fn backend_uri(endpoint: SocketAddr, path: Option<&PathAndQuery>) -> Result<Uri, http::Error> {
    Uri::builder()
        .scheme("http")
        .authority(endpoint.to_string())
        .path_and_query(path.map_or("/", PathAndQuery::as_str))
        .build()
}

fn text(status: StatusCode, body: &'static str) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
