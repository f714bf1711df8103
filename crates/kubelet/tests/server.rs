//! The kubelet's HTTPS server against a fake CRI runtime and log files in a temporary directory,
//! called with a client certificate signed by a test CA.

#[allow(dead_code)]
mod fake_cri;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use fake_cri::{FakeContainer, FakeRuntime};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use k8s_cri::v1 as cri;
use kubelet::server::access::Access;
use kubelet::server::authorization::{AccessRequest, AccessReview, RequestAuthorizer};
use kubelet::server::client_identity::ClientIdentity;
use kubelet::server::token_review::{TokenAuthenticator, TokenReviewer};
use kubelet::server::{CertificatePair, ServerOptions};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_util::sync::CancellationToken;

/// Knows one bearer token: a monitoring service account's.
struct OneToken;

#[async_trait::async_trait]
impl TokenReviewer for OneToken {
    async fn review(&self, token: &str) -> Result<Option<ClientIdentity>, kubelet::KubeletError> {
        Ok((token == "scraper-token").then(|| ClientIdentity {
            name: "system:serviceaccount:monitoring:scraper".into(),
            groups: vec!["system:serviceaccounts".into()],
        }))
    }
}

/// Allows one user everything and records every question.
struct OnlyUser(&'static str, Mutex<Vec<AccessRequest>>);

#[async_trait::async_trait]
impl AccessReview for OnlyUser {
    async fn allowed(&self, request: &AccessRequest) -> Result<bool, kubelet::KubeletError> {
        self.1.lock().unwrap().push(request.clone());
        Ok(request.user.name == self.0)
    }
}

struct TestCa {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

impl TestCa {
    fn new() -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "test-ca");
        let cert = params.self_signed(&key).unwrap();
        Self { cert, key }
    }

    fn issue(&self, params: rcgen::CertificateParams) -> CertificatePair {
        let key = rcgen::KeyPair::generate().unwrap();
        let issuer = rcgen::Issuer::from_ca_cert_der(self.cert.der(), &self.key).unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        CertificatePair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

fn parse_pair(pair: &CertificatePair) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let certs = rustls_pemfile::certs(&mut pair.cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = rustls_pemfile::private_key(&mut pair.key_pem.as_bytes())
        .unwrap()
        .unwrap();
    (certs, key)
}

async fn get(
    address: SocketAddr,
    ca: &TestCa,
    client: Option<&CertificatePair>,
    path: &str,
) -> (u16, String) {
    get_with_token(address, ca, client, None, path).await
}

async fn get_with_token(
    address: SocketAddr,
    ca: &TestCa,
    client: Option<&CertificatePair>,
    token: Option<&str>,
    path: &str,
) -> (u16, String) {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert.der().clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let config = match client {
        Some(pair) => {
            let (certs, key) = parse_pair(pair);
            builder.with_client_auth_cert(certs, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::IpAddress(address.ip().into()), tcp)
        .await
        .unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut request = http::Request::builder().uri(path).header("host", "kubelet");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(Empty::<Bytes>::new()).unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn running_container(runtime: &FakeRuntime, id: &str) {
    let labels = HashMap::from([
        (
            "io.kubernetes.pod.namespace".to_string(),
            "default".to_string(),
        ),
        ("io.kubernetes.pod.name".to_string(), "web".to_string()),
        (
            "io.kubernetes.container.name".to_string(),
            "app".to_string(),
        ),
    ]);
    let container = FakeContainer {
        sandbox_id: "sandbox1".into(),
        config: cri::ContainerConfig {
            metadata: Some(cri::ContainerMetadata {
                name: "app".into(),
                attempt: 1,
            }),
            labels,
            ..Default::default()
        },
        state: cri::ContainerState::ContainerRunning,
        exit_code: 0,
        created_at: 1,
        started_at: 1,
        finished_at: 0,
    };
    runtime
        .state
        .lock()
        .unwrap()
        .containers
        .insert(id.to_string(), container);
}

#[tokio::test]
async fn logs_stats_and_authentication() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("cri.sock");
    let cancel = CancellationToken::new();
    let runtime = FakeRuntime::default();
    runtime.serve(&socket, cancel.clone()).await;
    running_container(&runtime, "c1");
    let cri = kubelet::CriClient::connect(&socket).await.unwrap();

    let logs = dir.path().join("logs");
    let container_dir = logs.join("default_web_uid-1").join("app");
    std::fs::create_dir_all(&container_dir).unwrap();
    std::fs::write(
        container_dir.join("0.log"),
        "2024-01-01T00:00:00Z stdout F before restart\n",
    )
    .unwrap();
    let current = container_dir.join("1.log");
    std::fs::write(
        &current,
        "2024-01-01T00:00:01Z stdout F first\n2024-01-01T00:00:02Z stderr P sec\n2024-01-01T00:00:02Z stderr F ond\n",
    )
    .unwrap();

    let ca = Arc::new(TestCa::new());
    let mut serving = rcgen::CertificateParams::new(vec!["kubelet".to_string()]).unwrap();
    serving
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let serving = ca.issue(serving);
    let mut client = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    client
        .distinguished_name
        .push(rcgen::DnType::CommonName, "kube-apiserver-kubelet-client");
    let client = ca.issue(client);

    let options = ServerOptions {
        bind_address: "127.0.0.1".parse().unwrap(),
        port: 0,
        node_name: "n1".into(),
        node_ip: "127.0.0.1".parse().unwrap(),
        serving_cert: Some(serving),
        client_ca_pem: ca.cert.pem(),
        pod_log_dir: logs.clone(),
    };
    let server = kubelet::server::bind(options).await.unwrap();
    let address = server.local_addr().unwrap();
    let access = Arc::new(OnlyUser(
        "kube-apiserver-kubelet-client",
        Default::default(),
    ));
    let caller_access = Arc::new(Access {
        tokens: TokenAuthenticator::new(Arc::new(OneToken)),
        authorizer: RequestAuthorizer::new(access.clone(), "n1"),
    });
    tokio::spawn(server.run(cri, caller_access, cancel.clone()));

    let (code, body) = get(address, &ca, None, "/containerLogs/default/web/app").await;
    assert_eq!((code, body.as_str()), (401, "Unauthorized"));
    // A bearer token the API server does not know is nobody; a known one is its account, which
    // is then authorized like any caller.
    let path = "/containerLogs/default/web/app";
    let (code, _) = get_with_token(address, &ca, None, Some("forged"), path).await;
    assert_eq!(code, 401);
    let (code, body) = get_with_token(address, &ca, None, Some("scraper-token"), path).await;
    assert_eq!(
        (code, body.as_str()),
        (
            403,
            "Forbidden (user=system:serviceaccount:monitoring:scraper, verb=get, resource=nodes, subresource(s)=[proxy])\n"
        )
    );

    // Another node's certificate authenticates, but may not reach this node's pods.
    let mut other_node = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    other_node
        .distinguished_name
        .push(rcgen::DnType::CommonName, "system:node:n2");
    other_node
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "system:nodes");
    let other_node = ca.issue(other_node);
    let (code, body) = get(
        address,
        &ca,
        Some(&other_node),
        "/containerLogs/default/web/app",
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (
            403,
            "Forbidden (user=system:node:n2, verb=get, resource=nodes, subresource(s)=[proxy])\n"
        )
    );
    let asked = access.1.lock().unwrap().clone();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert_eq!(
        asked[0].user.name,
        "system:serviceaccount:monitoring:scraper"
    );
    assert_eq!(
        asked[1..],
        [AccessRequest {
            user: ClientIdentity {
                name: "system:node:n2".into(),
                groups: vec!["system:nodes".into()],
            },
            verb: "get".into(),
            subresource: "proxy".into(),
            node: "n1".into(),
        }]
    );

    let c = Some(&client);
    assert_eq!(get(address, &ca, c, "/healthz").await, (200, "ok".into()));
    let (code, body) = get(address, &ca, c, "/containerLogs/default/web/app").await;
    assert_eq!((code, body.as_str()), (200, "first\nsecond\n"));
    let (_, body) = get(
        address,
        &ca,
        c,
        "/containerLogs/default/web/app?tailLines=1&timestamps=true",
    )
    .await;
    assert_eq!(body, "2024-01-01T00:00:02Z second\n");
    let (_, body) = get(
        address,
        &ca,
        c,
        "/containerLogs/default/web/app?previous=true",
    )
    .await;
    assert_eq!(body, "before restart\n");
    let (_, body) = get(
        address,
        &ca,
        c,
        "/containerLogs/default/web/app?sinceTime=2024-01-01T00%3A00%3A02Z&limitBytes=3",
    )
    .await;
    assert_eq!(body, "sec");
    let (code, body) = get(address, &ca, c, "/containerLogs/default/other/app").await;
    assert_eq!(code, 404, "{body}");

    // follow: lines appended while the container runs arrive; the stream ends when it exits.
    let follower = {
        let client = client.clone();
        let ca_ref = ca.clone();
        tokio::spawn(async move {
            get(
                address,
                &ca_ref,
                Some(&client),
                "/containerLogs/default/web/app?follow=true&tailLines=0",
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&current)
            .unwrap();
        file.write_all(b"2024-01-01T00:00:03Z stdout F third\n")
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    runtime
        .state
        .lock()
        .unwrap()
        .containers
        .get_mut("c1")
        .unwrap()
        .state = cri::ContainerState::ContainerExited;
    let (code, body) = tokio::time::timeout(Duration::from_secs(10), follower)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((code, body.as_str()), (200, "third\n"));

    let (code, body) = get(address, &ca, c, "/stats/summary").await;
    assert_eq!(code, 200, "{body}");
    let summary: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(summary["node"]["nodeName"], "n1");
    assert!(summary["node"]["memory"]["availableBytes"]
        .as_u64()
        .is_some());
    cancel.cancel();
}
