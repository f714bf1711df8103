//! httpGet probes and hooks: one GET over HTTP or HTTPS (certificates not verified), following
//! redirects only to the same host.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::tcp::{connect_error, join_host_port};

/// Upstream's redirect limit.
const MAX_REDIRECTS: usize = 10;

/// A request to make.
#[derive(Debug, Clone)]
pub struct HttpTarget {
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// Path with query, starting with `/`.
    pub path: String,
    pub headers: Vec<(String, String)>,
}

/// How a GET ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpOutcome {
    /// A final status code (after redirects followed).
    Status(u16),
    /// A redirect to another host, not followed (upstream: a probe warning, counted as success).
    OffHostRedirect(u16),
}

impl HttpTarget {
    fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!(
            "{scheme}://{}{}",
            join_host_port(&self.host, self.port),
            self.path
        )
    }
}

/// GETs `target` within `timeout`; `Err` carries Go's client error text.
pub async fn http_get(target: &HttpTarget, timeout: Duration) -> Result<HttpOutcome, String> {
    let url = target.url();
    match tokio::time::timeout(timeout, follow(target.clone())).await {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(e)) => Err(format!("Get \"{url}\": {e}")),
        Err(_) => Err(format!(
            "Get \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        )),
    }
}

async fn follow(mut target: HttpTarget) -> Result<HttpOutcome, String> {
    for _ in 0..=MAX_REDIRECTS {
        let (status, location) = get_once(&target).await?;
        let Some(location) = location.filter(|_| (300..400).contains(&status)) else {
            return Ok(HttpOutcome::Status(status));
        };
        match redirect_target(&target, &location) {
            Some(next) => target = next,
            None => return Ok(HttpOutcome::OffHostRedirect(status)),
        }
    }
    Err("stopped after 10 redirects".to_string())
}

/// The request a `Location` leads to, when it stays on the same host.
fn redirect_target(current: &HttpTarget, location: &str) -> Option<HttpTarget> {
    if location.starts_with('/') {
        return Some(HttpTarget {
            path: location.to_string(),
            ..current.clone()
        });
    }
    let uri: http::Uri = location.parse().ok()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    if host != current.host {
        return None;
    }
    let https = uri.scheme_str() == Some("https");
    Some(HttpTarget {
        https,
        host: current.host.clone(),
        port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
        path: uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
        headers: current.headers.clone(),
    })
}

async fn get_once(target: &HttpTarget) -> Result<(u16, Option<String>), String> {
    let address = join_host_port(&target.host, target.port);
    let stream = TcpStream::connect(&address)
        .await
        .map_err(|e| format!("dial tcp {address}: {}", connect_error(&e)))?;
    let request = build_request(target)?;
    if target.https {
        let connector = tokio_rustls::TlsConnector::from(insecure_tls_config()?);
        let server_name = rustls::pki_types::ServerName::try_from(target.host.clone())
            .map_err(|e| e.to_string())?;
        let tls = connector
            .connect(server_name, stream)
            .await
            .map_err(|e| e.to_string())?;
        send(TokioIo::new(tls), request).await
    } else {
        send(TokioIo::new(stream), request).await
    }
}

async fn send<IO>(
    io: IO,
    request: http::Request<Empty<Bytes>>,
) -> Result<(u16, Option<String>), String>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string());
    let result = match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            // Upstream reads (up to 10 KiB of) the body; draining lets the server finish cleanly.
            let _ = response.into_body().collect().await;
            Ok((status, location))
        }
        Err(e) => Err(e),
    };
    driver.abort();
    result
}

fn build_request(target: &HttpTarget) -> Result<http::Request<Empty<Bytes>>, String> {
    let mut builder = http::Request::get(target.path.as_str());
    let mut has_host = false;
    let mut has_user_agent = false;
    let mut has_accept = false;
    for (name, value) in &target.headers {
        has_host |= name.eq_ignore_ascii_case("host");
        has_user_agent |= name.eq_ignore_ascii_case("user-agent");
        has_accept |= name.eq_ignore_ascii_case("accept");
        builder = builder.header(name.as_str(), value.as_str());
    }
    if !has_host {
        builder = builder.header(
            http::header::HOST,
            join_host_port(&target.host, target.port),
        );
    }
    if !has_user_agent {
        builder = builder.header(http::header::USER_AGENT, "kube-probe/1.33");
    }
    if !has_accept {
        builder = builder.header(http::header::ACCEPT, "*/*");
    }
    builder.body(Empty::new()).map_err(|e| e.to_string())
}

/// Probes do not verify the container's certificate (upstream sets InsecureSkipVerify).
fn insecure_tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &rustls::pki_types::CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &rustls::pki_types::CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Answers each connection with the response `respond` gives for the request path.
    async fn serve(respond: fn(&str) -> String) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let n = stream.read(&mut buf).await.unwrap();
                    let request = String::from_utf8_lossy(&buf[..n]).to_string();
                    let path = request.split(' ').nth(1).unwrap_or("/").to_string();
                    let _ = stream.write_all(respond(&path).as_bytes()).await;
                });
            }
        });
        port
    }

    fn target(port: u16, path: &str) -> HttpTarget {
        HttpTarget {
            https: false,
            host: "127.0.0.1".into(),
            port,
            path: path.into(),
            headers: vec![("X-Test".into(), "1".into())],
        }
    }

    fn reply(path: &str) -> String {
        match path {
            "/ok" => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".into(),
            "/bad" => "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".into(),
            "/moved" => "HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 0\r\n\r\n".into(),
            _ => "HTTP/1.1 301 Moved\r\nLocation: http://example.invalid/\r\nContent-Length: 0\r\n\r\n"
                .into(),
        }
    }

    #[tokio::test]
    async fn statuses_and_redirects() {
        let port = serve(reply).await;
        let t = Duration::from_secs(2);
        assert_eq!(
            http_get(&target(port, "/ok"), t).await,
            Ok(HttpOutcome::Status(200))
        );
        assert_eq!(
            http_get(&target(port, "/bad"), t).await,
            Ok(HttpOutcome::Status(500))
        );
        assert_eq!(
            http_get(&target(port, "/moved"), t).await,
            Ok(HttpOutcome::Status(200))
        );
        assert_eq!(
            http_get(&target(port, "/elsewhere"), t).await,
            Ok(HttpOutcome::OffHostRedirect(301))
        );
    }

    #[tokio::test]
    async fn refused_connection_message() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        assert_eq!(
            http_get(&target(port, "/x"), Duration::from_secs(1)).await,
            Err(format!(
                "Get \"http://127.0.0.1:{port}/x\": dial tcp 127.0.0.1:{port}: connect: connection refused"
            ))
        );
    }
}
