//! The proxy for real, on loopback: backend HTTP servers on 127.0.0.2 and 127.0.0.3, the proxy
//! on 127.0.0.1, a routing table fed directly (no API server), clients speaking HTTP/1.1,
//! HTTP/2 and TLS with SNI.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use ingress::proxy::{serve_http, serve_https, Proxy};
use ingress::routing::{build_routing_table, RoutingTable};
use ingress::tls::{certified_key_from_pem, fallback_certificate, server_config, CertificateTable};
use ingress::SwapCell;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::ServerName;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;

/// An HTTP/1.1 server answering `<name> <host> <path> <x-forwarded-for> <x-forwarded-proto>
/// <x-forwarded-host>`.
async fn start_backend(ip: &str, name: &'static str) -> SocketAddr {
    let listener = TcpListener::bind((ip.parse::<IpAddr>().unwrap(), 0))
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| async move {
                    let header = |name: &str| {
                        request
                            .headers()
                            .get(name)
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or("-")
                            .to_owned()
                    };
                    let answer = format!(
                        "{name} {} {} {} {} {}",
                        header("host"),
                        request.uri().path(),
                        header("x-forwarded-for"),
                        header("x-forwarded-proto"),
                        header("x-forwarded-host"),
                    );
                    Ok::<_, Infallible>(http::Response::new(http_body_util::Full::new(
                        Bytes::from(answer),
                    )))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    address
}

fn service(name: &str) -> Arc<Service> {
    Arc::new(
        serde_json::from_value(json!({
            "metadata": {"namespace": "default", "name": name},
            "spec": {"ports": [{"name": "http", "port": 80}]},
        }))
        .unwrap(),
    )
}

fn slice(service: &str, endpoint: SocketAddr) -> Arc<EndpointSlice> {
    Arc::new(
        serde_json::from_value(json!({
            "metadata": {"namespace": "default", "name": format!("{service}-1"),
                         "labels": {"kubernetes.io/service-name": service}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": endpoint.port()}],
            "endpoints": [{"addresses": [endpoint.ip().to_string()], "conditions": {"ready": true}}],
        }))
        .unwrap(),
    )
}

fn ingress(a_service: &str) -> Arc<Ingress> {
    let path = |path: &str, kind: &str, service: &str| {
        json!({"path": path, "pathType": kind,
               "backend": {"service": {"name": service, "port": {"name": "http"}}}})
    };
    Arc::new(
        serde_json::from_value(json!({
            "metadata": {"namespace": "default", "name": "web"},
            "spec": {
                "tls": [{"hosts": ["a.example"], "secretName": "a-tls"}],
                "rules": [
                    {"host": "a.example", "http": {"paths": [
                        path("/", "Prefix", a_service),
                        path("/empty", "Exact", "empty"),
                        path("/dead", "Exact", "dead"),
                    ]}},
                    {"host": "b.example", "http": {"paths": [path("/path", "Prefix", "b")]}},
                ],
            },
        }))
        .unwrap(),
    )
}

struct Cluster {
    a: SocketAddr,
    b: SocketAddr,
    dead: SocketAddr,
}

impl Cluster {
    fn table(&self, a_service: &str) -> RoutingTable {
        build_routing_table(
            &[ingress(a_service)],
            &["a", "b", "empty", "dead"].map(service),
            &[
                slice("a", self.a),
                slice("b", self.b),
                slice("dead", self.dead),
            ],
        )
    }
}

/// A CA and a certificate for `a.example` it issued, as PEM.
fn issue_certificate() -> (rustls::pki_types::CertificateDer<'static>, String, String) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["a.example".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    (ca.der().clone(), leaf.pem(), leaf_key.serialize_pem())
}

async fn send_http1<S>(stream: S, request: Request<Empty<Bytes>>) -> (StatusCode, String)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    read(sender.send_request(request).await.unwrap()).await
}

async fn send_http2<S>(stream: S, request: Request<Empty<Bytes>>) -> (StatusCode, String)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    read(sender.send_request(request).await.unwrap()).await
}

async fn read(response: http::Response<Incoming>) -> (StatusCode, String) {
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn get_with_host(host: &str, path: &str) -> Request<Empty<Bytes>> {
    Request::get(path)
        .header("host", host)
        .body(Empty::new())
        .unwrap()
}

fn get_absolute(url: &str) -> Request<Empty<Bytes>> {
    Request::get(url)
        .version(http::Version::HTTP_2)
        .body(Empty::new())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_http1_http2_and_tls_by_host_path_and_sni() {
    let a = start_backend("127.0.0.2", "backend-a").await;
    let b = start_backend("127.0.0.3", "backend-b").await;
    // Nothing listens there: bound and closed again.
    let dead = TcpListener::bind("127.0.0.4:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let cluster = Cluster { a, b, dead };

    let routes = Arc::new(SwapCell::new(cluster.table("a")));
    let (ca, leaf_pem, key_pem) = issue_certificate();
    let fallback = Arc::new(fallback_certificate().unwrap());
    let mut certificates = CertificateTable::builder(fallback);
    certificates.add(
        &["a.example".to_owned()],
        Arc::new(certified_key_from_pem(leaf_pem.as_bytes(), key_pem.as_bytes()).unwrap()),
    );
    let certificates = Arc::new(SwapCell::new(certificates.build()));

    let cancel = CancellationToken::new();
    let proxy = Arc::new(Proxy::new(Arc::clone(&routes)));
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let https = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (http_address, https_address) = (http.local_addr().unwrap(), https.local_addr().unwrap());
    tokio::spawn(serve_http(http, Arc::clone(&proxy), cancel.clone()));
    tokio::spawn(serve_https(
        https,
        proxy,
        server_config(certificates).unwrap(),
        cancel.clone(),
    ));
    let connect = || async { TcpStream::connect(http_address).await.unwrap() };

    // HTTP/1.1 by Host header.
    let (status, body) = send_http1(connect().await, get_with_host("a.example", "/x")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "backend-a a.example /x 127.0.0.1 http a.example");
    let (status, body) =
        send_http1(connect().await, get_with_host("b.example:80", "/path/y")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        "backend-b b.example:80 /path/y 127.0.0.1 http b.example:80"
    );
    let (status, _) = send_http1(connect().await, get_with_host("b.example", "/pathology")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send_http1(connect().await, get_with_host("a.example", "/empty")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _) = send_http1(connect().await, get_with_host("a.example", "/dead")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);

    // HTTP/2 with prior knowledge: the host comes from :authority, the backend gets a Host.
    let (status, body) = send_http2(connect().await, get_absolute("http://b.example/path")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "backend-b b.example /path 127.0.0.1 http b.example");

    // TLS: SNI a.example gets the certificate the CA issued; ALPN picks h2.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    client_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = TlsConnector::from(Arc::new(client_config));
    let tls_connect = |name: &'static str| {
        let connector = connector.clone();
        async move {
            let tcp = TcpStream::connect(https_address).await.unwrap();
            connector
                .connect(ServerName::try_from(name).unwrap(), tcp)
                .await
        }
    };
    let stream = tls_connect("a.example").await.unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (status, body) = send_http2(stream, get_absolute("https://a.example/secure")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        "backend-a a.example /secure 127.0.0.1 https a.example"
    );

    // Any other name gets the self-signed fallback, which this client does not trust.
    assert!(tls_connect("b.example").await.is_err());

    // A new table applies to the next request of a connection that stays open.
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(connect().await))
            .await
            .unwrap();
    tokio::spawn(connection);
    let response = sender
        .send_request(get_with_host("a.example", "/"))
        .await
        .unwrap();
    assert!(read(response).await.1.starts_with("backend-a"));
    routes.store(cluster.table("b"));
    sender.ready().await.unwrap();
    let response = sender
        .send_request(get_with_host("a.example", "/"))
        .await
        .unwrap();
    assert!(read(response).await.1.starts_with("backend-b"));

    cancel.cancel();
}
