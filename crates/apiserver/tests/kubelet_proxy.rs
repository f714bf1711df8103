//! pods/log, pods/exec and nodes/proxy through the API server to a fake kubelet on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// A kubelet that answers logs with the path it was asked, and echoes upgraded streams.
async fn start_fake_kubelet() -> (SocketAddr, Arc<std::sync::Mutex<Vec<String>>>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
    )
    .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen_by_server = seen.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            let seen = seen_by_server.clone();
            tokio::spawn(async move {
                let tls = acceptor.accept(stream).await.unwrap();
                let service = hyper::service::service_fn(
                    move |mut request: hyper::Request<Incoming>| {
                        let seen = seen.clone();
                        async move {
                            let target = request.uri().to_string();
                            seen.lock()
                                .unwrap()
                                .push(format!("{} {target}", request.method()));
                            if request.headers().contains_key(http::header::UPGRADE) {
                                let upgrade = hyper::upgrade::on(&mut request);
                                tokio::spawn(async move {
                                    let mut io = TokioIo::new(upgrade.await.unwrap());
                                    let mut buf = [0u8; 64];
                                    loop {
                                        let n = io.read(&mut buf).await.unwrap_or(0);
                                        if n == 0 {
                                            break;
                                        }
                                        io.write_all(&buf[..n]).await.unwrap();
                                    }
                                });
                                let response = http::Response::builder()
                                    .status(101)
                                    .header("upgrade", "websocket")
                                    .header("connection", "Upgrade")
                                    .header("sec-websocket-protocol", "v5.channel.k8s.io")
                                    .body(Full::new(Bytes::new()))
                                    .unwrap();
                                return Ok::<_, std::convert::Infallible>(response);
                            }
                            if target.contains("previous=true") {
                                let response = http::Response::builder()
                                .status(400)
                                .body(Full::new(Bytes::from("previous terminated container \"app\" in pod \"web\" not found")))
                                .unwrap();
                                return Ok(response);
                            }
                            Ok(http::Response::new(Full::new(Bytes::from(format!(
                                "log line\n{target}\n"
                            )))))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    (address, seen)
}

struct Client {
    address: SocketAddr,
    tls: tokio_rustls::TlsConnector,
}

impl Client {
    fn admin(data_dir: &std::path::Path, address: SocketAddr, ca_pem: &str) -> Self {
        let tls_dir = data_dir.join("server").join("tls");
        let cert = std::fs::read(tls_dir.join("client-admin.crt")).unwrap();
        let key = std::fs::read(tls_dir.join("client-admin.key")).unwrap();
        let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert.as_slice())
            .collect::<Result<_, _>>()
            .unwrap();
        let key = rustls_pemfile::private_key(&mut key.as_slice())
            .unwrap()
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for ca in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
            roots.add(ca.unwrap()).unwrap();
        }
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self {
            address,
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        }
    }

    async fn connect(&self) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(self.address).await.unwrap();
        self.tls
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap()
    }

    async fn send(&self, method: &str, path: &str, body: serde_json::Value) -> (u16, String) {
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(self.connect().await))
                .await
                .unwrap();
        tokio::spawn(connection);
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}

#[tokio::test]
async fn logs_exec_and_node_proxy_reach_the_kubelet() {
    let data_dir = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let started = apiserver::run(
        apiserver::ServeOptions::loopback(data_dir.path()),
        cancel.clone(),
    )
    .await
    .unwrap();
    let (kubelet, seen) = start_fake_kubelet().await;
    let client = Client::admin(data_dir.path(), started.address, &started.ca_cert_pem);

    let node = serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}});
    let (code, body) = client.send("POST", "/api/v1/nodes", node).await;
    assert_eq!(code, 201, "{body}");
    let mut node: serde_json::Value = serde_json::from_str(&body).unwrap();
    node["status"] = serde_json::json!({
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet.port()}},
    });
    let (code, body) = client.send("PUT", "/api/v1/nodes/n1/status", node).await;
    assert_eq!(code, 200, "{body}");
    let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "busybox"}]}});
    let (code, body) = client
        .send("POST", "/api/v1/namespaces/default/pods", pod)
        .await;
    assert_eq!(code, 201, "{body}");

    let (code, body) = client
        .send(
            "GET",
            "/api/v1/namespaces/default/pods/web/log?tailLines=3&timestamps=true",
            serde_json::Value::Null,
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body,
        "log line\n/containerLogs/default/web/app?timestamps=true&tailLines=3\n"
    );

    let (code, body) = client
        .send(
            "GET",
            "/api/v1/namespaces/default/pods/web/log?previous=true",
            serde_json::Value::Null,
        )
        .await;
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("previous terminated container"), "{body}");

    let (code, body) = client
        .send(
            "GET",
            "/api/v1/namespaces/default/pods/web/log?container=nope",
            serde_json::Value::Null,
        )
        .await;
    assert_eq!(code, 400);
    assert!(
        body.contains("container nope is not valid for pod web"),
        "{body}"
    );

    let (code, body) = client
        .send(
            "GET",
            "/api/v1/nodes/n1/proxy/stats/summary",
            serde_json::Value::Null,
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("/stats/summary"), "{body}");

    // An upgrade is spliced: the kubelet's 101 comes back and bytes echo through.
    let mut stream = client.connect().await;
    let request = "GET /api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&stdin=true&stdout=true&tty=true HTTP/1.1\r\n\
Host: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.to_lowercase()
            .contains("sec-websocket-protocol: v5.channel.k8s.io"),
        "{head}"
    );
    stream.write_all(b"ping-through").await.unwrap();
    let mut echoed = [0u8; 12];
    stream.read_exact(&mut echoed).await.unwrap();
    assert_eq!(&echoed, b"ping-through");

    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter().any(
            |s| s == "GET /exec/default/web/app?command=sh&command=%2Dc&input=1&output=1&tty=1"
        ),
        "{seen:?}"
    );
    cancel.cancel();
}
