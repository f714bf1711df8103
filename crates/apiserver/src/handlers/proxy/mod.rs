//! Requests the API server passes on to a kubelet: `pods/log`, `pods/exec`, `pods/attach`,
//! `pods/portforward` and `nodes/proxy`. The pod (or node) is read from storage, the node's kubelet
//! address found, and the rewritten request sent over TLS with the kubelet client certificate;
//! answers stream back, upgrades (WebSocket or SPDY) are spliced byte for byte.

mod kubelet_client;
mod node_address;
mod pod_location;
mod relay;

use std::net::SocketAddr;

use bytes::Bytes;
use http::{header, HeaderMap, Method, Request};
use http_body_util::Empty;
use serde_json::Value;

pub use kubelet_client::{KubeletClient, KubeletClientError};
use pod_location::StreamKind;

use crate::http::response::HttpResponse;
use crate::request_info::ResourceRequest;
use crate::server::{ApiServer, RequestContext};
use crate::status::ApiError;

/// Whether the kubelet serves this request.
pub fn is_kubelet_proxied(request: &ResourceRequest) -> bool {
    let sub = request.subresource.as_deref();
    request.group.is_empty()
        && match request.resource.as_str() {
            "pods" => matches!(sub, Some("log" | "exec" | "attach" | "portforward")),
            "nodes" => sub == Some("proxy"),
            _ => false,
        }
}

async fn read_object(
    server: &ApiServer,
    plural: &str,
    namespace: Option<&str>,
    name: &str,
) -> Result<Value, ApiError> {
    let info = api::catalog::find("", "v1", plural).ok_or_else(ApiError::resource_not_found)?;
    Ok(server
        .registry
        .store
        .get(info, namespace, name)
        .await?
        .object)
}

async fn node_kubelet(server: &ApiServer, node: &str) -> Result<SocketAddr, ApiError> {
    let node = read_object(server, "nodes", None, node).await?;
    node_address::kubelet_address(&node)
}

/// The headers an upgrade needs on its way to the kubelet.
fn forwarded_headers(from: &HeaderMap) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in from {
        let keep = matches!(
            name.as_str(),
            "upgrade"
                | "connection"
                | "x-stream-protocol-version"
                | "user-agent"
                | "accept"
                | "origin"
        ) || name.as_str().starts_with("sec-websocket-");
        if keep {
            headers.append(name.clone(), value.clone());
        }
    }
    headers
}

fn kubelet_request(
    method: Method,
    address: SocketAddr,
    path: &str,
    headers: HeaderMap,
) -> Result<Request<Empty<Bytes>>, ApiError> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .body(Empty::new())
        .map_err(|e| ApiError::internal(format!("kubelet request: {e}")))?;
    *request.headers_mut() = headers;
    let host = http::HeaderValue::from_str(&address.to_string())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    request.headers_mut().insert(header::HOST, host);
    Ok(request)
}

fn client(server: &ApiServer) -> Result<&KubeletClient, ApiError> {
    server.kubelet_client.as_ref().ok_or_else(|| {
        ApiError::service_unavailable("this server has no kubelet client certificate")
    })
}

/// Serve a request `is_kubelet_proxied` accepted.
pub async fn handle<B>(
    server: &ApiServer,
    ctx: &RequestContext,
    resource: ResourceRequest,
    mut request: Request<B>,
) -> Result<HttpResponse, ApiError> {
    let name = resource.name.clone().unwrap_or_default();
    let namespace = resource.namespace.clone().unwrap_or_default();
    let raw_query = request.uri().query().map(str::to_string);
    let client_upgrade = request
        .extensions_mut()
        .remove::<hyper::upgrade::OnUpgrade>();
    let headers = forwarded_headers(request.headers());
    match (resource.resource.as_str(), resource.subresource.as_deref()) {
        ("nodes", _) => {
            if ctx.method != Method::GET {
                return Err(ApiError::method_not_allowed());
            }
            let address = node_kubelet(server, &name).await?;
            let path = node_proxy_path(request.uri().path(), &name, raw_query.as_deref());
            let response = client(server)?
                .send(
                    address,
                    kubelet_request(Method::GET, address, &path, headers)?,
                )
                .await?;
            relay::relay_upgrade(client_upgrade, response).await
        }
        ("pods", Some("log")) => {
            if ctx.method != Method::GET {
                return Err(ApiError::method_not_allowed());
            }
            let pod = read_object(server, "pods", Some(&namespace), &name).await?;
            let container = pod_location::resolve_container(&pod, ctx.query.get("container"))?;
            if let Some(message) =
                pod_location::log_status_error(&pod, &container, ctx.query.flag("previous"))
            {
                return Err(ApiError::bad_request(message));
            }
            let Some(node) = pod_location::node_name(&pod) else {
                // Upstream answers an unscheduled pod's log with nothing.
                return Ok(crate::http::response::text_response(200, ""));
            };
            let address = node_kubelet(server, node).await?;
            let path = pod_location::log_path(&namespace, &name, &container, &ctx.query)?;
            let response = client(server)?
                .send(
                    address,
                    kubelet_request(Method::GET, address, &path, HeaderMap::new())?,
                )
                .await?;
            relay::relay_response(response).await
        }
        ("pods", Some(sub)) => {
            let pod = read_object(server, "pods", Some(&namespace), &name).await?;
            let Some(node) = pod_location::node_name(&pod) else {
                return Err(ApiError::bad_request(format!(
                    "pod {name} does not have a host assigned"
                )));
            };
            let path = match sub {
                "portforward" => {
                    pod_location::port_forward_path(&namespace, &name, raw_query.as_deref())
                }
                _ => {
                    let kind = if sub == "exec" {
                        StreamKind::Exec
                    } else {
                        StreamKind::Attach
                    };
                    let container =
                        pod_location::resolve_container(&pod, ctx.query.get("container"))?;
                    pod_location::stream_path(
                        kind,
                        &namespace,
                        &name,
                        &container,
                        raw_query.as_deref(),
                        &ctx.query,
                    )
                }
            };
            let address = node_kubelet(server, node).await?;
            // Upstream's kubelet accepts the upgrade on GET and POST alike; kubectl sends GET for
            // WebSocket and POST for SPDY.
            let method = ctx.method.clone();
            let response = client(server)?
                .send(address, kubelet_request(method, address, &path, headers)?)
                .await?;
            relay::relay_upgrade(client_upgrade, response).await
        }
        _ => Err(ApiError::resource_not_found()),
    }
}

/// `/api/v1/nodes/{name}/proxy/{rest}` → `/{rest}` with the query.
fn node_proxy_path(path: &str, node: &str, query: Option<&str>) -> String {
    let marker = format!("/nodes/{node}/proxy");
    let rest = path
        .find(&marker)
        .map(|at| &path[at + marker.len()..])
        .unwrap_or("");
    let rest = if rest.is_empty() { "/" } else { rest };
    match query.filter(|q| !q.is_empty()) {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_proxy_paths() {
        assert_eq!(
            node_proxy_path("/api/v1/nodes/n1/proxy/stats/summary", "n1", None),
            "/stats/summary"
        );
        assert_eq!(
            node_proxy_path("/api/v1/nodes/n1/proxy", "n1", Some("a=b")),
            "/?a=b"
        );
    }
}
